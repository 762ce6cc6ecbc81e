"""Connection commands against redis-server: PING, ECHO, SELECT, QUIT, HELLO, AUTH, RESET and
the CLIENT family. Replies that carry connection ids, addresses or ages are compared by shape."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable

import pytest
import redis

from respserver.registry import COMMANDS
from tests.conftest import RawConnection
from tests.helpers.respshape import NUMBER, bulk_text, client_fields, is_subsequence

pytestmark = pytest.mark.differential


def test_ping_echo(diff):
    for args in [
        ("PING",),
        ("PING", "hello"),
        ("PING", ""),
        ("PING", "a", "b"),
        ("ECHO",),
        ("ECHO", "x"),
        ("ECHO", ""),
        ("ECHO", "a", "b"),
        ("ping",),
    ]:
        diff.do(*args)


def test_select(diff):
    for index in ("0", "15", "16", "-1", "x", "01", "1.5", "99999999999999999999", ""):
        diff.do("SELECT", index)
    diff.do("SELECT")
    diff.do("SELECT", "1", "2")
    diff.do("SELECT", "3")
    diff.do("SET", "k", "v")
    diff.do("DBSIZE")
    diff.do("SELECT", "0")
    diff.do("DBSIZE")


def _session(port: int, script: Callable[[RawConnection], list[bytes]]) -> list[bytes]:
    conn = RawConnection(port)
    try:
        return script(conn)
    finally:
        conn.close()


def both_sessions(resp_port, redis_port, script) -> list[bytes]:
    """Run ``script`` on a fresh connection to each server; assert the replies agree."""
    ours, real = _session(resp_port, script), _session(redis_port, script)
    assert ours == real
    return ours


def test_quit_replies_then_closes(resp_port, redis_port):
    def script(conn):
        conn.send_raw(b"*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n")
        return [conn.read_reply(), conn.read_reply()]

    assert both_sessions(resp_port, redis_port, script) == [b"+OK\r\n", b""]
    quit_with_args = both_sessions(resp_port, redis_port, lambda c: [c.call("QUIT", "x")])
    assert quit_with_args == [b"+OK\r\n"]


# --- HELLO and AUTH ------------------------------------------------------------------------------

_HELLO_ID = re.compile(rb"(\$2\r\nid\r\n):[0-9]+\r\n")


def without_id(raw: bytes) -> bytes:
    return _HELLO_ID.sub(rb"\1:ID\r\n", raw)


def test_hello_replies_and_errors(diff):
    for args in [
        ("HELLO",),
        ("HELLO", "3"),
        ("HELLO", "2"),
        ("HELLO", "4"),
        ("HELLO", "1"),
        ("HELLO", "-1"),
        ("HELLO", "x"),
        ("HELLO", "03"),
        ("HELLO", "3", "AUTH", "default", "anything"),
        ("HELLO", "3", "auth", "default"),
        ("HELLO", "3", "AUTH", "bob", "pw"),
        ("HELLO", "2", "SETNAME"),
        ("HELLO", "2", "SETNAME", "a", "b"),
        ("HELLO", "3", "FOO"),
        ("HELLO", "3", "SETNAME", "a b"),
        ("HELLO", "3", "AUTH", "bob", "pw", "SETNAME", "named"),
        ("CLIENT", "GETNAME"),
        ("HELLO", "2", "setname", "first", "SETNAME", "second"),
        ("CLIENT", "GETNAME"),
        ("HELLO", "3", "SETNAME", "x", "AUTH", "default", "pw"),
        ("CLIENT", "GETNAME"),
    ]:
        ours, real = diff.both(*args)
        assert without_id(ours) == without_id(real), args
        if ours.startswith((b"*", b"%")):
            assert b"$2\r\nid\r\n:" in ours


def test_hello_switches_the_protocol_of_later_replies(diff):
    for version in ("3", "2"):
        ours, real = diff.both("HELLO", version)
        assert without_id(ours) == without_id(real)
        diff.do("CONFIG", "GET", "appendonly")  # a map in RESP3, a flat array in RESP2
        diff.do("CLIENT", "GETNAME")  # null: _ in RESP3, $-1 in RESP2


def test_hello_reports_the_connection_id(resp_port):
    conn = RawConnection(resp_port)
    client_id = int(conn.call("CLIENT", "ID")[1:-2])
    assert conn.call("HELLO", "3").endswith(
        b"$2\r\nid\r\n:%d\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
        b"$7\r\nmodules\r\n*0\r\n" % client_id
    )
    conn.close()


def test_auth_without_a_password_configured(diff):
    for args in [
        ("AUTH",),
        ("AUTH", "x"),
        ("AUTH", "default", "x"),
        ("AUTH", "Default", "x"),
        ("AUTH", "bob", "x"),
        ("AUTH", "a", "b", "c"),
    ]:
        diff.do(*args)


def test_auth_with_requirepass(diff):
    try:
        diff.do("CONFIG", "SET", "requirepass", "s3cret")
        for args in [
            ("AUTH", "wrong"),
            ("AUTH", "s3cret"),
            ("AUTH", "default", "s3cret"),
            ("AUTH", "default", "wrong"),
            ("AUTH", "bob", "s3cret"),
            ("HELLO", "3", "AUTH", "default", "wrong"),
        ]:
            diff.do(*args)
        ours, real = diff.both("HELLO", "3", "AUTH", "default", "s3cret")
        assert without_id(ours) == without_id(real)
    finally:
        diff.do("CONFIG", "SET", "requirepass", "")


def test_requirepass_gates_every_command_but_the_handshake(resp_port, redis_port):
    """Connections opened after requirepass is set: unknown commands and arity errors come
    first, then NOAUTH for all but AUTH, HELLO, QUIT, RESET (Redis's no_auth commands)."""
    admins = [RawConnection(port) for port in (resp_port, redis_port)]
    for admin in admins:
        assert admin.call("CONFIG", "SET", "requirepass", "s3cret") == b"+OK\r\n"
    try:
        ours, real = RawConnection(resp_port), RawConnection(redis_port)
        for args in [
            ("FOO",),
            ("GET",),
            ("GET", "a"),
            ("PING",),
            ("CLIENT", "ID"),
            ("MULTI",),
            ("HELLO", "3"),
            ("HELLO",),
            ("HELLO", "4"),
            ("HELLO", "3", "SETNAME", "named"),
            ("HELLO", "3", "AUTH", "default", "wrong"),
            ("AUTH", "wrong"),
            ("AUTH", "s3cret"),
            ("GET", "a"),
            ("CLIENT", "GETNAME"),
            ("RESET",),
            ("GET", "a"),
            ("AUTH", "default", "s3cret"),
            ("SET", "a", "1"),
            ("DEL", "a"),
        ]:
            assert ours.call(*args) == real.call(*args), args
        ours.close()
        real.close()
    finally:
        for admin in admins:  # authenticated before the change: still so
            assert admin.call("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
            admin.close()


def test_redis_py_handshakes(resp_port):
    for protocol in (2, 3):
        r = redis.Redis(port=resp_port, protocol=protocol, decode_responses=True)
        assert r.ping() is True
        info = r.client_info()  # redis-py sent CLIENT SETINFO on connect
        assert info["lib-name"] == "redis-py"
        assert info["lib-ver"] == redis.__version__
        assert info["resp"] == str(protocol)
        r.close()
    r = redis.Redis(port=resp_port)  # the library default: HELLO 3
    assert r.client_info()["resp"] == "3"
    r.close()


# --- RESET ---------------------------------------------------------------------------------------


def test_reset_restores_a_fresh_connection(diff):
    diff.do("SELECT", "3")
    diff.do("SET", "in3", "v")
    diff.do("CLIENT", "SETNAME", "before")
    ours, real = diff.both("HELLO", "3")
    assert without_id(ours) == without_id(real)
    diff.do("RESET")
    diff.do("CLIENT", "GETNAME")  # null, as RESP2 writes it
    diff.do("DBSIZE")  # database 0 again
    diff.do("RESET", "x")
    assert "resp=2 " in bulk_text(diff.ours.call("CLIENT", "INFO"))


@pytest.mark.skipif(b"multi" not in COMMANDS, reason="MULTI is not registered")
def test_reset_discards_multi_and_watch(diff):
    diff.do("WATCH", "w")
    diff.do("MULTI")
    diff.do("SET", "queued", "1")
    diff.do("RESET")
    diff.do("EXEC")
    diff.do("GET", "queued")
    diff.do("MULTI")
    diff.do("SET", "w", "2")  # the WATCH was dropped: this transaction runs
    diff.do("EXEC")


# --- CLIENT --------------------------------------------------------------------------------------


def test_client_container_errors(diff):
    for args in [
        ("CLIENT",),
        ("CLIENT", "FOO"),
        ("CLIENT", "ID", "x"),
        ("CLIENT", "GETNAME", "x"),
        ("CLIENT", "SETNAME"),
        ("CLIENT", "SETNAME", "a", "b"),
        ("CLIENT", "INFO", "x"),
        ("CLIENT", "KILL"),
        ("CLIENT", "HELP", "x"),
        ("client", "help"),
    ]:
        diff.do(*args)


def test_client_id(diff):
    ours, real = diff.both("CLIENT", "ID")
    assert re.fullmatch(rb":[1-9][0-9]*\r\n", ours) and re.fullmatch(rb":[1-9][0-9]*\r\n", real)
    assert diff.ours.call("CLIENT", "ID") == ours  # stable for the connection


def test_client_setname_getname(diff):
    diff.do("CLIENT", "GETNAME")
    for name in ("a b", "a\nb", "é", "tab\there", "\x7f"):
        diff.do("CLIENT", "SETNAME", name)
    diff.do("CLIENT", "SETNAME", "worker-1!~")
    diff.do("CLIENT", "GETNAME")
    diff.do("CLIENT", "SETNAME", "")
    diff.do("CLIENT", "GETNAME")


def test_client_setinfo_is_redis_7_2s(resp_port):
    # Redis 7.0.15 has no CLIENT SETINFO (it arrived in 7.2), so this is checked directly.
    conn = RawConnection(resp_port)
    assert conn.call("CLIENT", "SETINFO", "LIB-NAME", "mylib") == b"+OK\r\n"
    assert conn.call("CLIENT", "SETINFO", "lib-ver", "1.2.3") == b"+OK\r\n"
    fields = client_fields(bulk_text(conn.call("CLIENT", "INFO")).rstrip("\n"))
    assert (fields["lib-name"], fields["lib-ver"]) == ("mylib", "1.2.3")
    assert (
        conn.call("CLIENT", "SETINFO", "lib-foo", "x") == b"-ERR Unrecognized option 'lib-foo'\r\n"
    )
    assert conn.call("CLIENT", "SETINFO", "LIB-NAME", "a b") == (
        b"-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n"
    )
    assert conn.call("CLIENT", "SETINFO", "lib-name") == (
        b"-ERR wrong number of arguments for 'client|setinfo' command\r\n"
    )
    assert conn.call("CLIENT", "SETINFO", "lib-name", "") == b"+OK\r\n"
    fields = client_fields(bulk_text(conn.call("CLIENT", "INFO")).rstrip("\n"))
    assert (fields["lib-name"], fields["lib-ver"]) == ("", "1.2.3")
    conn.close()


# Fields whose values depend on the server's internals (buffer sizes, memory), not on the
# connection's state: only their presence and their being numbers are compared.
INTERNAL = {"qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem"}
INTERNAL |= {"tot-mem", "age", "idle", "fd"}


def assert_same_client_line(ours: str, real: str, conn_ours: RawConnection, conn_real) -> None:
    """Compare CLIENT LIST lines of the two servers for the same kind of connection."""
    a, b = client_fields(ours), client_fields(real)
    # 7.2's lib-name and lib-ver come after 7.0's fields.
    assert list(a) == [*b, "lib-name", "lib-ver"]
    for field, value in b.items():
        if field in INTERNAL:
            assert NUMBER.fullmatch(a[field]), (field, a[field])
        elif field not in ("id", "addr", "laddr"):
            assert a[field] == value, field
    for fields, conn in ((a, conn_ours), (b, conn_real)):
        host, port = conn.sock.getsockname()[:2]
        assert fields["addr"] == f"{host}:{port}"
        assert fields["laddr"] == "{}:{}".format(*conn.sock.getpeername()[:2])
        assert fields["id"] == conn.call("CLIENT", "ID").decode()[1:-2]


def test_client_info_line(diff):
    diff.do("CLIENT", "SETNAME", "me")
    diff.do("SELECT", "2")
    ours, real = diff.both("CLIENT", "INFO")
    kind = b"=" if diff.protocol == 3 else b"$"
    assert ours[:1] == real[:1] == kind
    assert bulk_text(ours).endswith("\n") and bulk_text(real).endswith("\n")
    assert_same_client_line(
        bulk_text(ours).rstrip("\n"), bulk_text(real).rstrip("\n"), diff.ours, diff.real
    )


def _own_line(conn: RawConnection, *args: str) -> str:
    client_id = conn.call("CLIENT", "ID").decode()[1:-2]
    lines = bulk_text(conn.call("CLIENT", "LIST", *args)).splitlines()
    (line,) = [line for line in lines if line.startswith(f"id={client_id} ")]
    return line


def test_client_list(diff):
    for args in [(), ("TYPE", "normal"), ("type", "NORMAL")]:
        ours, real = diff.both("CLIENT", "LIST", *args)
        assert ours[:1] == real[:1]
        assert_same_client_line(
            _own_line(diff.ours, *args), _own_line(diff.real, *args), diff.ours, diff.real
        )
    for kind in ("master", "replica", "slave", "pubsub"):
        diff.do("CLIENT", "LIST", "TYPE", kind)
    for args in [
        ("TYPE", "foo"),
        ("TYPE",),
        ("ID",),
        ("ID", "x"),
        ("ID", "1", "x"),
        ("ID", "0", "-1"),
        ("ID", "99999999"),
        ("foo",),
        ("TYPE", "normal", "ID", "3"),
    ]:
        diff.do("CLIENT", "LIST", *args)


def test_client_list_by_id(diff):
    ours_id = diff.ours.call("CLIENT", "ID").decode()[1:-2]
    real_id = diff.real.call("CLIENT", "ID").decode()[1:-2]
    ours = bulk_text(diff.ours.call("CLIENT", "LIST", "ID", ours_id, "99999999", ours_id))
    real = bulk_text(diff.real.call("CLIENT", "LIST", "ID", real_id, "99999999", real_id))
    assert len(ours.splitlines()) == len(real.splitlines()) == 2
    assert_same_client_line(ours.splitlines()[0], real.splitlines()[0], diff.ours, diff.real)


def test_client_list_shows_other_clients_state(resp_port, redis_port):
    lines = []
    for port in (resp_port, redis_port):
        watcher, other = RawConnection(port), RawConnection(port)
        other.call("CLIENT", "SETNAME", "other")
        other.call("SELECT", "5")
        other.call("ECHO", "x")
        other_id = other.call("CLIENT", "ID").decode()[1:-2]
        other.call("PING")
        lines.append(client_fields(_line_of(watcher, other_id)))
        watcher.close()
        other.close()
    ours, real = lines
    for field in ("name", "db", "flags", "cmd", "multi", "resp"):
        assert ours[field] == real[field], field
    assert ours["cmd"] == "ping"


def _line_of(conn: RawConnection, client_id: str) -> str:
    return bulk_text(conn.call("CLIENT", "LIST", "ID", client_id)).rstrip("\n")


@pytest.mark.skipif(b"multi" not in COMMANDS, reason="MULTI is not registered")
def test_client_list_flags_of_a_transaction(resp_port, redis_port):
    seen = []
    for port in (resp_port, redis_port):
        watcher, other = RawConnection(port), RawConnection(port)
        other_id = other.call("CLIENT", "ID").decode()[1:-2]
        other.call("WATCH", "wk")
        other.call("MULTI")
        other.call("SET", "x", "1")
        other.call("GET", "x")
        watcher.call("SET", "wk", "touched")
        fields = client_fields(_line_of(watcher, other_id))
        seen.append((fields["flags"], fields["multi"]))
        watcher.call("DEL", "wk", "x")
        watcher.close()
        other.close()
    assert seen[0] == seen[1] == ("xd", "2")


def test_client_no_evict(resp_port, redis_port):
    """CLIENT NO-EVICT ON/OFF answers OK and shows as the flag e; anything else is a syntax
    error."""
    seen = []
    for port in (resp_port, redis_port):
        conn = RawConnection(port)
        own_id = conn.call("CLIENT", "ID").decode()[1:-2]
        steps = []
        for mode in ("on", "maybe", "OFF"):
            steps.append(conn.call("CLIENT", "NO-EVICT", mode))
            steps.append(client_fields(_line_of(conn, own_id))["flags"])
        seen.append(steps)
        conn.close()
    assert seen[0] == seen[1]
    assert seen[0][1::2] == ["e", "e", "N"]


# --- CLIENT KILL ---------------------------------------------------------------------------------


def test_client_kill_errors(diff):
    for args in [
        ("1.2.3.4:5",),
        ("ID",),
        ("ID", "x"),
        ("ID", "0"),
        ("ID", "-5"),
        ("ID", "1", "2"),
        ("ID", "99999999"),
        ("ID", "5", "ID", "6"),
        ("ADDR", "1.2.3.4:5"),
        ("LADDR", "1.2.3.4:5"),
        ("SKIPME", "maybe"),
        ("SKIPME", "yes"),
        ("FOO", "bar"),
        ("TYPE", "foo"),
        ("TYPE", "master"),
        ("TYPE", "replica"),
        ("TYPE", "normal", "LADDR"),
        ("USER", "nobody"),
        ("ID", "x", "TYPE", "foo"),
        ("TYPE", "foo", "ID", "x"),
        ("ADDR", "x", "SKIPME", "YES"),
    ]:
        diff.do("CLIENT", "KILL", *args)


def after_kill(conn: RawConnection) -> bytes:
    """What a killed connection reads: b"" at end of file (a reset counts as one too: a
    request sent as the server closed is answered by the kernel with RST)."""
    try:
        return conn.call("PING")
    except ConnectionResetError:
        return b""


def _kill_scenarios(port: int) -> list[bytes]:
    """Kill in every form, recording what the killer and the killed see."""

    def fresh() -> tuple[RawConnection, str, str, str]:
        conn = RawConnection(port)
        fields = client_fields(bulk_text(conn.call("CLIENT", "INFO")).rstrip("\n"))
        return conn, fields["id"], fields["addr"], fields["laddr"]

    seen = []
    killer, _, killer_addr, _ = fresh()
    victim, victim_id, victim_addr, laddr = fresh()
    seen += [killer.call("CLIENT", "KILL", "ID", victim_id), after_kill(victim)]
    victim, victim_id, victim_addr, laddr = fresh()
    seen += [killer.call("CLIENT", "KILL", victim_addr), after_kill(victim)]
    seen += [killer.call("CLIENT", "KILL", victim_addr)]  # gone now: No such client
    victim, victim_id, victim_addr, laddr = fresh()
    seen += [killer.call("CLIENT", "KILL", "ADDR", victim_addr, "ID", victim_id, "TYPE", "normal")]
    seen += [after_kill(victim)]
    victim, victim_id, victim_addr, laddr = fresh()
    seen += [killer.call("CLIENT", "KILL", "ADDR", victim_addr, "ID", "999999")]
    seen += [after_kill(victim)]
    seen += [killer.call("CLIENT", "KILL", "ADDR", killer_addr), after_kill(killer)]  # skipme
    seen += [victim.call("CLIENT", "KILL", "ADDR", victim_addr, "SKIPME", "no")]
    seen += [victim.read_reply()]  # closed after the reply
    killer.close()
    me, _, me_addr, _ = fresh()
    seen += [me.call("CLIENT", "KILL", me_addr), me.read_reply()]  # the old form kills oneself
    return seen


def test_client_kill_forms(resp_port, redis_port):
    ours, real = _kill_scenarios(resp_port), _kill_scenarios(redis_port)
    assert ours == real
    assert ours[:3] == [b":1\r\n", b"", b"+OK\r\n"]


def test_client_kill_removes_the_client_at_once(resp_port):
    killer, victim = RawConnection(resp_port), RawConnection(resp_port)
    victim_id = victim.call("CLIENT", "ID").decode()[1:-2]
    killer.send_raw(
        b"*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$2\r\nID\r\n$%d\r\n%s\r\n"
        b"*4\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n$2\r\nID\r\n$%d\r\n%s\r\n"
        % (len(victim_id), victim_id.encode(), len(victim_id), victim_id.encode())
    )
    replies = killer.read_reply()
    while replies.count(b"\r\n") < 3:
        replies += killer.read_reply()
    assert replies == b":1\r\n$0\r\n\r\n"  # pipelined right after the kill: already gone
    victim.sock.settimeout(5)
    assert victim.read_reply() == b""
    killer.close()


def test_client_kill_laddr(resp_port):
    # Every connection shares the server's address: LADDR with SKIPME no ends them all.
    conns = [RawConnection(resp_port) for _ in range(2)]
    laddr = client_fields(bulk_text(conns[0].call("CLIENT", "INFO")).rstrip("\n"))["laddr"]
    killed = conns[0].call("CLIENT", "KILL", "LADDR", laddr, "SKIPME", "no")
    assert int(killed[1:-2]) >= 2
    assert [c.read_reply() for c in conns] == [b"", b""]


def test_client_help(diff):
    diff.do("CLIENT", "HELP")


def test_client_list_line_is_parsed_by_redis_py(resp_port):
    r = redis.Redis(port=resp_port, decode_responses=True)
    r.client_setname("parsed")
    (me,) = [c for c in r.client_list() if c["name"] == "parsed"]
    assert me["id"] == str(r.client_id())
    assert me["cmd"] == "client|list"
    assert is_subsequence(["id", "addr", "laddr", "name", "db", "cmd", "resp"], list(me))
    r.close()


def test_addresses_are_ip_port(resp_port):
    conn = RawConnection(resp_port)
    fields = client_fields(bulk_text(conn.call("CLIENT", "INFO")).rstrip("\n"))
    assert re.fullmatch(r"127\.0\.0\.1:[0-9]+", fields["addr"])
    assert fields["laddr"] == f"127.0.0.1:{resp_port}"
    assert socket.inet_aton(fields["addr"].split(":")[0])
    conn.close()
