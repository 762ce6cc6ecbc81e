"""Helpers of the RDB codec's tests: files written and read in memory, entries regrouped per
database, and the errors damaged files must raise."""

from __future__ import annotations

import io

import pytest

from respserver.persistence import rdb
from respserver.persistence.rdb import RDBError, load_rdb, read_rdb, write_rdb

HOUR = 3_600_000

Dumps = dict[int, tuple[dict[bytes, object], dict[bytes, int]]]


def dump(databases: list[rdb.DatabaseDump], **kw: int) -> bytes:
    out = io.BytesIO()
    write_rdb(out, databases, **kw)
    return out.getvalue()


def read(blob: bytes) -> list[rdb.Entry]:
    return list(read_rdb(io.BytesIO(blob)))


def as_dumps(entries: list[rdb.Entry]) -> Dumps:
    """Entries regrouped per database, for comparing with what was written."""
    dbs: Dumps = {}
    for db, key, value, expire in entries:
        data, expires = dbs.setdefault(db, ({}, {}))
        data[key] = value
        if expire is not None:
            expires[key] = expire
    return dbs


def expected(databases: list[rdb.DatabaseDump]) -> Dumps:
    """What reading back must give: empty databases vanish."""
    return {db: (data, expires) for db, data, expires in databases if data}


def expect_error(blob: bytes, match: str | None = None) -> RDBError:
    with pytest.raises(RDBError, match=match) as info:
        read(blob)
    return info.value


def assert_every_bit_flip_fails(blob: bytes) -> None:
    for offset in range(len(blob)):
        for bit in range(8):
            damaged = bytearray(blob)
            damaged[offset] ^= 1 << bit
            with pytest.raises(RDBError):
                load_rdb(io.BytesIO(bytes(damaged)))
