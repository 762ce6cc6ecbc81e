"""TLS against redis-server: respserver's TLS port beside a redis-server 7.0.15 started with the
same TLS settings (``--port 0 --tls-port N``), with certificates made for the test by a trustme
CA: client certificates required, optional or not, replies and errors, limits and failed
handshakes, CONFIG SET of the TLS parameters and the refusals at start, compared. (TLS clients
on respserver alone: tests/e2e/test_tls.py.)"""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from respserver import ServerThread
from respserver.security.tls import TLSConfigError
from tests.conftest import REDIS_SERVER, free_port
from tests.helpers.cli import SCRIPT, run_cli
from tests.helpers.tls import Certs, TLSRaw, make_certs, outcome


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def servers(certs: Certs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """Both servers on TLS only, with tls-auth-clients yes: name -> TLS port."""
    workdir = tmp_path_factory.mktemp("tls-servers")
    log = workdir / "redis.log"
    port = free_port()
    flags = [w for name, value in certs.server_config().items() for w in (f"--{name}", value)]
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", *flags]
        + ["--save", "", "--appendonly", "no", "--dir", str(workdir), "--logfile", str(log)],
    )
    config = certs.server_config(dir=str(workdir))
    try:
        with ServerThread(port=None, tls_port=0, config=config) as ours:
            deadline = time.monotonic() + 10
            while outcome(port, certs.client_context(), "PING") != b"+PONG\r\n":
                assert time.monotonic() < deadline, "redis-server did not start with TLS"
                time.sleep(0.05)
            yield {"ours": ours.tls_port, "real": port, "log": str(log)}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def tls(servers: dict, certs: Certs) -> Iterator[dict[str, int]]:
    """The two TLS ports, data flushed; what a test changes in the TLS settings is undone."""
    ports = {name: servers[name] for name in ("ours", "real")}
    for port in ports.values():
        assert outcome(port, certs.client_context(), "FLUSHALL") == b"+OK\r\n"
    yield ports
    for port in ports.values():
        admin = TLSRaw(port, certs.client_context())
        defaults = {"tls-auth-clients": "yes", "tls-prefer-server-ciphers": "no"}
        defaults |= dict.fromkeys(("tls-protocols", "tls-ciphers", "tls-ciphersuites"), "")
        pairs = certs.server_config(**defaults).items()
        assert admin.call("CONFIG", "SET", *(w for pair in pairs for w in pair)) == b"+OK\r\n"
        admin.close()


def both(tls: dict[str, int], context: ssl.SSLContext, *command: str) -> bytes | str:
    """The outcome of ``command`` on a fresh connection to each server; asserts they agree."""
    ours, real = (outcome(tls[name], context, *command) for name in ("ours", "real"))
    assert ours == real, command
    return ours


def config_set(tls: dict[str, int], certs: Certs, *args: str) -> bytes:
    """CONFIG SET on both servers (as an admin with a client certificate): the same reply."""
    return both(tls, certs.client_context(), "CONFIG", "SET", *args)


# --- clients ------------------------------------------------------------------------------------


def test_a_long_pipeline_over_tls_gets_every_reply(tls, certs):
    """Written whole before a reply is read, as redis-py does: 10 MB of replies come back."""
    value = os.urandom(500)
    for name in ("ours", "real"):
        r = certs.redis_py(tls[name])
        r.set("v", value)
        pipe = r.pipeline(transaction=False)
        for _ in range(20_000):
            pipe.get("v")
        assert pipe.execute() == [value] * 20_000, name
        r.close()


def test_auth_clients_yes_refuses_a_client_without_a_certificate(tls, certs):
    assert both(tls, certs.client_context(cert=None), "PING") == "closed"
    assert both(tls, certs.client_context(cert="stranger"), "PING") == "closed"
    assert both(tls, certs.client_context(), "PING") == b"+PONG\r\n"
    r = certs.redis_py(tls["ours"], cert=None)
    with pytest.raises(redis.ConnectionError):
        r.ping()
    r.close()


def test_auth_clients_optional_and_no(tls, certs):
    assert config_set(tls, certs, "tls-auth-clients", "optional") == b"+OK\r\n"
    assert both(tls, certs.client_context(cert=None), "PING") == b"+PONG\r\n"
    assert both(tls, certs.client_context(), "PING") == b"+PONG\r\n"
    # optional still checks a certificate that is given
    assert both(tls, certs.client_context(cert="stranger"), "PING") == "closed"
    assert config_set(tls, certs, "tls-auth-clients", "no") == b"+OK\r\n"
    assert both(tls, certs.client_context(cert=None), "PING") == b"+PONG\r\n"
    r = certs.redis_py(tls["ours"], cert=None)
    assert r.ping()
    r.close()
    assert both(tls, certs.client_context(cert=None), "CONFIG", "GET", "tls-auth-clients")


def test_redis_cli_over_tls_matches_redis(tls, certs):
    options = ["--tls", "--cacert", certs.path("ca.crt")]
    options += ["--cert", certs.path("client.crt"), "--key", certs.path("client.key")]
    ours, real = (run_cli(tls[name], *options, stdin=SCRIPT) for name in ("ours", "real"))
    assert ours == real and "hello world" in ours
    config_set(tls, certs, "tls-auth-clients", "no")
    assert run_cli(tls["ours"], "--tls", "--cacert", certs.path("ca.crt"), "PING") == "PONG\n"


def test_replies_and_errors_over_tls_match_redis(tls, certs):
    for protocol in ("2", "3"):
        ours, real = (TLSRaw(tls[name], certs.client_context()) for name in ("ours", "real"))
        for conn in (ours, real):  # its reply holds the client id: not compared
            assert conn.call("HELLO", protocol, "SETNAME", "tls").startswith(
                (b"*14\r\n", b"%7\r\n")
            )
        for command in [
            ("SET", "s", "v"),
            ("HSET", "h", "f", "1", "g", "2"),
            ("HGETALL", "h"),
            ("GET", "h"),
            ("INCR", "s"),
            ("HSET", "h", "f"),
            ("NOSUCH", "x"),
            ("CLIENT", "GETNAME"),
            ("CONFIG", "GET", "port"),
            ("CONFIG", "GET", "tls-ca-cert-dir"),
        ]:
            assert ours.call(*command) == real.call(*command), command
        # A bad bulk length: Protocol error, then the connection is closed.
        error = b"-ERR Protocol error: invalid bulk length\r\n"
        for conn in (ours, real):
            conn.send_raw(b"*1\r\n$x\r\n")
            assert conn.read_reply() == error
            assert conn.read_reply() == b""
            conn.close()


def test_quit_and_requirepass_over_tls(tls, certs):
    for port in tls.values():
        conn = TLSRaw(port, certs.client_context())
        conn.send_raw(b"QUIT\r\nPING\r\n")
        assert conn.read_reply() == b"+OK\r\n"
        assert conn.read_reply() == b""  # closed after QUIT's reply; PING is not answered
        conn.close()
    config_set(tls, certs, "requirepass", "s3cret")
    try:
        assert both(tls, certs.client_context(), "GET", "x").startswith(b"-NOAUTH")
        for port in tls.values():
            conn = TLSRaw(port, certs.client_context())
            assert conn.call("AUTH", "s3cret") == b"+OK\r\n"
            assert conn.call("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
            conn.close()
    finally:
        for port in tls.values():
            conn = TLSRaw(port, certs.client_context())
            conn.call("AUTH", "s3cret")
            conn.call("CONFIG", "SET", "requirepass", "")
            conn.close()


def test_output_limit_and_client_kill_apply_to_tls_clients(tls, certs):
    limit = ("client-output-buffer-limit", "normal 100kb 0 0")
    config_set(tls, certs, *limit)
    try:
        for port in tls.values():
            conn = TLSRaw(port, certs.client_context())
            conn.call("SET", "big", "x" * 200_000)
            assert conn.call("GET", "big") == b""  # over the hard limit: closed, no reply
            conn.close()
    finally:
        config_set(tls, certs, "client-output-buffer-limit", "normal 0 0 0")
    for port in tls.values():
        victim, admin = TLSRaw(port, certs.client_context()), TLSRaw(port, certs.client_context())
        victim_id = victim.call("CLIENT", "ID")[1:-2]
        assert admin.call("CLIENT", "KILL", "ID", victim_id) == b":1\r\n"
        assert victim.call("PING") == b""
        victim.close()
        admin.close()


# --- refusals and failed handshakes -------------------------------------------------------------


def test_a_plain_client_on_the_tls_port_is_closed_and_others_are_served(
    tls, certs, servers, caplog
):
    for port in tls.values():
        plain = socket.create_connection(("127.0.0.1", port), timeout=5)
        plain.sendall(b"PING\r\n")
        try:
            reply = plain.recv(100)
        except ConnectionResetError:
            reply = b""
        assert b"PONG" not in reply
        plain.close()
        assert outcome(port, certs.client_context(), "PING") == b"+PONG\r\n"
    expected = (
        "Error accepting a client connection: error:0A00010B:SSL routines::wrong version number"
    )
    deadline = time.monotonic() + 5
    while expected not in caplog.text:
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.05)
    assert expected in Path(servers["log"]).read_text()


def client_count(port: int, certs: Certs) -> int:
    reply = outcome(port, certs.client_context(), "CLIENT", "LIST")
    return reply.count(b"id=") - 1  # not the connection that asks


def test_a_stalled_handshake_blocks_no_one_and_counts_as_a_client(tls, certs):
    for port in tls.values():
        before = client_count(port, certs)
        silent = socket.create_connection(("127.0.0.1", port), timeout=5)
        half = socket.create_connection(("127.0.0.1", port), timeout=5)
        half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello's start
        started = time.monotonic()
        r = certs.redis_py(port)
        assert r.set("k", "v") and r.get("k") == b"v"
        assert time.monotonic() - started < 2
        deadline = time.monotonic() + 5
        while client_count(port, certs) != before + 3:  # Redis lists a client from its accept
            assert time.monotonic() < deadline
            time.sleep(0.05)
        silent.close()
        half.close()
        while client_count(port, certs) != before + 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        r.close()


def test_timeout_closes_a_stalled_handshake(tls, certs):
    config_set(tls, certs, "timeout", "1")
    try:
        silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for port in tls.values()]
        for sock in silent:
            assert sock.recv(10) == b""  # closed by the server after a second or so
            sock.close()
    finally:
        config_set(tls, certs, "timeout", "0")


def test_maxclients_refuses_a_tls_client_before_the_handshake(tls, certs):
    admins = [TLSRaw(port, certs.client_context()) for port in tls.values()]
    try:
        for admin in admins:
            assert admin.call("CONFIG", "SET", "maxclients", "1") == b"+OK\r\n"
            admin.call("CONFIG", "RESETSTAT")
        assert both(tls, certs.client_context(), "PING") == "closed"
        for admin in admins:
            assert b"rejected_connections:1\r" in admin.call("INFO", "stats")
    finally:
        for admin in admins:
            admin.call("CONFIG", "SET", "maxclients", "10000")
            admin.close()


# --- configuration ------------------------------------------------------------------------------


def test_config_set_rebuilds_the_context_or_fails_like_redis(tls, certs):
    admins = [TLSRaw(port, certs.client_context()) for port in tls.values()]
    for args in [
        ("tls-cert-file", certs.path("nope.crt")),
        ("tls-key-file", certs.path("nope.key"), "tls-cert-file", certs.path("nope.crt")),
        ("tls-key-file", certs.path("client.key")),
        ("tls-ca-cert-file", certs.path("garbage.pem")),
        ("tls-protocols", "TLSv1.2 SSLv3"),
        ("tls-ciphers", "bogus"),
        ("tls-ciphersuites", "bogus"),
        ("tls-auth-clients", "maybe"),
        ("tls-prefer-server-ciphers", "maybe"),
        ("tls-ca-cert-file", ""),  # with tls-auth-clients yes, a CA is required
        ("tls-protocols", "tlsv1.3", "tls-ciphers", "DEFAULT", "tls-prefer-server-ciphers", "yes"),
        ("tls-ciphersuites", "TLS_AES_256_GCM_SHA384:bogus"),
        ("tls-auth-clients", "no", "tls-ca-cert-file", ""),  # fine without client checks
    ]:
        replies = [admin.call("CONFIG", "SET", *args) for admin in admins]
        assert replies[0] == replies[1], args
        for name in ("tls-cert-file", "tls-key-file", "tls-ca-cert-file", "tls-protocols"):
            assert admins[0].call("CONFIG", "GET", name) == admins[1].call("CONFIG", "GET", name)
        assert both(tls, certs.client_context(), "PING") == b"+PONG\r\n"
    for admin in admins:
        admin.close()


def test_config_set_tls_cert_file_serves_the_new_certificate(tls, certs):
    def served_certificate() -> bytes:
        raw = socket.create_connection(("127.0.0.1", tls["ours"]), timeout=5)
        with certs.client_context().wrap_socket(raw, server_hostname="localhost") as conn:
            return conn.getpeercert(binary_form=True)

    before = served_certificate()
    # The new certificate alone does not match the old key: refused, and nothing changes.
    assert config_set(tls, certs, "tls-cert-file", certs.path("server2.crt")).startswith(b"-ERR")
    assert served_certificate() == before
    pair = ("tls-cert-file", certs.path("server2.crt"), "tls-key-file", certs.path("server2.key"))
    assert config_set(tls, certs, *pair) == b"+OK\r\n"
    after = served_certificate()
    assert before != after
    pem = Path(certs.path("server2.crt")).read_text().split("-----END CERTIFICATE-----")[0]
    assert ssl.PEM_cert_to_DER_cert(pem + "-----END CERTIFICATE-----\n") == after


def redis_refusal(certs: Certs, config: dict[str, str]) -> str:
    """What redis-server logs before 'Failed to configure TLS' when it refuses to start."""
    flags = [w for name, value in config.items() for w in (f"--{name}", value)]
    done = subprocess.run(
        [REDIS_SERVER, "--port", "0", "--tls-port", str(free_port()), "--save", "", *flags],
        capture_output=True,
        timeout=10,
        cwd=certs.dir,
    )
    assert done.returncode == 1
    lines = re.findall(r" # (.*)", done.stdout.decode())
    assert lines[-1] == "Failed to configure TLS. Check logs for more info."
    return lines[-2]


def our_refusal(certs: Certs, config: dict[str, str]) -> str:
    with pytest.raises(TLSConfigError) as refused:
        ServerThread(port=None, tls_port=0, config={**config, "dir": str(certs.dir)}).start()
    return str(refused.value)


def test_start_up_refusals_match_redis(certs):
    full = certs.server_config()
    exact = [
        {},
        {"tls-cert-file": full["tls-cert-file"]},
        {k: v for k, v in full.items() if k != "tls-ca-cert-file"},
        {**full, "tls-cert-file": certs.path("nope.crt")},
        {**full, "tls-key-file": certs.path("nope.key")},
        {**full, "tls-key-file": certs.path("client.key")},  # not the certificate's key
        {**full, "tls-ca-cert-file": certs.path("garbage.pem")},
        {**full, "tls-protocols": "TLSv1.4"},
        {**full, "tls-ciphers": "bogus"},
        {**full, "tls-ciphersuites": "bogus"},
    ]
    for config in exact:
        assert our_refusal(certs, config) == redis_refusal(certs, config)
    # OpenSSL's detail for a file that is not PEM differs (Python reports another entry of
    # OpenSSL's error queue); which file failed, and how Redis says it, is the same.
    for name in ("tls-cert-file", "tls-key-file"):
        config = {**full, name: certs.path("garbage.pem")}
        ours, real = our_refusal(certs, config), redis_refusal(certs, config)
        assert ours.split(": error:")[0] == real.split(": error:")[0]


def test_an_encrypted_key_needs_its_password(certs, tmp_path):
    key = certs.path("encrypted.key")
    config = certs.server_config(**{"tls-key-file": key, "tls-auth-clients": "no"})
    ours, real = our_refusal(certs, config), redis_refusal(certs, config)
    assert ours.split(": error:")[0] == real.split(": error:")[0]
    assert ours.startswith(f"Failed to load private key: {key}: error:")
    config |= {"tls-key-file-pass": "s3cret", "dir": str(tmp_path)}
    with ServerThread(port=None, tls_port=0, config=config) as server:
        r = certs.redis_py(server.tls_port, cert=None)
        assert r.ping()
        r.close()
