"""The append-only file against redis-server: Redis 7 loads the AOF respserver writes (its
chunk headers are annotations to it) into the same data set, and SHUTDOWN's and BGREWRITEAOF's
argument errors are Redis's. (Restarts, damage, rewrites and crashes on respserver alone:
tests/e2e/test_aof.py.)"""

from __future__ import annotations

from tests.conftest import redis_server_on
from tests.helpers.persistence import dump, every_kind_of_write, persistent, port_of


def test_redis_server_loads_the_file(tmp_path):
    """The chunk headers are AOF annotations to Redis 7: it loads the same data set."""
    with persistent(tmp_path) as r:
        every_kind_of_write(r)
        ours = dump(port_of(r))
    with redis_server_on(tmp_path, appendonly="yes") as port:
        assert dump(port) == ours


def test_shutdown_errors_match_redis(diff):
    for args in [("ABORT",), ("NOSAVE", "SAVE"), ("ABORT", "NOW"), ("foo",), ("now", "bar")]:
        diff.do("SHUTDOWN", *args)
    diff.do("BGREWRITEAOF", "x")
