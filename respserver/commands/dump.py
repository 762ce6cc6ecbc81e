"""DUMP and RESTORE: a key's value in Redis's serialization (the RDB encoding of the value,
the RDB version and a CRC64; persistence/rdb.py), so a key moves between respserver and
redis-server, either way, with the tools that use them.
https://redis.io/docs/latest/commands/dump/ and /restore/
"""

from __future__ import annotations

from respserver.core.state import Client
from respserver.errors import (
    BAD_DATA_FORMAT,
    BUSYKEY,
    FREQ_OUT_OF_RANGE,
    IDLETIME_NEGATIVE,
    PAYLOAD_DAMAGED,
    SYNTAX,
    TTL_NEGATIVE,
    CommandError,
)
from respserver.keyspace.database import now_ms
from respserver.keyspace.events import GENERIC
from respserver.numbers import to_int
from respserver.persistence.rdb import RDBError, dump_payload, load_payload, payload_intact
from respserver.registry import command
from respserver.resp.types import OK, SimpleString


@command(
    "dump",
    "key",
    arity=2,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="generic",
    since="2.6.0",
    summary="Return a serialized version of the value stored at the specified key.",
    complexity="O(1) to access the key and additional O(N*M) to serialize it, where N is the "
    "number of Redis objects composing the value and M their average size. For small string "
    "values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
    tips="nondeterministic_output",
)
def dump(ctx: Client, key: bytes) -> bytes | None:
    """The serialized value, or nil for a missing key."""
    value = ctx.db.get(key)
    return None if value is None else dump_payload(value)


def _restore_options(options: tuple[bytes, ...]) -> tuple[bool, bool]:
    """REPLACE and ABSTTL; IDLETIME and FREQ (one or the other) are checked, then left to
    the eviction policy's own stamps."""
    replace = absolute = False
    idle = freq = False
    i = 0
    while i < len(options):
        word, more = options[i].lower(), i + 1 < len(options)
        if word == b"replace":
            replace = True
        elif word == b"absttl":
            absolute = True
        elif word == b"idletime" and more and not freq:
            if to_int(options[i + 1]) < 0:
                raise CommandError(IDLETIME_NEGATIVE)
            idle, i = True, i + 1
        elif word == b"freq" and more and not idle:
            if not 0 <= to_int(options[i + 1]) <= 255:
                raise CommandError(FREQ_OUT_OF_RANGE)
            freq, i = True, i + 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    return replace, absolute


@command(
    "restore",
    "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
    arity=-4,
    flags="write denyoom",
    keys=(1, 1, 1),
    key_flags="OW update",
    categories="dangerous keyspace",
    group="generic",
    since="2.6.0",
    summary="Create a key using the provided serialized value, previously obtained using DUMP.",
    complexity="O(1) to create the new key and additional O(N*M) to reconstruct the serialized "
    "value, where N is the number of Redis objects composing the value and M their average "
    "size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, "
    "so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because "
    "inserting values into sorted sets is O(log(N)).",
    history=(
        ("3.0.0", "Added the `REPLACE` modifier."),
        ("5.0.0", "Added the `ABSTTL` modifier."),
        ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
    ),
)
def restore(ctx: Client, key: bytes, ttl: bytes, payload: bytes, *options: bytes) -> SimpleString:
    """Create ``key`` from a DUMP payload, with a TTL in ms (0: none; ABSTTL: a unix time in
    ms); BUSYKEY if it exists, unless REPLACE. Logged with the expiry made absolute."""
    replace, absolute = _restore_options(options)
    db = ctx.db
    if not replace and db.get(key) is not None:
        raise CommandError(BUSYKEY)
    milliseconds = to_int(ttl)
    if milliseconds < 0:
        raise CommandError(TTL_NEGATIVE)
    if not payload_intact(payload):
        raise CommandError(PAYLOAD_DAMAGED)
    try:
        value = load_payload(payload)
    except RDBError:
        raise CommandError(BAD_DATA_FORMAT) from None
    deleted = replace and db.delete(key, dirty=0)
    when = milliseconds if absolute or not milliseconds else milliseconds + now_ms()
    if when and when <= now_ms() and not ctx.server.loading:
        if deleted:  # it only removed the old value
            db.modified(key)
            ctx.propagate_as([b"DEL", key])
            db.notify(GENERIC, b"del", key)
        return OK
    db.store(key, value)
    if when:
        db.set_expire(key, when, dirty=0)
        if not absolute:
            ctx.propagate_as([b"RESTORE", key, b"%d" % when, payload, *options, b"ABSTTL"])
    db.notify(GENERIC, b"restore", key)
    return OK
