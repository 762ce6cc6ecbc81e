"""The append-only file against redis-server: Redis 7 loads the AOF respserver writes (its
chunk headers are annotations to it), as logged or rewritten, into the same data set, and
SHUTDOWN's and BGREWRITEAOF's argument errors are Redis's. (Restarts, damage, rewrites and
crashes on respserver alone: tests/e2e/test_aof.py.)"""

from __future__ import annotations

from respserver.persistence import aof
from tests.conftest import redis_server_on
from tests.helpers.persistence import (
    dump,
    every_kind_of_write,
    logged,
    persistent,
    port_of,
    rewrite_done,
)


def test_redis_server_loads_the_file(tmp_path):
    """The chunk headers are AOF annotations to Redis 7: it loads the same data set."""
    with persistent(tmp_path) as r:
        every_kind_of_write(r)
        ours = dump(port_of(r))
    with redis_server_on(tmp_path, appendonly="yes") as port:
        assert dump(port) == ours


def test_redis_server_loads_a_rewritten_file(tmp_path):
    """A rewrite writes each type back as commands (ZADD with %.17g scores, in groups) that
    rebuild the same data set, here and in Redis."""
    with persistent(tmp_path) as r:
        every_kind_of_write(r)
        ours = dump(port_of(r))
        r.bgrewriteaof()
        rewrite_done(r)
    commands = logged(tmp_path)
    names = {argv[0] for argv in commands}
    assert {b"ZADD", b"RPUSH", b"SADD", b"HSET"} <= names and b"ZPOPMIN" not in names
    groups = [argv for argv in commands if argv[:2] == [b"ZADD", b"zbig"]]
    assert len(groups) > 1 and all(
        len(argv) <= 2 + 2 * aof.REWRITE_ITEMS_PER_CMD for argv in groups
    )
    with persistent(tmp_path) as r:
        assert dump(port_of(r)) == ours
    with redis_server_on(tmp_path, appendonly="yes") as port:
        assert dump(port) == ours


def test_shutdown_errors_match_redis(diff):
    for args in [("ABORT",), ("NOSAVE", "SAVE"), ("ABORT", "NOW"), ("foo",), ("now", "bar")]:
        diff.do("SHUTDOWN", *args)
    diff.do("BGREWRITEAOF", "x")
