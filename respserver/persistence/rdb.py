"""RDB snapshots: the file format of Redis's SAVE/BGSAVE (version 10, as Redis 7.0 writes it).

Plain binary file objects in, plain Python values out: no Trio, no server state, so SAVE,
BGSAVE (in a worker thread or process) and start-up loading can all share it.

Writing (``write_rdb``) produces what Redis 7.0.15 writes with ``rdbcompression no``: the same
AUX fields, SELECTDB + RESIZEDB per database, EXPIRETIME_MS, strings (integer-encoded when they
are canonical 32-bit integers, as Redis does), every hash as RDB_TYPE_HASH, every list and set
as the plain RDB_TYPE_LIST and RDB_TYPE_SET, sorted sets as RDB_TYPE_ZSET_2, streams as Redis
7.0 writes them (RDB_TYPE_STREAM_LISTPACKS_2: listpack nodes cut as redis-server cuts them,
``rdb_streams.py``), then EOF and the CRC64 (Jones polynomial, Redis's variant). Redis converts
small hashes to listpacks and small all-integer sets to intsets on load.

Reading (``read_rdb``) accepts that and what redis-server 7.0 writes by default: LZF-compressed
and integer-encoded strings, hashes as listpack, ziplist, zipmap or hash table, lists (quicklist,
ziplist, plain), sets as hash table or intset, sorted sets (ziplist, listpack, skiplist), streams
(Redis 5/6's listpacks, 7.0's listpacks_2, 7.2's listpacks_3; their node layout kept, deleted
entries' values dropped, consumers' active time ignored), EXPIRETIME in seconds or ms, LRU/LFU
hints (skipped), AUX fields (skipped) and function libraries (skipped: respserver has no
functions). Versions 1 to 12 are accepted: the encodings respserver can hold did not change in
11 (7.2) or 12 (7.4). A type or encoding respserver cannot hold (module, hash with field expiry,
7.2's listpack sets) and any damage raise ``RDBError``, never anything else. The compact
encodings found inside strings (LZF, listpack, ziplist, zipmap, intset) are decoded by
``rdb_encodings.py``.

Damage and the checksum: the CRC64 sits at the end, so ``read_rdb`` (a generator, reading the
file in chunks) yields entries before it can know whether the file is intact: a checksum
mismatch is raised only at the end. A caller that applies entries as they come must therefore
be able to roll back. ``load_rdb`` is the safe form: it collects everything into fresh
dictionaries and returns them only once the whole file, checksum included, has been verified;
start-up loading should use it (and swap the result in). Keys with an expiry in the past are
yielded by ``read_rdb`` like any other (the caller decides; Redis drops them when it loads as
a master); ``load_rdb(now_ms=...)`` drops them.
"""

from __future__ import annotations

import io
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import BinaryIO

import anycrc

from respserver.config import VERSION
from respserver.keyspace.lists import ListValue
from respserver.keyspace.sets import SetValue
from respserver.keyspace.stream_groups import entries_read_at
from respserver.keyspace.streams import Consumer, ConsumerGroup, PendingEntry, StreamID, StreamValue
from respserver.keyspace.zsets import ZSetValue
from respserver.numbers import strtod
from respserver.persistence.rdb_encodings import (
    INT8_STRINGS,
    intset_items,
    listpack_items,
    lzf_decompress,
    signed_le,
    ziplist_items,
    zipmap_items,
)
from respserver.persistence.rdb_streams import decode_id, decode_node, encode_id, stream_nodes

Value = bytes | dict[bytes, bytes] | ListValue | SetValue | ZSetValue | StreamValue
Entry = tuple[int, bytes, Value, int | None]
DatabaseDump = tuple[int, dict[bytes, Value], dict[bytes, int]]

RDB_VERSION = 10
MAX_READ_VERSION = 12
REDIS_VERSION = VERSION.encode()

# Opcodes (rdb.h)
OP_SLOT_INFO = 0xF4
OP_FUNCTION2 = 0xF5
OP_FUNCTION_PRE_GA = 0xF6
OP_MODULE_AUX = 0xF7
OP_IDLE = 0xF8
OP_FREQ = 0xF9
OP_AUX = 0xFA
OP_RESIZEDB = 0xFB
OP_EXPIRETIME_MS = 0xFC
OP_EXPIRETIME = 0xFD
OP_SELECTDB = 0xFE
OP_EOF = 0xFF

# Value types respserver can hold
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_HASH = 4
TYPE_LIST_ZIPLIST = 10
TYPE_LIST_QUICKLIST = 14
TYPE_LIST_QUICKLIST_2 = 18
QUICKLIST_NODE_PLAIN, QUICKLIST_NODE_PACKED = 1, 2
TYPE_HASH_ZIPMAP = 9
TYPE_HASH_ZIPLIST = 13
TYPE_HASH_LISTPACK = 16
TYPE_SET_INTSET = 11
TYPE_ZSET = 3
TYPE_ZSET_2 = 5
TYPE_ZSET_ZIPLIST = 12
TYPE_ZSET_LISTPACK = 17
TYPE_STREAM_LISTPACKS = 15  # Redis 5 and 6
TYPE_STREAM_LISTPACKS_2 = 19  # Redis 7.0: + first ID, max deleted ID, entries added/read
TYPE_STREAM_LISTPACKS_3 = 21  # Redis 7.2: + each consumer's active time

# The ones it cannot, named for the error message
UNSUPPORTED_TYPES = {
    6: "module (pre-GA encoding)",
    7: "module",
    20: "set (listpack encoding)",
    22: "hash with field expiry (pre-GA metadata encoding)",
    23: "hash with field expiry (pre-GA listpack_ex encoding)",
    24: "hash with field expiry (metadata encoding)",
    25: "hash with field expiry (listpack_ex encoding)",
}

# String encodings (the low 6 bits after a 0b11 length prefix)
ENC_INT8, ENC_INT16, ENC_INT32, ENC_LZF = 0, 1, 2, 3

CHUNK = 1 << 20  # read and write granularity: bounded memory whatever the file size
_CRC = anycrc.Model("CRC64-REDIS")


class RDBError(Exception):
    """A file that cannot be loaded; ``what`` says why and ``offset`` where (in bytes)."""

    def __init__(self, what: str, offset: int) -> None:
        super().__init__(f"{what} at offset {offset}")
        self.what = what
        self.offset = offset


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """Redis's CRC64 of ``data``, continuing from ``crc`` (the CRC of the bytes before it).

    CRC64-REDIS has init 0 and no final XOR, so the register after one chunk is exactly the
    starting value for the next: ``crc64(b, crc64(a)) == crc64(a + b)``."""
    return _CRC.calc(data, crc) if len(data) else crc


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

# Ready-made length prefixes for strings shorter than 16384 bytes (6- and 14-bit forms).
_LENGTHS = [bytes((n,)) for n in range(0x40)] + [
    bytes((0x40 | n >> 8, n & 0xFF)) for n in range(0x40, 0x4000)
]


def encode_length(n: int) -> bytes:
    """Redis's rdbSaveLen: 6 bits, 14 bits, or a marker byte then 32/64 bits big-endian."""
    if n < 0x4000:
        return _LENGTHS[n]
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def _integer_encoding(s: bytes) -> bytes | None:
    """The int8/16/32 form of ``s`` if it is a canonical decimal in range (rdbTryIntegerEncoding):
    only then does it read back byte-identical, so b"007", b"-0", b" 1" stay strings."""
    digits = s[1:] if s[:1] == b"-" else s
    if not digits.isdigit() or (digits[0] == 0x30 and len(s) > 1):
        return None
    value = int(s)
    if -0x80 <= value <= 0x7F:
        return struct.pack("<Bb", 0xC0 | ENC_INT8, value)
    if -0x8000 <= value <= 0x7FFF:
        return struct.pack("<Bh", 0xC0 | ENC_INT16, value)
    if -0x80000000 <= value <= 0x7FFFFFFF:
        return struct.pack("<Bi", 0xC0 | ENC_INT32, value)
    return None


def _put_strings(buf: bytearray, strings: Iterable[bytes]) -> None:
    """Append each string as Redis's rdbSaveRawString does (minus LZF). This loop is the
    writer's hot path, hence inlined and with a cheap test before the integer one."""
    lengths = _LENGTHS
    for s in strings:
        n = len(s)
        if n <= 11 and s.lstrip(b"-").isdigit() and (encoded := _integer_encoding(s)) is not None:
            buf += encoded
            continue
        buf += lengths[n] if n < 0x4000 else encode_length(n)
        buf += s


class _Output:
    """A write buffer flushed in chunks, keeping the running CRC of everything flushed."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.buf = bytearray()
        self.crc = 0

    def flush_if_full(self) -> None:
        if len(self.buf) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        self.crc = crc64(self.buf, self.crc)
        self.out.write(self.buf)
        self.buf = bytearray()


def _aux_fields(now_ms: int, used_mem: int) -> list[tuple[bytes, bytes]]:
    """The AUX fields Redis 7.0 writes from SAVE (rdbSaveInfoAuxFields), in its order."""
    return [
        (b"redis-ver", REDIS_VERSION),
        (b"redis-bits", b"64"),
        (b"ctime", b"%d" % (now_ms // 1000)),
        (b"used-mem", b"%d" % used_mem),
        (b"aof-base", b"0"),
    ]


def write_rdb(
    out: BinaryIO,
    databases: Iterable[DatabaseDump],
    *,
    now_ms: int | None = None,
    used_mem: int = 0,
) -> None:
    """Write a complete RDB file to ``out``.

    ``databases``: (number, data, expires) triples; data maps a key to ``bytes`` (a string) or
    a ``dict`` (a hash), expires a key to its absolute expiry in unix ms. Empty databases, empty
    hashes (Redis would skip them on load) and keys already expired at ``now_ms`` are left out.
    """
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    w = _Output(out)
    w.buf += b"REDIS%04d" % RDB_VERSION
    for field in _aux_fields(now, used_mem):
        w.buf.append(OP_AUX)
        _put_strings(w.buf, field)
    for number, data, expires in databases:
        _write_database(w, number, data, expires, now)
    w.buf.append(OP_EOF)
    w.flush()
    out.write(struct.pack("<Q", w.crc))


def _live_keys(data: dict[bytes, Value], expires: dict[bytes, int], now: int) -> list[bytes]:
    """The keys to write: not expired, and not an empty collection (an empty stream is a
    value like any other, kept)."""
    return [
        k
        for k, v in data.items()
        if (k not in expires or expires[k] > now)
        and (type(v) is bytes or type(v) is StreamValue or v)
    ]


def _write_database(
    w: _Output, number: int, data: dict[bytes, Value], expires: dict[bytes, int], now: int
) -> None:
    if number < 0:
        raise ValueError(f"bad database number {number}")
    keys = _live_keys(data, expires, now)
    if not keys:
        return
    buf = w.buf
    buf.append(OP_SELECTDB)
    buf += encode_length(number)
    buf.append(OP_RESIZEDB)
    buf += encode_length(len(keys))
    buf += encode_length(sum(1 for k in keys if k in expires))
    for key in keys:
        _write_entry(w.buf, key, data[key], expires.get(key))
        w.flush_if_full()


def _write_entry(buf: bytearray, key: bytes, value: Value, expire: int | None) -> None:
    if expire is not None:
        buf += struct.pack("<Bq", OP_EXPIRETIME_MS, expire)
    _write_value(buf, value, key)


def _write_value(buf: bytearray, value: Value, key: bytes | None = None) -> None:
    """The value's type byte, the key (in a file; a DUMP payload has none), then the value."""
    kind = type(value)
    buf.append(_TYPES[kind])
    if key is not None:
        _put_strings(buf, (key,))
    if kind is bytes:
        _put_strings(buf, (value,))
    elif kind is ListValue or kind is SetValue:
        # The plain list and set types (a length, then the elements), which Redis 7 still
        # loads (a small all-integer set becomes an intset there).
        buf += encode_length(len(value))
        _put_strings(buf, value)
    elif kind is ZSetValue:
        # RDB_TYPE_ZSET_2: members and binary doubles, the greatest first, as Redis writes it.
        buf += encode_length(len(value))
        for member, score in reversed(value.items()):
            _put_strings(buf, (member,))
            buf += struct.pack("<d", score)
    elif kind is StreamValue:
        _write_stream(buf, value)
    else:
        buf += encode_length(len(value))
        _put_strings(buf, chain.from_iterable(value.items()))


_TYPES = {
    bytes: TYPE_STRING,
    ListValue: TYPE_LIST,
    SetValue: TYPE_SET,
    ZSetValue: TYPE_ZSET_2,
    dict: TYPE_HASH,
    StreamValue: TYPE_STREAM_LISTPACKS_2,
}

_NO_ENTRIES_READ = 2**64 - 1  # a group's unknown entries-read (-1) as rdbSaveLen writes it


def _put_lengths(buf: bytearray, *numbers: int) -> None:
    for n in numbers:
        buf += encode_length(n)


def _write_stream(buf: bytearray, stream: StreamValue) -> None:
    """RDB_TYPE_STREAM_LISTPACKS_2, as rdbSaveObject writes it: the listpack nodes (key, then
    listpack), the length, last ID, first ID, max deleted ID and entries added; then the groups
    in name order, each with its last ID, entries read, PEL (raw ID, delivery time, delivery
    count) and consumers in name order (name, seen time, the raw IDs of its PEL)."""
    nodes = list(stream_nodes(stream))
    buf += encode_length(len(nodes))
    _put_strings(buf, chain.from_iterable(nodes))
    _put_lengths(buf, len(stream), *stream.last_id, *stream.first_id(), *stream.max_deleted_id)
    _put_lengths(buf, stream.entries_added, len(stream.groups))
    for name in sorted(stream.groups):
        group = stream.groups[name]
        _put_strings(buf, (name,))
        read = _NO_ENTRIES_READ if group.entries_read is None else group.entries_read
        _put_lengths(buf, *group.last_id, read, len(group.pel))
        for stream_id, pending in group.pel.items():
            buf += encode_id(stream_id)
            buf += struct.pack("<q", pending.delivery_time)
            buf += encode_length(pending.delivery_count)
        buf += encode_length(len(group.consumers))
        for consumer_name in sorted(group.consumers):
            consumer = group.consumers[consumer_name]
            _put_strings(buf, (consumer_name,))
            buf += struct.pack("<q", consumer.seen_time)
            buf += encode_length(len(consumer.pel))
            buf += b"".join(map(encode_id, consumer.pel))


def dump_payload(value: Value) -> bytes:
    """DUMP's serialization: the value as an RDB file holds it (without its key), then the
    RDB version (2 bytes) and the CRC64 of all before it (8 bytes, little-endian)."""
    buf = bytearray()
    _write_value(buf, value)
    buf += struct.pack("<H", RDB_VERSION)
    buf += struct.pack("<Q", crc64(buf))
    return bytes(buf)


def payload_intact(payload: bytes) -> bool:
    """Redis's verifyDumpPayload: a version this reader knows and a matching CRC64."""
    if len(payload) < 10:
        return False
    version, crc = struct.unpack("<HQ", payload[-10:])
    return version <= RDB_VERSION and crc64(payload[:-8]) == crc


def load_payload(payload: bytes) -> Value:
    """The value of an intact DUMP payload (redis-server's or ours); RDBError if it is not one
    (an unknown type, damage, an empty collection)."""
    parser = _Parser(io.BytesIO(payload[:-10]))
    try:
        kind = parser.src.byte()
        if kind == TYPE_STRING:
            return parser.string()
        reader = parser.readers.get(kind)
        value = None if reader is None else reader(b"", 0)
    except (EOFError, ValueError, IndexError, struct.error) as exc:
        raise RDBError(f"bad payload: {exc}", 0) from exc
    if value is None:
        raise RDBError("bad payload", 0)
    return value


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


class _Input:
    """A sliding window over the file: about one chunk in memory, plus the CRC of every byte
    already dropped from the window (so the checksum is computed in chunks, never per item)."""

    __slots__ = ("inp", "buf", "pos", "base", "crc")

    def __init__(self, inp: BinaryIO) -> None:
        self.inp = inp
        self.buf = b""
        self.pos = 0  # read position within buf
        self.base = 0  # file offset of buf[0]
        self.crc = 0  # CRC of the file up to base

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def need(self, n: int) -> None:
        """Make ``n`` bytes available at ``pos``, reading bounded chunks (a corrupt length
        cannot make us allocate more than the file holds); a short file raises RDBError."""
        have = len(self.buf) - self.pos
        if have >= n:
            return
        self.crc = crc64(memoryview(self.buf)[: self.pos], self.crc)
        parts = [self.buf[self.pos :]]
        self.base += self.pos
        self.pos = 0
        while have < n:
            chunk = self.inp.read(CHUNK)
            if not chunk:
                self.buf = b"".join(parts)
                raise RDBError(
                    f"unexpected end of file ({n - have} more bytes needed)", self.base + have
                )
            parts.append(chunk)
            have += len(chunk)
        self.buf = b"".join(parts)

    def take(self, n: int) -> bytes:
        if len(self.buf) - self.pos < n:
            self.need(n)
        p = self.pos
        self.pos = p + n
        return self.buf[p : p + n]

    def byte(self) -> int:
        if self.pos >= len(self.buf):
            self.need(1)
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def crc_so_far(self) -> int:
        """The CRC of the file from its start up to the read position."""
        return crc64(memoryview(self.buf)[: self.pos], self.crc)

    def at_end(self) -> bool:
        return self.pos == len(self.buf) and not self.inp.read(1)


def _shown(key: bytes) -> str:
    """A key as error messages show it: its repr, cut to 128 bytes as Redis cuts user input."""
    return repr(key[:128])


class _Parser:
    """Turns the byte stream into entries; one method per element of the format."""

    def __init__(self, inp: BinaryIO) -> None:
        self.src = _Input(inp)
        self.version = 0
        self.db = 0
        self.expire: int | None = None
        self.key_offset = 0  # where the entry being read starts, for error messages
        # Readers of the types other than strings, by type byte: each takes the key (for error
        # messages) and where its entry starts, and returns the value (None for an empty one,
        # which Redis skips).
        self.readers: dict[int, Callable[[bytes, int], Value | None]] = {
            TYPE_HASH: self._hash_table,
            TYPE_HASH_ZIPMAP: self._blob_hash(zipmap_items, "zipmap"),
            TYPE_HASH_ZIPLIST: self._blob_hash(ziplist_items, "ziplist"),
            TYPE_HASH_LISTPACK: self._blob_hash(listpack_items, "listpack"),
            TYPE_LIST: self._list,
            TYPE_LIST_ZIPLIST: self._ziplist_list,
            TYPE_LIST_QUICKLIST: self._quicklist,
            TYPE_LIST_QUICKLIST_2: self._quicklist_2,
            TYPE_SET: self._set,
            TYPE_SET_INTSET: self._intset,
            TYPE_ZSET: self._zset,
            TYPE_ZSET_2: self._zset_2,
            TYPE_ZSET_ZIPLIST: self._blob_zset(ziplist_items, "ziplist"),
            TYPE_ZSET_LISTPACK: self._blob_zset(listpack_items, "listpack"),
            TYPE_STREAM_LISTPACKS: self._stream_reader(TYPE_STREAM_LISTPACKS),
            TYPE_STREAM_LISTPACKS_2: self._stream_reader(TYPE_STREAM_LISTPACKS_2),
            TYPE_STREAM_LISTPACKS_3: self._stream_reader(TYPE_STREAM_LISTPACKS_3),
        }

    # -- primitives ---------------------------------------------------------------------------

    def _length_or_encoding(self) -> tuple[int, bool]:
        """rdbLoadLenByRef: (length, False), or (string encoding, True) for a 0b11 prefix."""
        src = self.src
        first = src.byte()
        kind = first >> 6
        if kind == 0:
            return first, False
        if kind == 1:
            return (first & 0x3F) << 8 | src.byte(), False
        if kind == 3:
            return first & 0x3F, True
        if first == 0x80:
            return int.from_bytes(src.take(4), "big"), False
        if first == 0x81:
            return int.from_bytes(src.take(8), "big"), False
        raise RDBError(f"bad length encoding 0x{first:02x}", src.offset - 1)

    def length(self) -> int:
        src = self.src
        if src.pos < len(src.buf) and src.buf[src.pos] < 0x40:  # the common 6-bit length
            src.pos += 1
            return src.buf[src.pos - 1]
        at = src.offset
        n, encoded = self._length_or_encoding()
        if encoded:
            raise RDBError("a string encoding where a length was expected", at)
        return n

    def string(self) -> bytes:
        """A string in any encoding (raw, integer or LZF). A short raw one (most keys) is
        sliced here: going through ``_strings`` costs a list and a loop per key."""
        src = self.src
        buf, pos = src.buf, src.pos
        if pos < len(buf) and buf[pos] < 0x40 and pos + 1 + buf[pos] <= len(buf):
            src.pos = pos + 1 + buf[pos]
            return buf[pos + 1 : src.pos]
        return self._string_slow()

    def _string_slow(self) -> bytes:
        at = self.src.offset
        n, encoded = self._length_or_encoding()
        if not encoded:
            return self.src.take(n)
        if n == ENC_INT8:
            return INT8_STRINGS[self.src.byte()]
        if n == ENC_INT16:
            return b"%d" % signed_le(self.src.take(2))
        if n == ENC_INT32:
            return b"%d" % signed_le(self.src.take(4))
        if n == ENC_LZF:
            compressed_len = self.length()
            size = self.length()
            try:
                return lzf_decompress(self.src.take(compressed_len), size)
            except ValueError as e:
                raise RDBError(f"bad LZF-compressed string: {e}", at) from None
        raise RDBError(f"unknown string encoding {n}", at)

    # -- file structure -----------------------------------------------------------------------

    def entries(self) -> Iterator[Entry]:
        self._header()
        src = self.src
        readers = self.readers
        string = self.string
        while True:  # once per key: kept lean, as the per-key overhead counts at 1M keys
            at = src.base + src.pos
            op = src.byte()
            if op == TYPE_STRING:
                key = string()
                value = string()
            elif op in readers:
                key = string()
                value = readers[op](key, at)
            elif op == OP_EOF:
                self._trailer()
                return
            else:
                self._opcode(op, at)
                continue
            if value is not None:
                self.key_offset = at
                yield self.db, key, value, self.expire
            self.expire = None

    def _header(self) -> None:
        magic = self.src.take(9)
        if magic[:5] != b"REDIS":
            raise RDBError("not an RDB file (wrong signature)", 0)
        if not magic[5:].isdigit() or not 1 <= int(magic[5:]) <= MAX_READ_VERSION:
            raise RDBError(f"cannot handle RDB format version {magic[5:]!r}", 5)
        self.version = int(magic[5:])

    def _opcode(self, op: int, at: int) -> None:
        src = self.src
        if op == OP_EXPIRETIME_MS:
            self.expire = signed_le(src.take(8))
        elif op == OP_EXPIRETIME:
            self.expire = signed_le(src.take(4)) * 1000
        elif op == OP_SELECTDB:
            self.db = self.length()
        elif op == OP_RESIZEDB:
            self.length()
            self.length()
        elif op == OP_AUX:
            self.string()
            self.string()
        elif op == OP_IDLE:
            self.length()
        elif op == OP_FREQ:
            src.byte()
        elif op == OP_FUNCTION2:
            self.string()
        elif op == OP_SLOT_INFO:
            for _ in range(3):
                self.length()
        elif op in UNSUPPORTED_TYPES:
            key = self.string()
            raise RDBError(f"key {_shown(key)} has type {UNSUPPORTED_TYPES[op]}, unsupported", at)
        elif op == OP_MODULE_AUX:
            raise RDBError("module auxiliary data is not supported", at)
        elif op == OP_FUNCTION_PRE_GA:
            raise RDBError("pre-GA function libraries are not supported", at)
        else:
            raise RDBError(f"unknown opcode or value type {op}", at)

    def _trailer(self) -> None:
        """After EOF: the CRC64 (from version 5; 0 means saved with rdbchecksum no), then
        nothing more."""
        src = self.src
        if self.version >= 5:
            computed = src.crc_so_far()
            at = src.offset
            stored = int.from_bytes(src.take(8), "little")
            if stored and stored != computed:
                raise RDBError(
                    f"checksum mismatch (file says {stored:#018x}, contents give {computed:#018x})",
                    at,
                )
        if not src.at_end():
            raise RDBError("unexpected data after the end of the RDB file", src.offset)

    # -- values -------------------------------------------------------------------------------

    def _list(self, key: bytes, at: int) -> ListValue | None:
        """RDB_TYPE_LIST: a length, then the elements."""
        return ListValue(self._strings(self.length())) or None

    def _decoded(
        self, blob: bytes, decode: Callable[[bytes], list[bytes]], what: str, key: bytes, at: int
    ) -> list[bytes]:
        try:
            return decode(blob)
        except (ValueError, IndexError, struct.error) as e:
            why = str(e) if isinstance(e, ValueError) else "an element runs past the end"
            raise RDBError(f"bad {what} in key {_shown(key)}: {why}", at) from None

    def _ziplist_list(self, key: bytes, at: int) -> ListValue | None:
        """RDB_TYPE_LIST_ZIPLIST (before Redis 3.2): one ziplist."""
        return ListValue(self._decoded(self.string(), ziplist_items, "ziplist", key, at)) or None

    def _quicklist(self, key: bytes, at: int) -> ListValue | None:
        """RDB_TYPE_LIST_QUICKLIST (Redis 3.2 to 6.2): nodes, each a ziplist."""
        items = ListValue()
        for _ in range(self.length()):
            blob = self.string()
            items.push(self._decoded(blob, ziplist_items, "ziplist", key, at), left=False)
        return items or None

    def _quicklist_2(self, key: bytes, at: int) -> ListValue | None:
        """RDB_TYPE_LIST_QUICKLIST_2 (Redis 7): nodes, each a listpack or one plain element."""
        items = ListValue()
        for _ in range(self.length()):
            container = self.length()
            blob = self.string()
            if container == QUICKLIST_NODE_PLAIN:
                items.push((blob,), left=False)
            elif container == QUICKLIST_NODE_PACKED:
                items.push(self._decoded(blob, listpack_items, "listpack", key, at), left=False)
            else:
                raise RDBError(f"bad quicklist node container {container} in key {_shown(key)}", at)
        return items or None

    def _set(self, key: bytes, at: int) -> SetValue | None:
        """RDB_TYPE_SET: a length, then the members (a repeated one is damage, as to Redis)."""
        return _set_from_items(self._strings(self.length()), key, at)

    def _intset(self, key: bytes, at: int) -> SetValue | None:
        """RDB_TYPE_SET_INTSET: one intset."""
        items = self._decoded(self.string(), intset_items, "intset", key, at)
        return _set_from_items(items, key, at)

    def _zset(self, key: bytes, at: int) -> ZSetValue | None:
        """RDB_TYPE_ZSET (before Redis 3.0's ZSET_2): members, each with its score as text
        behind a length byte (253 NaN, 254 +inf, 255 -inf)."""
        items = []
        for _ in range(self.length()):
            member = self.string()
            size = self.src.byte()
            if size == 253:
                raise RDBError(f"sorted set {_shown(key)} has a NaN score", at)
            if size >= 254:
                items.append((member, float("inf") if size == 254 else float("-inf")))
            else:
                items.append((member, _score(self.src.take(size), key, at)))
        return _zset_from_items(items, key, at)

    def _zset_2(self, key: bytes, at: int) -> ZSetValue | None:
        """RDB_TYPE_ZSET_2: members, each with its score as a little-endian binary double."""
        items = []
        for _ in range(self.length()):
            member = self.string()
            (score,) = struct.unpack("<d", self.src.take(8))
            if score != score:
                raise RDBError(f"sorted set {_shown(key)} has a NaN score", at)
            items.append((member, score))
        return _zset_from_items(items, key, at)

    def _blob_zset(
        self, decode: Callable[[bytes], list[bytes]], encoding: str
    ) -> Callable[[bytes, int], ZSetValue | None]:
        """A reader for a sorted set serialised as one ziplist or listpack: member, score..."""

        def read(key: bytes, at: int) -> ZSetValue | None:
            flat = self._decoded(self.string(), decode, encoding, key, at)
            if len(flat) % 2:
                raise RDBError(f"sorted set {_shown(key)} has an odd number of elements", at)
            scores = [_score(text, key, at) for text in flat[1::2]]
            return _zset_from_items(list(zip(flat[::2], scores, strict=True)), key, at)

        return read

    def _hash_table(self, key: bytes, at: int) -> dict[bytes, bytes] | None:
        return _hash_from_items(self._strings(2 * self.length()), key, at)

    def _strings(self, count: int) -> list[bytes]:
        """``count`` strings in a row: the reader's hot path. Strings with a 6- or 14-bit
        length and integer-encoded ones are decoded straight from the window here; the rest,
        and anything straddling the window's end, go through ``_string_slow``."""
        src = self.src
        buf, pos = src.buf, src.pos
        limit = len(buf)
        out: list[bytes] = []
        append = out.append
        for _ in range(count):
            if pos + 1 < limit:  # a short read near the window's end takes the slow path
                n = buf[pos]
                if n < 0x40:
                    end = pos + 1 + n
                    if end <= limit:
                        append(buf[pos + 1 : end])
                        pos = end
                        continue
                elif n < 0x80:
                    end = pos + 2 + ((n & 0x3F) << 8 | buf[pos + 1])
                    if end <= limit:
                        append(buf[pos + 2 : end])
                        pos = end
                        continue
                elif n == 0xC0:
                    append(INT8_STRINGS[buf[pos + 1]])
                    pos += 2
                    continue
            src.pos = pos
            append(self._string_slow())
            buf, pos = src.buf, src.pos
            limit = len(buf)
        src.pos = pos
        return out

    def _blob_hash(
        self, decode: Callable[[bytes], list[bytes]], encoding: str
    ) -> Callable[[bytes, int], dict[bytes, bytes] | None]:
        """A reader for a hash serialised as one string holding a Redis in-memory encoding."""

        def read(key: bytes, at: int) -> dict[bytes, bytes] | None:
            return _hash_from_items(
                self._decoded(self.string(), decode, encoding, key, at), key, at
            )

        return read

    def _stream_reader(self, kind: int) -> Callable[[bytes, int], StreamValue]:
        """A reader for a stream of type ``kind`` (15, 19 or 21): damage inside a node or an
        inconsistency between the parts is RDBError too."""

        def read(key: bytes, at: int) -> StreamValue:
            try:
                return self._stream(kind)
            except (ValueError, IndexError, struct.error) as e:
                why = str(e) if isinstance(e, ValueError) else "an element runs past the end"
                raise RDBError(f"bad stream {_shown(key)}: {why}", at) from None

        return read

    def _stream(self, kind: int) -> StreamValue:
        """The body of a stream, in the order of ``_write_stream``. Type 15 has neither the
        first and max deleted IDs, entries added nor the groups' entries read: they are
        derived as Redis derives them; type 21 adds each consumer's active time, not kept."""
        stream = StreamValue()
        entries: list[tuple[StreamID, list[bytes]]] = []
        for _ in range(self.length()):
            node_key = self.string()
            node, live = decode_node(node_key, self.string())
            if stream.nodes and node.master <= stream.nodes[-1].ids[-1]:
                raise ValueError("nodes out of order")
            stream.nodes.append(node)
            entries += live
        stream.entries.update(entries)
        length = self.length()
        if length != len(stream):
            raise ValueError(f"{length} entries announced, {len(stream)} found")
        stream.last_id = self._stream_id()
        if stream.nodes and stream.last_id < stream.nodes[-1].ids[-1]:
            raise ValueError("the last ID is before the last entry")
        if kind == TYPE_STREAM_LISTPACKS:
            stream.entries_added = length
        else:
            self._stream_id()  # the first entry's ID (0-0 when empty): the entries say it
            stream.max_deleted_id = self._stream_id()
            stream.entries_added = self.length()
        for _ in range(self.length()):
            self._consumer_group(stream, kind)
        return stream

    def _stream_id(self) -> StreamID:
        return self.length(), self.length()

    def _consumer_group(self, stream: StreamValue, kind: int) -> None:
        """One group: its PEL comes first without owners, then each consumer names the IDs of
        its own, which must all be in the group's PEL, and that PEL must be covered."""
        name = self.string()
        if name in stream.groups:
            raise ValueError(f"group {_shown(name)} twice")
        last_id = self._stream_id()
        if kind == TYPE_STREAM_LISTPACKS:
            entries_read = entries_read_at(stream, last_id)
        else:
            entries_read = self.length()
            if entries_read >= 1 << 63:  # rdbSaveLen of a negative: only -1 means something
                if entries_read != _NO_ENTRIES_READ:
                    raise ValueError(f"group {_shown(name)} has a bad entries-read")
                entries_read = None
        group = stream.groups[name] = ConsumerGroup(name, last_id, entries_read)
        src = self.src
        unowned: dict[StreamID, tuple[int, int]] = {}
        for _ in range(self.length()):
            stream_id = decode_id(src.take(16))
            if stream_id in unowned:
                raise ValueError(f"group {_shown(name)} has a pending entry twice")
            unowned[stream_id] = (signed_le(src.take(8)), self.length())
        for _ in range(self.length()):
            consumer_name = self.string()
            if consumer_name in group.consumers:
                raise ValueError(f"consumer {_shown(consumer_name)} twice")
            consumer = Consumer(consumer_name, signed_le(src.take(8)))
            if kind == TYPE_STREAM_LISTPACKS_3:
                src.take(8)  # active time
            group.consumers[consumer_name] = consumer
            for _ in range(self.length()):
                stream_id = decode_id(src.take(16))
                if stream_id not in unowned:
                    raise ValueError(f"consumer {_shown(consumer_name)} has an unknown entry")
                time_ms, count = unowned.pop(stream_id)
                pending = PendingEntry(time_ms, count, consumer)
                group.pel[stream_id] = consumer.pel[stream_id] = pending
        if unowned:
            raise ValueError(f"group {_shown(name)} has pending entries without a consumer")


def _hash_from_items(items: list[bytes], key: bytes, at: int) -> dict[bytes, bytes] | None:
    """field, value, field, value... as a dict; None for an empty hash, which Redis skips."""
    if len(items) % 2:
        raise RDBError(f"hash {_shown(key)} has an odd number of elements", at)
    pairs = iter(items)
    h = dict(zip(pairs, pairs, strict=False))  # even length checked above; no list copies
    if len(h) * 2 != len(items):
        raise RDBError(f"hash {_shown(key)} has duplicate fields", at)
    return h or None


def _set_from_items(items: list[bytes], key: bytes, at: int) -> SetValue | None:
    """The members as a set; None for an empty set, which Redis skips."""
    members = SetValue(items)
    if len(members) != len(items):
        raise RDBError(f"set {_shown(key)} has duplicate members", at)
    return members or None


def _score(text: bytes, key: bytes, at: int) -> float:
    """A score written as text (ZSET, ziplist, listpack), read as Redis reads it (strtod)."""
    parsed = strtod(text)
    if parsed is None:
        raise RDBError(f"sorted set {_shown(key)} has a bad score {text!r}", at)
    return parsed[0]


def _zset_from_items(items: list[tuple[bytes, float]], key: bytes, at: int) -> ZSetValue | None:
    """The members and scores as a sorted set; None for an empty one, which Redis skips."""
    zset = ZSetValue(items)
    if len(zset) != len(items):
        raise RDBError(f"sorted set {_shown(key)} has duplicate members", at)
    return zset or None


def read_rdb(inp: BinaryIO) -> Iterator[Entry]:
    """Yield (db, key, value, expire_ms or None) in file order, reading ``inp`` in chunks.

    Raises RDBError on damage, possibly after some entries were yielded (the checksum comes
    last): see the module docstring, and prefer ``load_rdb`` to load a server. Database
    numbers are the file's: checking them against ``databases`` is the caller's job. The file
    is read CHUNK bytes at a time, so ``inp.tell()`` tracks progress to within a chunk."""
    return _Parser(inp).entries()


def load_rdb(
    inp: BinaryIO, *, now_ms: int | None = None, progress: Callable[[int], None] | None = None
) -> list[DatabaseDump]:
    """The whole file as (db, data, expires) triples, sorted by db, returned only once the
    file has been fully verified (checksum included). A key appearing twice in a database is
    damage (Redis refuses it too). With ``now_ms``, keys expired by then are dropped.
    ``progress`` is told the number of keys read so far, every 1024 keys."""
    parser = _Parser(inp)
    dbs: dict[int, DatabaseDump] = {}
    for count, (db, key, value, expire) in enumerate(parser.entries(), start=1):
        if progress is not None and not count & 1023:
            progress(count)
        if db not in dbs:
            dbs[db] = (db, {}, {})
        _, data, expires = dbs[db]
        if key in data:
            raise RDBError(f"duplicate key {_shown(key)} in database {db}", parser.key_offset)
        data[key] = value
        if expire is not None:
            expires[key] = expire
    if now_ms is not None:
        for _, data, expires in dbs.values():
            for key in [k for k, when in expires.items() if when <= now_ms]:
                del data[key], expires[key]
    return [dbs[db] for db in sorted(dbs) if dbs[db][1]]
