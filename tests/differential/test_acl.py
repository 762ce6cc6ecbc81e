"""ACL users against redis-server 7.0.15: SETUSER's rules and errors, GETUSER/LIST/USERS,
AUTH as a user, NOPERM for commands and keys (with %R~/%W~), MULTI/EXEC, DRYRUN, DELUSER closing
connections, the ACL log, and the ACL file (start-up, SAVE, LOAD). Each test runs on a pair of
servers of this module's own, so the users it creates never reach other tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from respserver import ServerThread
from tests.conftest import Diff, RawConnection, parse, redis_server_on


class Pair(Diff):
    """A connection to each server (no FLUSHALL: the data stays); ``do`` asserts both reply
    with the same bytes."""

    def __init__(self, ports: tuple[int, int], protocol: int = 2) -> None:
        super().__init__(*ports, protocol, flush=False)
        self.ports = ports

    def do_rules(self, *args: object) -> object:
        """For replies holding rule strings: single-command rules (``+get +set``) come in
        Redis's hash-table order, which is arbitrary, so each string is compared as a sorted
        list of its words."""
        ours, real = (_words(parse(raw)) for raw in self.both(*args))
        assert ours == real, f"{args!r}:\n  respserver:   {ours!r}\n  redis-server: {real!r}"
        return ours

    def login(self, user: str, password: str) -> Pair:
        """A new pair of connections, logged in as ``user``, speaking this pair's protocol."""
        pair = Pair(self.ports, self.protocol)
        assert pair.do("AUTH", user, password) == b"+OK\r\n"
        return pair

    @contextmanager
    def as_user(self, name: str, *rules: str) -> Iterator[Pair]:
        """The user ``name`` made with ``rules`` (its password, if any, is "pw"), and a pair
        of connections logged in as it for the block."""
        self.do("ACL", "SETUSER", name, *rules)
        pair = self.login(name, "pw")
        try:
            yield pair
        finally:
            pair.close()


def _words(value: object) -> object:
    if isinstance(value, bytes) and b" " in value:
        return sorted(value.split())
    if isinstance(value, list):
        return [_words(v) for v in value]
    if isinstance(value, dict):
        return {k: _words(v) for k, v in value.items()}
    return value


RESPSERVER_ONLY = {b"query", b"client|setinfo"}  # not in redis-server 7.0


def closed(conn: RawConnection) -> bool:
    """Whether the server has closed this connection (a PING gets no reply)."""
    try:
        return conn.call("PING") == b""
    except ConnectionResetError:
        return True


@pytest.fixture(scope="module")
def ports(tmp_path_factory) -> Iterator[tuple[int, int]]:
    ours_dir, real_dir = tmp_path_factory.mktemp("ours"), tmp_path_factory.mktemp("real")
    with ServerThread(port=0, config={"dir": str(ours_dir)}) as server:
        with redis_server_on(real_dir) as redis_port:
            yield server.port, redis_port


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def acl(request, ports) -> Iterator[Pair]:
    """An admin connection to each server; afterwards only the default user is left, as it
    was at the start."""
    pair = Pair(ports, request.param)
    yield pair
    admin = Pair(ports)
    for port_conn in (admin.ours, admin.real):
        users = parse(port_conn.call("ACL", "USERS"))
        others = [u for u in users if u != b"default"]
        if others:
            port_conn.call("ACL", "DELUSER", *others)
        port_conn.call("ACL", "SETUSER", "default", "on", "nopass", "~*", "&*", "+@all")
        port_conn.call("ACL", "LOG", "RESET")
        port_conn.call("FLUSHALL")
    admin.close()
    pair.close()


# --- rules, and how they read back ---------------------------------------------------------------

RULE_SETS = [
    ["on", ">pw", "~cache:*", "+get"],
    ["on", ">pw", "~cache:*", "%R~ro:*", "%W~wo:*", "%RW~both:*", "+@hash", "-hdel", "+get"],
    ["off", "nopass", "allkeys", "allcommands"],
    ["on", "#" + "a" * 64, "resetchannels", "&news.*", "-@all", "+@read"],
    ["on", "nopass", "~*", "+@all", "-@dangerous"],
    ["on", "nopass", "~*", "+@all", "-flushall", "-config|set"],
    ["on", ">a", ">b", "<a", "~k", "+config|get", "+client|id"],
    ["reset"],
    ["on", "nopass", "(+get ~x)", "(+set %W~y)"],
    ["on", "allcommands", "nocommands", "+select|0", "+select|1"],
    ["skip-sanitize-payload", "sanitize-payload", "resetpass", "allchannels"],
    ["~a", "~a", "%R~b", "%W~b", "resetkeys", "~c"],
    ["", "on"],
]


@pytest.mark.parametrize("rules", RULE_SETS, ids=lambda rules: " ".join(rules) or "empty")
def test_setuser_then_getuser_and_list(acl, rules):
    acl.do("ACL", "SETUSER", "alice", *rules)
    acl.do_rules("ACL", "GETUSER", "alice")
    acl.do_rules("ACL", "LIST")
    acl.do("ACL", "USERS")


def test_setuser_changes_an_existing_user(acl):
    acl.do("ACL", "SETUSER", "alice", "on", ">one", "~a:*", "+get")
    acl.do("ACL", "SETUSER", "alice", ">two", "~b:*", "+set", "-get")
    acl.do_rules("ACL", "GETUSER", "alice")
    acl.do("ACL", "SETUSER", "alice", "clearselectors", "reset")
    acl.do_rules("ACL", "LIST")


BAD_RULES = [
    "foo",
    "+nosuch",
    "-nosuch",
    "+@nosuch",
    "-@nosuch",
    "#short",
    "#" + "A" * 64,
    "!" + "g" * 64,
    "<never-set",
    "%",
    "%X~a",
    "%RR~a",
    "~a b",
    "+config|get|x",
    "+config|",
    "+get|",
    "+config|nosuch",
    "-select|0",
    "(+nosuch)",
    "(on)",
    "(+get ~a b",
]


@pytest.mark.parametrize("rule", BAD_RULES)
def test_setuser_refuses_bad_rules_and_changes_nothing(acl, rule):
    acl.do("ACL", "SETUSER", "alice", "on", "~k", "+get")
    acl.do("ACL", "SETUSER", "alice", "+set", rule, "+del")
    acl.do_rules("ACL", "GETUSER", "alice")


def test_setuser_errors_of_patterns_after_all(acl):
    acl.do("ACL", "SETUSER", "bob", "allkeys", "~x")
    acl.do("ACL", "SETUSER", "bob", "allchannels", "&x")
    acl.do("ACL", "SETUSER", "bob name")
    acl.do("ACL", "SETUSER", "bob", "(+get", "~x")
    acl.do("ACL", "SETUSER", "bob", "(+get", "~x)", "(%R~y", "+set)")
    acl.do_rules("ACL", "GETUSER", "bob")
    acl.do("ACL", "GETUSER", "nosuch")


def test_deluser_and_its_errors(acl):
    acl.do("ACL", "SETUSER", "a")
    acl.do("ACL", "SETUSER", "b")
    acl.do("ACL", "DELUSER", "a", "default")
    acl.do("ACL", "DELUSER", "a", "nosuch", "b")
    acl.do("ACL", "USERS")


def test_other_subcommands_and_their_errors(acl):
    acl.do("ACL", "WHOAMI")
    acl.do("ACL", "CAT")
    for category in ("hash", "string", "KEYSPACE", "connection", "transaction", "admin"):
        ours, real = (sorted(parse(raw)) for raw in acl.both("ACL", "CAT", category))
        # respserver implements a subset of Redis's commands: each it has is listed as Redis does
        assert set(ours) - RESPSERVER_ONLY <= set(real), set(ours) - set(real)
        assert ours
    for args in (
        ("CAT", "nosuch"),
        ("CAT", "a", "b"),
        ("GENPASS", "0"),
        ("GENPASS", "4097"),
        ("GENPASS", "x"),
        ("GENPASS", "1", "2"),
        ("LOG", "x"),
        ("LOG", "1", "2"),
        ("SAVE",),
        ("LOAD",),
        ("NOSUCH",),
        ("WHOAMI", "x"),
        ("USERS", "x"),
        ("GETUSER",),
        ("DRYRUN", "default"),
    ):
        acl.do("ACL", *args)
    acl.do("ACL", "HELP")
    for bits, length in (("1", 1), ("4", 1), ("5", 2), ("256", 64), ("4096", 1024)):
        ours, real = (parse(raw) for raw in acl.both("ACL", "GENPASS", bits))
        assert len(ours) == len(real) == length
        int(ours, 16)


# --- logging in, and what a user may do ----------------------------------------------------------


def test_auth_as_users(acl):
    acl.do("ACL", "SETUSER", "alice", "on", ">pw", "allkeys", "+@all")
    acl.do("ACL", "SETUSER", "bob", "off", ">pw", "allkeys", "+@all")
    acl.do("ACL", "SETUSER", "carol", "on", "nopass", "allkeys", "+@all")
    acl.do("AUTH", "alice", "wrong")
    acl.do("AUTH", "bob", "pw")  # disabled
    acl.do("AUTH", "nosuch", "pw")
    acl.do("AUTH", "pw")  # the default user has no password
    acl.do("AUTH", "carol", "anything")
    acl.do("ACL", "WHOAMI")
    acl.do("AUTH", "alice", "pw")
    acl.do("ACL", "WHOAMI")
    acl.do("HELLO", "2", "AUTH", "alice", "wrong")
    acl.do("ACL", "WHOAMI")
    acl.do("AUTH", "a", "b", "c")


def test_nopass_default_and_a_password_for_it(ports):
    admin = Pair(ports)
    try:
        admin.do("ACL", "SETUSER", "default", "resetpass", ">s3cret")
        fresh = Pair(ports)
        fresh.do("GET", "k")
        fresh.do("ACL", "WHOAMI")
        fresh.do("AUTH", "wrong")
        fresh.do("AUTH", "s3cret")
        fresh.do("GET", "k")
        admin.do("ACL", "SETUSER", "default", "nopass")
        later = Pair(ports)
        later.do("GET", "k")
        fresh.close()
        later.close()
        admin.do("CONFIG", "SET", "requirepass", "other")
        admin.do_rules("ACL", "LIST")
        admin.do("CONFIG", "SET", "requirepass", "")
        admin.do("ACL", "LIST")
    finally:
        admin.do("ACL", "SETUSER", "default", "nopass")
        admin.close()


def _log_shapes(acl) -> list[list]:
    """ACL LOG on both servers, each entry as its count, reason, context, object and user
    (the rest describes the connection); the two must be equal."""
    shapes = []
    for raw in acl.both("ACL", "LOG"):
        log = parse(raw)
        rows = [dict(zip(e[::2], e[1::2], strict=True)) if isinstance(e, list) else e for e in log]
        shapes.append(
            [
                [row[k] for k in (b"count", b"reason", b"context", b"object", b"username")]
                for row in rows
            ]
        )
        for row in rows:
            assert 0 <= float(row[b"age-seconds"]) < 30
            assert b" user=" in row[b"client-info"]
    assert shapes[0] == shapes[1]
    return shapes


def test_noperm_for_commands_subcommands_and_keys(acl):
    rules = ("on", ">pw", "~app:*", "%R~ro:*", "%W~wo:*", "+@read", "+@write", "-del")
    with acl.as_user("alice", *rules, "+config|get", "+client") as alice:
        for args in (
            ("SET", "app:1", "v"),
            ("GET", "app:1"),
            ("DEL", "app:1"),
            ("FLUSHALL",),
            ("SET", "other", "v"),
            ("GET", "ro:1"),
            ("SET", "ro:1", "v"),
            ("SET", "wo:1", "v"),
            ("SET", "wo:1", "v", "GET"),
            ("GET", "wo:1"),
            ("MSET", "app:2", "a", "wo:2", "b"),
            ("MSET", "app:2", "a", "ro:2", "b"),
            ("MGET", "app:1", "ro:1", "wo:1"),
            ("EXISTS", "app:1", "ro:1", "other"),
            ("RENAME", "app:1", "wo:9"),
            ("COPY", "ro:1", "app:3"),
            ("CONFIG", "GET", "maxmemory"),
            ("CONFIG", "SET", "maxmemory", "0"),
            ("CLIENT", "GETNAME"),
            ("HSET", "app:h", "f", "v"),
            ("HGETALL", "ro:h"),
            ("NOSUCH", "x"),
            ("GET",),
            ("PING",),
            ("AUTH", "alice", "pw"),
            ("ACL", "WHOAMI"),
            # Keys after a keyword (GEORADIUS's STORE) are checked; a line a key spec cannot
            # read has no keys, so none is checked (PFMERGE with its destination alone).
            ("GEORADIUS", "app:g", "0", "0", "1", "m", "STORE", "ro:g"),
            ("GEORADIUS", "app:g", "0", "0", "1", "m", "STORE", "app:s"),
            ("PFMERGE", "other"),
            ("PFMERGE", "other", "app:1"),
        ):
            alice.do(*args)


def test_selectors_allow_what_any_one_allows(acl):
    with acl.as_user("sel", "on", "nopass", "~a*", "+get", "(~b* +set)", "(%R~c* +get)") as user:
        for args in (
            ("GET", "a1"),
            ("SET", "b1", "v"),
            ("GET", "c1"),
            ("GET", "b1"),
            ("SET", "a1", "v"),
            ("DEL", "a1"),
        ):
            user.do(*args)


def test_noperm_in_a_transaction_and_rules_changed_before_exec(acl):
    with acl.as_user("alice", "on", ">pw", "~*", "+@all", "-flushall") as alice:
        alice.do("MULTI")
        alice.do("SET", "k", "v")
        alice.do("FLUSHALL")
        alice.do("EXEC")
        alice.do("MULTI")
        alice.do("SET", "k", "v")
        alice.do("GET", "k")
        acl.do("ACL", "SETUSER", "alice", "-get", "resetkeys", "~j")
        alice.do("EXEC")


def test_dryrun(acl):
    acl.do("ACL", "SETUSER", "alice", "on", ">pw", "~app:*", "%R~ro:*", "+@read", "+set")
    for args in (
        ("alice", "GET", "app:1"),
        ("alice", "SET", "ro:1", "v"),
        ("alice", "SET", "app:1", "v"),
        ("alice", "HSET", "app:1", "f", "v"),
        ("alice", "GET", "other"),
        ("alice", "CONFIG", "GET", "x"),
        ("alice", "CONFIG", "NOSUCH"),
        ("alice", "NOSUCH"),
        ("alice", "GET"),
        ("alice", "CONFIG"),
        ("nosuch", "GET", "x"),
        ("default", "FLUSHALL"),
    ):
        acl.do("ACL", "DRYRUN", *args)


def test_deluser_closes_its_connections_and_kill_user(acl):
    acl.do("ACL", "SETUSER", "alice", "on", ">pw", "~*", "+@all")
    acl.do("ACL", "SETUSER", "bob", "on", ">pw", "~*", "+@all")
    alice, bob = acl.login("alice", "pw"), acl.login("bob", "pw")
    try:
        for conn in (alice.ours, alice.real):
            line = parse(conn.call("CLIENT", "INFO"))
            assert b" user=alice " in line
        acl.do("ACL", "DELUSER", "alice")
        for conn in (alice.ours, alice.real):
            assert closed(conn)
        acl.do("CLIENT", "KILL", "USER", "nosuch")
        acl.do("CLIENT", "KILL", "USER", "bob")
        for conn in (bob.ours, bob.real):
            assert closed(conn)
    finally:
        alice.close()
        bob.close()


def test_deleting_ones_own_user_replies_then_closes(acl):
    with acl.as_user("alice", "on", ">pw", "~*", "+@all") as alice:
        alice.do("ACL", "DELUSER", "alice")
        for conn in (alice.ours, alice.real):
            assert closed(conn)


def test_acl_log_records_refusals(acl):
    with acl.as_user("alice", "on", ">pw", "~app:*", "+get", "+multi", "+discard") as alice:
        alice.do("SET", "app:1", "v")
        alice.do("GET", "other")
        alice.do("GET", "other")
        alice.do("AUTH", "alice", "wrong")
        alice.do("MULTI")
        alice.do("GET", "nope")
        alice.do("DISCARD")
    acl.do("ACL", "LOG", "-1")
    shapes = _log_shapes(acl)
    assert [row[:3] for row in shapes[0]] == [
        [1, b"key", b"multi"],
        [1, b"auth", b"toplevel"],
        [2, b"key", b"toplevel"],
        [1, b"command", b"toplevel"],
    ]
    acl.do("ACL", "LOG", "RESET")
    acl.do("ACL", "LOG")


# --- the ACL file --------------------------------------------------------------------------------

ACL_FILE = (
    "user alice on #{} ~app:* %R~ro:* resetchannels -@all +@hash +get\n"
    "\n"
    "user default on nopass ~* &* +@all\n"
    "user bob off resetchannels -@all (~x resetchannels -@all +get)\n"
).format("30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4")


@pytest.fixture
def file_pair(tmp_path) -> Iterator[tuple[Pair, Path, Path]]:
    """A pair of servers started with the same ACL file, each its own copy."""
    ours_file, real_file = tmp_path / "ours.acl", tmp_path / "real.acl"
    for path in (ours_file, real_file):
        path.write_text(ACL_FILE)
    with ServerThread(port=0, config={"aclfile": str(ours_file), "dir": str(tmp_path)}) as s:
        with redis_server_on(tmp_path, aclfile=str(real_file)) as redis_port:
            pair = Pair((s.port, redis_port))
            yield pair, ours_file, real_file
            pair.close()


def test_aclfile_at_start_save_and_load(file_pair):
    pair, ours_file, real_file = file_pair
    pair.do_rules("ACL", "LIST")
    alice = pair.login("alice", "pw")
    alice.do("HSET", "app:1", "f", "v")
    alice.do("GET", "ro:1")
    pair.do("ACL", "SETUSER", "carol", "on", ">pw2", "~c:*", "+@all", "-@dangerous")
    pair.do("ACL", "SAVE")
    assert sorted(ours_file.read_text().split()) == sorted(real_file.read_text().split())
    pair.do("ACL", "DELUSER", "carol")
    pair.do("ACL", "LOAD")
    pair.do_rules("ACL", "LIST")
    for conn in (alice.ours, alice.real):
        assert closed(conn)  # ACL LOAD drops every non-default user's clients
    alice.close()


def test_acl_load_refuses_a_bad_file_and_keeps_the_users(file_pair):
    pair, ours_file, real_file = file_pair
    for path in (ours_file, real_file):
        path.write_text(
            "user alice on +nosuch ~a b\nnot a user line\nuser dup on\nuser dup off\n"
            'user bob (+get\nuser "c d" on\nuser e on "quoted\n'
        )
    ours, real = pair.both("ACL", "LOAD")
    assert ours.replace(str(ours_file).encode(), b"F") == real.replace(
        str(real_file).encode(), b"F"
    )
    assert ours.startswith(b"-ERR ")
    pair.do_rules("ACL", "LIST")


def test_a_bad_aclfile_stops_the_start(tmp_path):
    bad = tmp_path / "bad.acl"
    bad.write_text("user alice on +nosuch\n")
    proc = subprocess.run(
        [sys.executable, "-m", "respserver", "--port", "0", "--aclfile", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1
    assert "Aborting Redis startup because of ACL errors:" in proc.stdout + proc.stderr
    assert "Unknown command or category name in ACL" in proc.stdout + proc.stderr


# --- respserver's own: QUERY shows only the keys a user may read ---------------------------------


def test_query_shows_only_readable_keys(ports):
    ours = redis.Redis(port=ports[0])
    for key, status in (("app:1", "ok"), ("app:2", "ok"), ("ro:1", "ok"), ("wo:1", "ok")):
        ours.hset(key, mapping={"status": status})
    ours.hset("secret:1", mapping={"status": "ok"})
    ours.execute_command(
        "ACL", "SETUSER", "q", "on", ">pw", "~app:*", "%R~ro:*", "%W~wo:*", "+@all"
    )
    try:
        user = redis.Redis(port=ports[0], username="q", password="pw")
        for query in (["WHERE", "status", "=", "ok"], []):
            assert user.execute_command("QUERY", *query, "NOCONTENT") == [
                b"app:1",
                b"app:2",
                b"ro:1",
            ]
            assert user.execute_command("QUERY", *query, "COUNT") == 3
        assert ours.execute_command("QUERY", "WHERE", "status", "=", "ok", "COUNT") == 5
        ours.execute_command("ACL", "SETUSER", "q", "allkeys")
        assert user.execute_command("QUERY", "COUNT") == 5
        user.close()
    finally:
        ours.execute_command("ACL", "DELUSER", "q")
        ours.flushall()
        ours.close()


def test_redis_py_with_username_and_password(ports):
    admin = redis.Redis(port=ports[0])
    admin.execute_command("ACL", "SETUSER", "app", "on", ">pw", "~app:*", "+@all")
    try:
        client = redis.Redis(port=ports[0], username="app", password="pw")
        assert client.set("app:1", "v")
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.set("other", "v")
        assert client.acl_whoami() == "app"
        client.close()
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(port=ports[0], username="app", password="bad").ping()
    finally:
        admin.execute_command("ACL", "DELUSER", "app")
        admin.flushall()
        admin.close()


def test_restricting_the_default_user_holds_on_open_connections(ports):
    """The dispatcher's fast path (for users allowed everything) must notice the change."""
    admin = Pair(ports)
    try:
        admin.do("SET", "k", "v")
        admin.do("ACL", "SETUSER", "default", "-get", "resetkeys", "~k*")
        admin.do("GET", "k")
        admin.do("SET", "other", "v")
        admin.do("SET", "k2", "v")
        admin.do("ACL", "DRYRUN", "default", "GET", "k")
    finally:
        admin.do("ACL", "SETUSER", "default", "+get", "allkeys")
        admin.do("GET", "k")
        admin.do("FLUSHALL")
        admin.close()


def test_channel_permissions(acl):
    """A channel published or subscribed to must match a ``&`` pattern; PSUBSCRIBE's pattern
    must be one, letter for letter; leaving needs no permission. New users have none."""
    rules = ("on", ">pw", "+@all", "~*", "&news.*", "&exact")
    acl.do("ACL", "LOG", "RESET")
    with acl.as_user("pub", *rules) as user:
        for args in (
            ("PUBLISH", "news.1", "x"),
            ("PUBLISH", "other", "x"),
            ("SPUBLISH", "exact", "x"),
            ("SPUBLISH", "exactly", "x"),
            ("PSUBSCRIBE", "news.1"),
            ("PSUBSCRIBE", "news.*", "x"),
            ("SUBSCRIBE", "news.2", "other"),
            ("UNSUBSCRIBE", "other"),
            ("PUNSUBSCRIBE", "x*"),
        ):
            user.do(*args)
    assert [row[1] for row in _log_shapes(acl)[0]] == [b"channel"] * 4
    with acl.as_user("nochannels", "on", ">pw", "+@all", "~*") as user:
        user.do("PUBLISH", "news.1", "x")
    with acl.as_user("selector", "on", ">pw", "+@all", "~*", "(&sel.* +publish)") as user:
        user.do("PUBLISH", "sel.1", "x")
        user.do("PUBLISH", "news.1", "x")


def test_revoking_a_channel_disconnects_its_subscribers(acl):
    with acl.as_user("sub", "on", ">pw", "+@all", "~*", "&a*", "&b") as user:
        user.do("SUBSCRIBE", "abc")
        acl.do("ACL", "SETUSER", "sub", "&b")  # still allowed: stays
        user.do("PING")
        acl.do("ACL", "SETUSER", "sub", "resetchannels", "&b")
        for conn in (user.ours, user.real):
            conn.sock.settimeout(5)
            assert conn.read_reply() == b""  # closed by the server
        acl.do("CLIENT", "LIST", "USER", "sub")
