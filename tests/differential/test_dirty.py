"""The count of changes since the last save (INFO's rdb_changes_since_last_save, Redis's
server.dirty) grows as Redis's for every kind of write: respserver counts it in the databases'
write API, so no handler can change data without it counting (and reaching the AOF)."""

from __future__ import annotations

import pytest

from tests.helpers.differential import assert_changes_as_redis

pytestmark = pytest.mark.differential


STEPS = [
    ("SET", "s", "1"),
    ("SET", "s", "2", "EX", "100"),
    ("SET", "s", "3", "PX", "1", "NX"),
    ("SETNX", "s", "x"),
    ("SETEX", "e", "100", "v"),
    ("MSET", "a", "1", "b", "2", "c", "3"),
    ("MSETNX", "a", "1", "z", "2"),
    ("MSETNX", "y", "1", "z", "2"),
    ("APPEND", "a", "more"),
    ("SETRANGE", "b", "3", "xy"),
    ("INCR", "n"),
    ("INCRBYFLOAT", "n", "1.5"),
    ("GETSET", "a", "new"),
    ("GETDEL", "b"),
    ("GETDEL", "b"),
    ("GETEX", "a", "EX", "100"),
    ("GETEX", "a", "PERSIST"),
    ("GETEX", "a"),
    ("EXPIRE", "a", "100"),
    ("PEXPIRE", "c", "-1"),
    ("EXPIRE", "missing", "100"),
    ("PERSIST", "a"),
    ("PERSIST", "a"),
    ("RENAME", "a", "a2"),
    ("RENAMENX", "a2", "s"),
    ("COPY", "a2", "a3"),
    ("COPY", "a2", "a3", "REPLACE"),
    ("MOVE", "a3", "1"),
    ("DEL", "a2", "s", "missing"),
    ("UNLINK", "y", "z"),
    ("HSET", "h", "f", "1", "g", "2"),
    ("SWAPDB", "0", "1"),
    ("SWAPDB", "0", "0"),
    ("FLUSHDB",),
    ("SET", "k", "v"),
    ("FLUSHALL",),
    ("FLUSHALL",),
]


def test_every_write_counts_as_in_redis(diff):
    assert_changes_as_redis(diff, STEPS)
