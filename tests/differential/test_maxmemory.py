"""maxmemory against redis-server with the same settings: the OOM replies byte for byte, what
MULTI and EXEC do when memory runs out, the policies evicting on any command, a watched key's
eviction failing EXEC, the rejected-call counts, and the parameters in INFO and CONFIG.
(Eviction on respserver alone: tests/e2e/test_maxmemory.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import Diff
from tests.helpers.eviction import ALLKEYS, VOLATILE

OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
DEFAULTS = ("maxmemory", "0", "maxmemory-policy", "noeviction", "maxmemory-samples", "5")


@pytest.fixture
def limited(diff: Diff) -> Iterator[Diff]:
    """``diff``, with both servers' maxmemory settings put back afterwards (they are shared)."""
    yield diff
    for port in (diff.ours, diff.real):
        port.call("CONFIG", "SET", *DEFAULTS)


def other_connections(diff: Diff, resp_port: int, redis_port: int) -> Diff:
    """A second pair of connections to the same two servers."""
    return Diff(resp_port, redis_port, diff.protocol)


def test_noeviction_refuses_denyoom_commands_only(limited: Diff) -> None:
    d = limited
    d.do("SET", "s", "1")
    d.do("HSET", "h", "f", "1")
    d.do("SET", "t", "v", "EX", "1000")
    d.do("CONFIG", "SET", "maxmemory", "1")
    refused = [
        ("SET", "s", "2"),
        ("SET", "new", "v", "EX", "10"),
        ("SET", "s", "v", "NOSUCHOPTION"),  # refused before the syntax is read
        ("SETNX", "x", "1"),
        ("SETEX", "x", "10", "v"),
        ("PSETEX", "x", "10", "v"),
        ("GETSET", "s", "v"),
        ("MSET", "a", "1", "b", "2"),
        ("MSETNX", "a", "1"),
        ("APPEND", "s", "x"),
        ("SETRANGE", "s", "0", "x"),
        ("INCR", "s"),
        ("DECR", "s"),
        ("INCRBY", "s", "2"),
        ("DECRBY", "s", "2"),
        ("INCRBYFLOAT", "s", "1.5"),
        ("HSET", "h", "g", "2"),
        ("HMSET", "h", "g", "2"),
        ("HSETNX", "h", "g", "2"),
        ("HINCRBY", "h", "f", "1"),
        ("HINCRBYFLOAT", "h", "f", "1"),
        ("COPY", "s", "s2"),
    ]
    for args in refused:
        assert d.do(*args) == OOM, args
    allowed = [
        ("SET", "s"),  # the arity check comes first
        ("NOSUCH", "x"),
        ("GET", "s"),
        ("MGET", "s", "h"),
        ("HGET", "h", "f"),
        ("HGETALL", "h"),
        ("EXISTS", "s", "h", "t"),
        ("TYPE", "h"),
        ("STRLEN", "s"),
        ("DBSIZE",),
        ("PING",),
        ("ECHO", "x"),
        ("EXPIRE", "s", "1000"),
        ("PERSIST", "s"),
        ("TTL", "t"),
        ("RENAME", "s", "s3"),
        ("HDEL", "h", "nosuch"),
        ("GETDEL", "s3"),
        ("DEL", "t"),
        ("KEYS", "*"),
    ]
    for args in allowed:
        assert not d.do(*args).startswith(b"-OOM"), args
    d.do("DBSIZE")


def test_config_set_maxmemory_back_to_zero_lifts_the_limit(limited: Diff) -> None:
    d = limited
    d.do("CONFIG", "SET", "maxmemory", "1")
    assert d.do("SET", "k", "v") == OOM
    d.do("CONFIG", "SET", "maxmemory", "0")
    d.do("SET", "k", "v")
    d.do("GET", "k")
    d.do("CONFIG", "SET", "maxmemory", "1kb")
    assert d.do("INCR", "n") == OOM
    d.do("CONFIG", "GET", "maxmemory")


def test_multi_refuses_every_command_but_exec_discard_reset(limited: Diff) -> None:
    d = limited
    d.do("SET", "k", "v")
    d.do("CONFIG", "SET", "maxmemory", "1")
    d.do("MULTI")
    for args in [("SET", "k", "w"), ("GET", "k"), ("PING",), ("MULTI",), ("WATCH", "k")]:
        assert d.do(*args) == OOM, args
    assert d.do("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    d.do("MULTI")
    d.do("DISCARD")
    d.do("MULTI")
    d.do("EXEC")
    d.do("MULTI")
    d.do("RESET")
    d.do("EXEC")
    d.do("GET", "k")


def test_exec_of_queued_denyoom_commands_after_memory_ran_out(
    limited: Diff, resp_port: int, redis_port: int
) -> None:
    d, other = limited, other_connections(limited, resp_port, redis_port)
    try:
        d.do("WATCH", "w")
        d.do("MULTI")
        d.do("SET", "k", "v")
        d.do("GET", "k")
        other.do("CONFIG", "SET", "maxmemory", "1")
        reply = d.do("EXEC")
        assert reply.startswith(b"-EXECABORT Transaction discarded because of: OOM command")
        d.do("EXEC")  # the transaction is gone, and so is the WATCH
        d.do("GET", "k")
        d.do("CONFIG", "SET", "maxmemory", "0")
        d.do("MULTI")
        d.do("GET", "k")
        d.do("PING")
        d.do("DEL", "k")
        other.do("CONFIG", "SET", "maxmemory", "1")
        d.do("EXEC")  # nothing denyoom queued: it runs
    finally:
        other.close()


@pytest.mark.parametrize("policy", VOLATILE)
def test_volatile_policies_evict_volatile_keys_then_refuse(limited: Diff, policy: str) -> None:
    d = limited
    d.do("MSET", "p1", "1", "p2", "2", "p3", "3")
    d.do("CONFIG", "SET", "maxmemory-policy", policy, "maxmemory", "1")
    assert d.do("SET", "k", "v") == OOM  # no key has a TTL: nothing to evict
    for key in ("v1", "v2", "v3"):
        d.do("CONFIG", "SET", "maxmemory", "0")
        d.do("SET", key, "x", "EX", "1000")
        d.do("CONFIG", "SET", "maxmemory", "1")
    assert d.do("HSET", "h", "f", "v") == OOM  # the volatile keys went first, to no avail
    d.do("DBSIZE")
    d.do("EXISTS", "p1", "p2", "p3", "v1", "v2", "v3")


@pytest.mark.parametrize("policy", ALLKEYS)
def test_allkeys_policies_evict_on_any_command(limited: Diff, policy: str) -> None:
    d = limited
    d.do("MSET", "a", "1", "b", "2", "c", "3")
    d.do("SET", "t", "x", "EX", "1000")
    d.do("SELECT", "1")
    d.do("HSET", "h", "f", "v")
    d.do("CONFIG", "SET", "maxmemory-policy", policy, "maxmemory", "1")
    d.do("GET", "h")  # not denyoom, so it runs, after evicting everything
    d.do("DBSIZE")
    d.do("SELECT", "0")
    d.do("DBSIZE")
    assert d.do("SET", "a", "1") == OOM


def test_eviction_of_a_watched_key_fails_exec(
    limited: Diff, resp_port: int, redis_port: int
) -> None:
    d, other = limited, other_connections(limited, resp_port, redis_port)
    try:
        d.do("MSET", "k", "1", "j", "2")
        d.do("WATCH", "k")
        other.do("CONFIG", "SET", "maxmemory-policy", "allkeys-random", "maxmemory", "1")
        other.do("DBSIZE")
        other.do("CONFIG", "SET", "maxmemory", "0")
        d.do("MULTI")
        d.do("GET", "j")
        d.do("EXEC")
    finally:
        other.close()


STAT = re.compile(rb"cmdstat_(set|exec|get):calls=(\d+),usec=\d+,usec_per_call=[\d.]+,(.*)\r")


def test_refusals_are_counted_as_rejected_calls(limited: Diff) -> None:
    d = limited
    d.do("CONFIG", "RESETSTAT")
    d.do("CONFIG", "SET", "maxmemory", "1")
    d.do("SET", "k", "v")
    d.do("GET", "k")
    d.do("MULTI")
    d.do("SET", "k", "v")
    d.do("EXEC")
    ours, real = d.both("INFO", "commandstats")
    assert sorted(STAT.findall(ours)) == sorted(STAT.findall(real))
    assert (b"set", b"0", b"rejected_calls=2,failed_calls=0") in STAT.findall(ours)


def test_info_and_config_of_the_parameters(limited: Diff) -> None:
    d = limited
    d.do("CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "ALLKEYS-LFU")
    ours, real = d.both("INFO", "memory")
    for field in (b"maxmemory", b"maxmemory_human", b"maxmemory_policy"):
        pattern = re.compile(rb"\r\n" + field + rb":([^\r]*)\r\n")
        assert pattern.search(ours)[1] == pattern.search(real)[1], field
    for name in ("lfu-log-factor", "lfu-decay-time"):
        for value in ("0", "3", "-1", "2147483648", "x"):
            d.do("CONFIG", "SET", name, value)
        d.do("CONFIG", "GET", name)
        d.do("CONFIG", "SET", name, "10" if name == "lfu-log-factor" else "1")
    d.do_sorted("CONFIG", "GET", "lfu-*")
