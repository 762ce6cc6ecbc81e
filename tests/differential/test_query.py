"""QUERY against redis-server: its LIMIT rules are SORT's (checked on the real server), and
with the same random dataset in both servers QUERY agrees with what SCAN + HGETALL on the real
server say the data is. (QUERY's clauses, replies and errors on respserver alone:
tests/e2e/test_query.py; its grammar alone: tests/unit/test_query_engine.py.)"""

from __future__ import annotations

import redis
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers.query import (
    PROPERTY,
    actual,
    brute,
    client,
    datasets,
    queries,
    render,
    state,
    write,
)


def test_limit_matches_sort_on_redis(redis_port):
    """respserver's LIMIT rules are SORT's: check them on the real server."""
    r = client(redis_port, 2)
    r.rpush("l", *"abcde")
    for offset, count in [("-3", "2"), ("2", "-1"), ("-1", "-5"), ("9", "1"), ("2", "0")]:
        got = r.execute_command("SORT", "l", "ALPHA", "LIMIT", offset, count)
        assert (
            got
            == [k.encode() for k in "abcde"][max(int(offset), 0) :][
                : None if int(count) < 0 else int(count)
            ]
        )
    r.close()


@PROPERTY
@given(data=datasets, qs=st.lists(queries, min_size=2, max_size=4))
def test_query_equals_brute_force_over_redis(resp_port, redis_port, data, qs):
    """The same dataset in redis-server and respserver: QUERY must agree with what SCAN +
    HGETALL on the real server say the data is."""
    ours, real = redis.Redis(port=resp_port, protocol=2), redis.Redis(port=redis_port, protocol=2)
    write(ours, data)
    write(real, data)
    oracle = state(real)
    for q in qs:
        assert actual(ours, q) == brute(oracle, q), render(q)
    ours.close()
    real.close()
