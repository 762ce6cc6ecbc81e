"""The internal encoding Redis 7.0 would give a value (OBJECT ENCODING), decided from the value's
current contents and the size thresholds (the ``*-max-listpack-*`` and ``set-max-intset-entries``
parameters, passed in as ``Thresholds``: the keyspace reads no configuration).

Redis decides at write time and converts one way only: a hash or set that outgrew its compact
encoding stays a hashtable when it shrinks, and APPEND, SETRANGE, SETBIT or INCRBYFLOAT leave a
string ``raw`` or ``embstr`` whatever it then holds. Values here remember no such history (but
sorted sets, which keep Redis's one-way ``compact`` flag), so after those the answer is the one
Redis would give for the same contents written afresh; except that a string holding a
HyperLogLog is ``raw``, as every PF command leaves it, however short.
"""

from __future__ import annotations

from typing import NamedTuple

from respserver.errors import CommandError
from respserver.keyspace import hyperloglog
from respserver.keyspace.lists import ListValue
from respserver.keyspace.sets import SetValue
from respserver.keyspace.streams import StreamValue
from respserver.keyspace.zsets import ZSetValue
from respserver.numbers import to_int

EMBSTR_SIZE_LIMIT = 44  # OBJ_ENCODING_EMBSTR_SIZE_LIMIT
INTSET_CAP = 1 << 30  # Redis caps set-max-intset-entries there
SHARED_INTEGERS = 10000  # OBJ_SHARED_INTEGERS: 0..9999 are shared objects


class Thresholds(NamedTuple):
    """The parameters the compact encodings depend on."""

    hash_entries: int = 512  # hash-max-listpack-entries
    hash_value: int = 64  # hash-max-listpack-value
    set_entries: int = 512  # set-max-intset-entries


def as_long(value: bytes) -> int | None:
    """The integer tryObjectEncoding would store ``value`` as (at most 20 bytes that string2l
    reads), or None."""
    if len(value) > 20:
        return None
    try:
        return to_int(value)
    except CommandError:
        return None


def encoding(value: object, limits: Thresholds) -> bytes:
    """OBJECT ENCODING's name for ``value``."""
    if isinstance(value, bytes):
        if as_long(value) is not None:
            return b"int"
        if len(value) > EMBSTR_SIZE_LIMIT or hyperloglog.is_valid(value):
            return b"raw"  # the PF commands make (or unshare) a HyperLogLog raw
        return b"embstr"
    if isinstance(value, dict):
        return b"listpack" if _small_hash(value, limits) else b"hashtable"
    if isinstance(value, ListValue):
        return b"quicklist"  # every list, in Redis 7.0
    if isinstance(value, SetValue):
        small = value.intset_order(min(limits.set_entries, INTSET_CAP)) is not None
        return b"intset" if small else b"hashtable"
    if isinstance(value, ZSetValue):
        return b"listpack" if value.compact else b"skiplist"
    if isinstance(value, StreamValue):
        return b"stream"
    raise TypeError(f"no encoding for {type(value).__name__}")


def _small_hash(fields: dict[bytes, bytes], limits: Thresholds) -> bool:
    if len(fields) > limits.hash_entries:
        return False
    longest = limits.hash_value
    return all(len(f) <= longest and len(v) <= longest for f, v in fields.items())


def shared_integer(value: object) -> bool:
    """Whether a string value is one of Redis's shared integers (0..9999), which it stores
    instead of a value of its own unless maxmemory is set with an LRU or LFU policy."""
    if not isinstance(value, bytes):
        return False
    number = as_long(value)
    return number is not None and 0 <= number < SHARED_INTEGERS
