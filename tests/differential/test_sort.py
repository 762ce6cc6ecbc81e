"""SORT and SORT_RO against redis-server 7.0.15, RESP2 and RESP3: lists, sets and sorted sets
sorted by value or by the keys they name, with LIMIT, GET, ALPHA, DESC and STORE, and the
errors.

No value out of a double's range is sorted here: redis-server reads errno after strtod
without clearing it first, so one such value fails its later sorts too. A set's own order is
Redis's hash order: sets are compared sorted, or through STORE, which sorts them as Redis
does."""

from __future__ import annotations

import pytest

from tests.conftest import Diff
from tests.helpers.differential import assert_changes_as_redis

pytestmark = pytest.mark.differential


def test_numeric_and_alpha_sorts_of_a_list(play):
    play(
        """
        RPUSH l 3 1 2 10 -1.5 1e2 0x10 2
        SORT l
        SORT l DESC
        SORT l ALPHA
        SORT l ALPHA DESC
        SORT l LIMIT 1 3
        SORT l LIMIT -5 2
        SORT l LIMIT 6 100
        SORT l LIMIT 100 1
        SORT l LIMIT 0 -1
        SORT l LIMIT 0 0
        SORT l LIMIT x 1
        SORT l LIMIT 1
        SORT_RO l DESC LIMIT 2 2
        RPUSH bad 1 two 3
        SORT bad
        SORT bad ALPHA
        RPUSH odd "" " 7" "8 " nan
        SORT odd ALPHA
        SORT odd LIMIT 0 2
        RPUSH odd2 "" " 7" -inf inf
        SORT odd2
        SORT nokey
        SORT nokey STORE dst
        EXISTS dst
        """
    )


def test_by_and_get_patterns(play):
    play(
        """
        RPUSH ids 1 2 3 4
        MSET w_1 40 w_2 10 w_3 30 o_1 one o_2 two o_3 three o_4 four
        HSET h_1 f 4 name a
        HSET h_2 f 3 name b
        HSET h_3 f 1 name c
        HSET h_4 f 2
        SORT ids BY w_*
        SORT ids BY w_* DESC
        SORT ids BY w_* GET o_* GET #
        SORT ids BY h_*->f GET h_*->name GET o_*
        SORT ids BY h_*->f DESC LIMIT 1 2 GET #
        SORT ids BY nosort
        SORT ids BY nosort DESC
        SORT ids BY nosort LIMIT 1 2 DESC
        SORT ids BY nosort GET o_* GET constant GET h_*-> GET h_*->nofield
        SORT ids BY w_* ALPHA GET o_*
        SORT ids GET o_* GET
        SORT ids BY
        SORT ids FOO
        SORT_RO ids STORE dst
        SET s_1 notanumber
        SORT ids BY s_*
        """
    )


def test_sets_and_sorted_sets(play):
    play(
        """
        SADD s 5 3 9 1
        SORT s
        SORT s DESC LIMIT 0 2
        SORT s ALPHA
        SORT s BY nosort STORE dst
        LRANGE dst 0 -1
        ZADD z 1 c 2 b 3 a 3 aa
        SORT z ALPHA
        SORT z BY nosort
        SORT z BY nosort DESC
        SORT z BY nosort LIMIT 1 2
        SORT z BY nosort DESC LIMIT 1 10
        SORT z
        SET str v
        SORT str
        HSET hash f v
        SORT_RO hash
        """
    )


def test_store_replaces_deletes_and_counts_as_redis(diff: Diff):
    for args in (("RPUSH", "l", "3", "1", "2"), ("SET", "dst", "old", "EX", "100")):
        diff.do(*args)
    assert_changes_as_redis(
        diff,
        [
            ("SORT", "l", "STORE", "dst"),
            ("TTL", "dst"),
            ("LRANGE", "dst", "0", "-1"),
            ("SORT", "l", "GET", "nothing_*", "GET", "#", "STORE", "dst"),
            ("LRANGE", "dst", "0", "-1"),
            ("SORT", "l", "LIMIT", "5", "5", "STORE", "dst"),
            ("EXISTS", "dst"),
            ("SORT", "l", "LIMIT", "5", "5", "STORE", "dst"),
            ("SORT", "l", "STORE", "a", "STORE", "b"),
            ("EXISTS", "a", "b"),
        ],
    )


def test_getkeys_finds_the_sorted_key_and_the_last_store(diff: Diff):
    for args in (
        ("COMMAND", "GETKEYSANDFLAGS", "SORT", "a", "BY", "w_*", "GET", "x", "STORE", "dst"),
        ("COMMAND", "GETKEYSANDFLAGS", "SORT", "a", "STORE", "d1", "LIMIT", "0", "1"),
        ("COMMAND", "GETKEYSANDFLAGS", "SORT", "a", "STORE", "d1", "STORE", "d2"),
        ("COMMAND", "GETKEYSANDFLAGS", "SORT", "a", "LIMIT", "STORE", "x", "y"),
        ("COMMAND", "GETKEYSANDFLAGS", "SORT_RO", "a", "GET", "x"),
        ("COMMAND", "INFO", "SORT", "SORT_RO"),
    ):
        diff.do(*args)


def test_sort_store_wakes_a_blocked_client(resp_port, redis_port):
    from tests.helpers.clients import Clients

    clients = Clients(resp_port, redis_port, 2)
    try:
        clients.call("p", "RPUSH", "src", "2", "1")
        clients.block("a", "BLPOP", "sorted", 0)
        clients.call("p", "SORT", "src", "STORE", "sorted")
        assert clients.read("a") == [b"sorted", b"1"]
    finally:
        clients.close()


def test_by_and_get_need_a_user_who_may_read_every_key(diff: Diff):
    for args in (
        ("ACL", "SETUSER", "sorter", "on", "nopass", "+@all", "~ids", "~w_*", "~o_*"),
        ("ACL", "SETUSER", "reader", "on", "nopass", "+@all", "%R~*", "~ids"),
        ("RPUSH", "ids", "2", "1"),
        ("MSET", "w_1", "2", "w_2", "1", "o_1", "one", "o_2", "two"),
        ("AUTH", "sorter", "x"),
        ("SORT", "ids"),
        ("SORT", "ids", "BY", "nosort"),
        ("SORT", "ids", "BY", "w_*"),
        ("SORT", "ids", "GET", "o_*"),
        ("SORT_RO", "ids", "GET", "#"),
        ("AUTH", "reader", "x"),
        ("SORT", "ids", "BY", "w_*", "GET", "o_*"),
        ("AUTH", "default", "x"),
        ("ACL", "DELUSER", "sorter", "reader"),
    ):
        diff.do(*args)
