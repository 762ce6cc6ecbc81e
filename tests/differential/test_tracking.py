"""Client-side caching (CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO) against redis-server
7.0.15, with several connections per server: which invalidation messages a tracking client (or
the client it redirects to) receives after other clients' and its own writes, in which order
relative to its replies, in RESP3 (pushes) and RESP2 (pub/sub messages on
``__redis__:invalidate``), byte for byte; and every option's errors."""

from __future__ import annotations

import time

import pytest

from tests.helpers.clients import Clients, pack

pytestmark = pytest.mark.differential


@pytest.fixture
def clients(resp_port: int, redis_port: int):
    c = Clients(resp_port, redis_port, 3)
    yield c
    c.close()


@pytest.fixture
def resp2(resp_port: int, redis_port: int):
    c = Clients(resp_port, redis_port, 2)
    yield c
    c.close()


def _redirect(clients: Clients, tracker: str, target: str, *options: str) -> object:
    """CLIENT TRACKING ON REDIRECT <target's id on each server> from ``tracker``."""
    ids = [int(conn.call("CLIENT", "ID")[1:-2]) for conn in clients.conn(target)]
    for conn, client_id in zip(clients.conn(tracker), ids, strict=True):
        conn.send_raw(pack(("CLIENT", "TRACKING", "ON", "REDIRECT", client_id, *options)))
    return clients.read(tracker)


def test_a_read_key_changed_by_another_client_is_invalidated_once(clients):
    clients.call("t", "CLIENT", "TRACKING", "ON")
    clients.call("t", "GET", "k")
    clients.call("t", "MGET", "a", "b")
    clients.call("w", "SET", "k", "1")
    clients.read("t")  # invalidate [k]
    clients.call("w", "SET", "k", "2")  # forgotten: no second message
    clients.call("w", "DEL", "a", "b")  # nothing there: nothing changed
    clients.call("w", "MSET", "a", "1", "b", "2")
    clients.read_many("t", 2)  # invalidate [a], invalidate [b]
    assert clients.call("t", "GET", "k") == b"2"  # nothing queued in front of the reply


def test_own_write_is_invalidated_after_its_reply(clients):
    clients.call("t", "CLIENT", "TRACKING", "ON")
    clients.call("t", "GET", "k")
    clients.send("t", "SET", "k", "v")
    clients.read_many("t", 2)  # +OK, then the invalidation
    clients.call("t", "GET", "k")
    clients.send("t", "MULTI")
    clients.send("t", "SET", "k", "1")
    clients.send("t", "GET", "k")  # read again inside: remembered again
    clients.send("t", "SET", "k", "2")
    clients.send("t", "EXEC")
    clients.read_many("t", 7)  # OK QUEUED x3, EXEC's array, then both invalidations


def test_noloop_leaves_out_own_writes(clients):
    clients.call("t", "CLIENT", "TRACKING", "ON", "NOLOOP")
    clients.call("t", "GET", "k")
    clients.call("t", "SET", "k", "v")  # no invalidation for itself
    clients.call("t", "GET", "k")
    clients.call("w", "SET", "k", "w")
    clients.read("t")


def test_bcast_sends_the_keys_changed_under_each_prefix(clients):
    clients.call("t", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a:", "PREFIX", "b:")
    clients.call("w", "MSET", "a:1", "x", "b:1", "y", "c:1", "z", "a:2", "q")
    clients.read_many("t", 2)  # [a:1, a:2] then [b:1]
    clients.call("w", "SET", "c:2", "z")
    clients.call("w", "SET", "a:1", "y")
    clients.read("t")
    clients.call("all", "CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP")  # every key
    clients.call("all", "SET", "mine", "1")  # its own: left out
    clients.call("w", "SET", "theirs", "1")
    clients.read("all")
    clients.call("t", "CLIENT", "TRACKINGINFO")
    clients.call("all", "CLIENT", "TRACKINGINFO")


def test_optin_caches_only_after_caching_yes(clients):
    clients.call("t", "CLIENT", "TRACKING", "ON", "OPTIN")
    clients.call("t", "GET", "not-cached")
    clients.call("t", "CLIENT", "CACHING", "YES")
    clients.call("t", "CLIENT", "TRACKINGINFO")  # caching-yes shown
    clients.call("t", "GET", "cached")
    clients.call("t", "CLIENT", "TRACKINGINFO")  # gone after one command
    clients.call("w", "MSET", "not-cached", "1", "cached", "1")
    clients.read("t")
    clients.call("t", "CLIENT", "CACHING", "YES")
    clients.call("t", "MULTI")
    clients.call("t", "GET", "x")
    clients.call("t", "GET", "y")
    clients.call("t", "EXEC")  # the whole transaction is cached
    clients.call("w", "MSET", "x", "1", "y", "1")
    clients.read_many("t", 2)


def test_optout_caches_unless_caching_no(clients):
    clients.call("t", "CLIENT", "TRACKING", "ON", "OPTOUT")
    clients.call("t", "CLIENT", "CACHING", "NO")
    clients.call("t", "GET", "not-cached")
    clients.call("t", "GET", "cached")
    clients.call("w", "MSET", "not-cached", "1", "cached", "1")
    clients.read("t")


def test_flush_invalidates_everything_with_a_null(clients):
    clients.call("t", "CLIENT", "TRACKING", "ON")
    clients.call("t", "GET", "k")
    clients.call("w", "FLUSHALL")
    clients.read("t")  # invalidate null
    clients.send("t", "FLUSHDB")  # its own: after its reply
    clients.read_many("t", 2)
    clients.call("w", "SET", "k", "v")  # the table was emptied: nothing more


def test_an_expired_key_is_invalidated(clients):
    clients.call("w", "SET", "k", "v", "PX", "30")
    clients.call("t", "CLIENT", "TRACKING", "ON")
    clients.call("t", "GET", "k")
    time.sleep(0.3)  # the expiry cycle removes it on both servers
    clients.read("t")


def test_resp2_tracking_goes_through_a_subscribed_redirect(resp2):
    _redirect(resp2, "t", "r")
    resp2.call("r", "SUBSCRIBE", "__redis__:invalidate")
    resp2.call("t", "GET", "k")
    resp2.call("w", "SET", "k", "v")
    resp2.read("r")  # message __redis__:invalidate [k]
    resp2.call("t", "GET", "k")
    resp2.call("w", "FLUSHALL")
    resp2.read("r")  # a RESP2 tracker's null: $-1
    resp2.call("t", "GET", "k")
    resp2.call("t", "SET", "k", "w")  # its own write, told to the redirect
    resp2.read("r")


def test_resp2_without_redirect_gets_nothing(resp2):
    resp2.call("t", "CLIENT", "TRACKING", "ON")
    resp2.call("t", "GET", "k")
    resp2.call("t", "SET", "k", "v")
    assert resp2.call("t", "GET", "k") == b"v"  # no message in front of the reply


def test_a_redirect_that_went_away_is_reported(clients):
    ids = [int(conn.call("CLIENT", "ID")[1:-2]) for conn in clients.conn("gone")]
    _redirect(clients, "t", "gone")
    getredir = [conn.call("CLIENT", "GETREDIR") for conn in clients.conn("t")]
    assert getredir == [b":%d\r\n" % i for i in ids]
    for conn in clients.conns.pop("gone"):
        conn.close()
    time.sleep(0.1)
    clients.call("t", "GET", "k")
    clients.call("w", "SET", "k", "v")
    # tracking-redir-broken <the id>: the ids differ between the servers, the rest must not
    pairs = zip(clients.conn("t"), ids, strict=True)
    broken = [conn.read_reply().replace(b":%d" % i, b":ID") for conn, i in pairs]
    assert broken[0] == broken[1] == b">2\r\n$21\r\ntracking-redir-broken\r\n:ID\r\n"
    flags = [conn.call("CLIENT", "TRACKINGINFO") for conn in clients.conn("t")]
    assert flags[0].replace(b":%d" % ids[0], b"") == flags[1].replace(b":%d" % ids[1], b"")


def test_errors_and_introspection(clients):
    for command in (
        ("CLIENT", "TRACKING", "maybe"),
        ("CLIENT", "TRACKING", "ON", "PREFIX", "a"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"),
        ("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"),
        ("CLIENT", "TRACKING", "ON", "REDIRECT", "notanumber"),
        ("CLIENT", "TRACKING", "ON", "REDIRECT", "999999"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "a"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "abc"),
        ("CLIENT", "TRACKING", "ON", "NOSUCH"),
        ("CLIENT", "TRACKING", "ON", "PREFIX"),
        ("CLIENT", "CACHING", "YES"),
        ("CLIENT", "GETREDIR"),
        ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "TRACKING", "ON", "OPTIN"),
        ("CLIENT", "CACHING", "NO"),
        ("CLIENT", "CACHING", "MAYBE"),
        ("CLIENT", "TRACKING", "ON", "OPTOUT"),
        ("CLIENT", "TRACKING", "ON", "BCAST"),
        ("CLIENT", "GETREDIR"),
        ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "TRACKING", "OFF"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "xy"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "y"),
        ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "TRACKING", "ON"),
        ("CLIENT", "TRACKING", "OFF"),
        ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "CACHING", "YES"),
    ):
        clients.call("t", *command)
    clients.call("t", "CLIENT", "TRACKING", "ON", "NOLOOP")
    clients.call("t", "RESET")
    clients.call("t", "CLIENT", "TRACKINGINFO")  # RESET turned it off


def test_info_counts_tracking(clients):
    clients.call("t", "CLIENT", "TRACKING", "ON")
    clients.call("t", "MGET", "a", "b", "c")
    clients.call("u", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p")
    for name in ("tracking_clients", "tracking_total_keys", "tracking_total_items"):
        found = [_info(conn, name) for conn in clients.admin]
        assert found[0] == found[1], name
    assert _info(clients.admin[0], "tracking_total_prefixes") == 1
    clients.call("t", "CLIENT", "TRACKING", "OFF")
    clients.call("u", "CLIENT", "TRACKING", "OFF")


def _info(conn, name: str) -> int:
    text = conn.call("INFO", "everything").decode()
    return int(text.split(f"\r\n{name}:", 1)[1].split("\r\n", 1)[0])


def test_tracking_off_then_on_again_by_another_client(clients):
    """The last tracking client turning tracking off in its own command, then another
    turning it on: the second's own invalidations still follow its replies."""
    clients.call("t", "CLIENT", "TRACKING", "ON")
    clients.call("t", "CLIENT", "TRACKING", "OFF")
    clients.call("u", "CLIENT", "TRACKING", "ON")
    clients.call("u", "GET", "k")
    clients.send("u", "SET", "k", "v")
    clients.read_many("u", 2)  # +OK, then invalidate [k]
    clients.call("w", "SET", "k", "w")  # forgotten after the invalidation: nothing
    assert clients.call("u", "GET", "k") == b"w"
