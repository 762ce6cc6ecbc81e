"""The append-only file's format, sans-IO: commands in, bytes out, and back.

The file is a sequence of chunks, one per flush of the table owner (every write of one round of
batches, a MULTI/EXEC block always within one chunk)::

    #respserver:<payload length>:<crc32 of the payload, 8 hex digits>\\r\\n
    <payload: RESP arrays of bulk strings, the commands, SELECT included>

Redis 7 skips lines that start with ``#`` in an AOF (its annotations), so it loads these files
too. The header makes damage visible: a chunk cut short is a torn write (the process or the
machine stopped mid-write; with ``aof-load-truncated`` the tail is dropped), and a checksum that
does not match means the bytes changed. A bad checksum in the last chunk is also treated as a
torn write, since after a power failure a file can end in blocks that were allocated but never
written; anywhere else it is corruption, and loading stops. So is a damaged header, even the last
one: a file that is not a respserver AOF at all must not be cut to nothing.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import hiredis

from respserver.keyspace.lists import ListValue
from respserver.keyspace.sets import SetValue
from respserver.keyspace.streams import StreamValue, format_id
from respserver.keyspace.zsets import ZSetValue
from respserver.resp.encoder import encode_into, format_double

HEADER = b"#respserver:%d:%08x\r\n"
_HEADER = re.compile(rb"#respserver:([0-9]{1,12}):([0-9a-f]{8})\r\n")
_MAX_HEADER = 40  # bytes: more than the longest header line


def chunk(payload: bytes | bytearray) -> bytes:
    """``payload`` framed as one chunk: header line, then the payload."""
    return HEADER % (len(payload), zlib.crc32(payload)) + payload


def encode_commands(out: bytearray, commands: list[list[bytes]]) -> None:
    """Append ``commands`` to ``out`` as RESP arrays of bulk strings."""
    for argv in commands:
        encode_into(out, argv, False)


class AofError(Exception):
    """The file cannot be loaded past ``offset`` (damage that is not a torn tail)."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"{reason} at offset {offset}")
        self.reason, self.offset = reason, offset


@dataclass
class Truncated:
    """Where the intact part of a file ends, and why the rest was not loaded."""

    offset: int
    reason: str


def read_chunks(file: BinaryIO, size: int) -> Iterator[tuple[int, list[list[bytes]]] | Truncated]:
    """The commands of each intact chunk, with the offset where the chunk ends, in file order.

    A torn tail ends the iteration with a ``Truncated``; other damage raises AofError. ``size``
    is the file's length (what a torn tail is measured against)."""
    offset = 0
    while offset < size:
        file.seek(offset)
        line = file.read(_MAX_HEADER)
        match = _HEADER.match(line)
        if match is None:
            if b"\n" not in line and offset + len(line) >= size:
                yield Truncated(offset, "the last chunk's header is cut short")
                return
            raise AofError("not a respserver AOF chunk header", offset)
        length, crc = int(match[1]), int(match[2], 16)
        start = offset + match.end()
        file.seek(start)
        payload = file.read(length)
        end = start + length
        if len(payload) < length:
            yield Truncated(offset, "the last chunk is cut short")
            return
        if zlib.crc32(payload) != crc:
            if end >= size:
                yield Truncated(offset, "the last chunk's checksum does not match")
                return
            raise AofError("chunk checksum mismatch", offset)
        yield end, parse_commands(payload, offset)
        offset = end


def parse_commands(payload: bytes, offset: int) -> list[list[bytes]]:
    """The commands in a verified chunk; anything but whole arrays of bulk strings is damage."""
    reader = hiredis.Reader()
    reader.feed(payload)
    commands = []
    try:
        while (argv := reader.gets()) is not False:
            # Arrays only; their items are bulk strings, as the checksum vouches for what we wrote.
            if type(argv) is not list or not argv:
                raise AofError("a chunk holds something other than a command", offset)
            commands.append(argv)
    except hiredis.ProtocolError:
        raise AofError("a chunk holds a malformed command", offset) from None
    if reader.has_data():
        raise AofError("a chunk ends inside a command", offset)
    return commands


def check(file: BinaryIO, size: int) -> tuple[int, str | None]:
    """How many bytes from the start are whole, intact chunks, and what is wrong after them
    (None: nothing). ``respserver check-aof`` reports this and ``--fix`` truncates to it."""
    valid = 0
    try:
        for item in read_chunks(file, size):
            if isinstance(item, Truncated):
                return item.offset, item.reason
            valid = item[0]
    except AofError as exc:
        return exc.offset, exc.reason
    return valid, None


REWRITE_ITEMS_PER_CMD = 64  # fields per HSET in a rewrite, as Redis's AOF_REWRITE_ITEMS_PER_CMD
_SNAPSHOT_CHUNK = 1 << 20


def snapshot(
    databases: Iterable[
        tuple[
            int,
            dict[bytes, bytes | dict | ListValue | SetValue | ZSetValue | StreamValue],
            dict[bytes, int],
        ]
    ],
    now_ms: int,
) -> Iterator[bytes]:
    """The data set as chunks of the commands that rebuild it (what a rewrite writes): SET,
    HSET, RPUSH, SADD or ZADD per key, XADD and the rest for a stream (``stream_commands``),
    PEXPIREAT for a time to live; keys already past theirs are left out."""
    out = bytearray()
    for number, data, expires in databases:
        if not data:
            continue
        encode_commands(out, [[b"SELECT", b"%d" % number]])
        for key, value in data.items():
            when = expires.get(key)
            if when is not None and when <= now_ms:
                continue
            if type(value) is bytes:
                commands = [[b"SET", key, value]]
            elif type(value) is ListValue:
                commands = _in_groups(b"RPUSH", key, list(value), REWRITE_ITEMS_PER_CMD)
            elif type(value) is SetValue:
                commands = _in_groups(b"SADD", key, list(value), REWRITE_ITEMS_PER_CMD)
            elif type(value) is ZSetValue:  # %.17g scores: each reads back as the same double
                pairs = [x for m, score in value.items() for x in (format_double(score), m)]
                commands = _in_groups(b"ZADD", key, pairs, 2 * REWRITE_ITEMS_PER_CMD)
            elif type(value) is StreamValue:
                commands = stream_commands(key, value)
            else:
                fields = [x for pair in value.items() for x in pair]
                commands = _in_groups(b"HSET", key, fields, 2 * REWRITE_ITEMS_PER_CMD)
            if when is not None:
                commands.append([b"PEXPIREAT", key, b"%d" % when])
            encode_commands(out, commands)
            if len(out) >= _SNAPSHOT_CHUNK:
                yield chunk(out)
                out = bytearray()
    if out:
        yield chunk(out)


def _in_groups(name: bytes, key: bytes, items: list[bytes], size: int) -> list[list[bytes]]:
    """``name key item...`` commands of at most ``size`` items each, as a rewrite writes them."""
    return [[name, key, *items[i : i + size]] for i in range(0, len(items), size)]


def stream_commands(key: bytes, stream: StreamValue) -> list[list[bytes]]:
    """The commands that rebuild a stream, as Redis's rewriteStreamObject writes them: an XADD
    per entry with its ID (an empty stream: XADD of a dummy entry trimmed at once by MAXLEN 0),
    XSETID to restore the last ID, entries added and max deleted ID; then per group, in name
    order, XGROUP CREATE at its last ID with its entries read (-1: unknown), and per consumer,
    in name order, an XCLAIM ... JUSTID FORCE of each of its pending entries with their delivery
    time and count, or XGROUP CREATECONSUMER for one with none."""
    if stream.entries:
        commands = [[b"XADD", key, format_id(i), *pairs] for i, pairs in stream.entries.items()]
    else:
        commands = [[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]]
    commands.append(
        [b"XSETID", key, format_id(stream.last_id), b"ENTRIESADDED", b"%d" % stream.entries_added]
        + [b"MAXDELETEDID", format_id(stream.max_deleted_id)]
    )
    for name in sorted(stream.groups):
        group = stream.groups[name]
        read = -1 if group.entries_read is None else group.entries_read
        create = [b"XGROUP", b"CREATE", key, name, format_id(group.last_id)]
        commands.append([*create, b"ENTRIESREAD", b"%d" % read])
        for consumer_name in sorted(group.consumers):
            consumer = group.consumers[consumer_name]
            if not consumer.pel:
                commands.append([b"XGROUP", b"CREATECONSUMER", key, name, consumer_name])
            for stream_id, pending in consumer.pel.items():
                commands.append(
                    [b"XCLAIM", key, name, consumer_name, b"0", format_id(stream_id)]
                    + [b"TIME", b"%d" % pending.delivery_time]
                    + [b"RETRYCOUNT", b"%d" % pending.delivery_count, b"JUSTID", b"FORCE"]
                )
    return commands
