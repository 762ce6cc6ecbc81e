"""TLS for the tests: certificates made by a trustme CA, the client contexts and redis-py
clients that use them, and conftest's raw connection over TLS."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import redis
import trustme
from cryptography.hazmat.primitives import serialization
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.conftest import RawConnection


@dataclass
class Certs:
    """The files of one test CA: a server certificate for 127.0.0.1 and localhost, a client
    certificate from the same CA, and one from a CA nobody trusts."""

    dir: Path
    contexts: dict[str | None, ssl.SSLContext] = field(default_factory=dict)

    def path(self, name: str) -> str:
        return str(self.dir / name)

    def server_config(self, **more: str) -> dict[str, str]:
        return {
            "tls-cert-file": self.path("server.crt"),
            "tls-key-file": self.path("server.key"),
            "tls-ca-cert-file": self.path("ca.crt"),
            **more,
        }

    def client_context(self, cert: str | None = "client") -> ssl.SSLContext:
        if cert not in self.contexts:  # made once: loading the files is most of a connect
            context = ssl.create_default_context(cafile=self.path("ca.crt"))
            if cert:
                context.load_cert_chain(self.path(f"{cert}.crt"), self.path(f"{cert}.key"))
            self.contexts[cert] = context
        return self.contexts[cert]

    def redis_py(self, port: int, cert: str | None = "client", **options) -> redis.Redis:
        files = {"ssl_certfile": self.path(f"{cert}.crt"), "ssl_keyfile": self.path(f"{cert}.key")}
        return redis.Redis(
            port=port,
            ssl=True,
            ssl_ca_certs=self.path("ca.crt"),
            socket_timeout=5,
            retry=Retry(NoBackoff(), 0),  # a refusal fails at once, not after retries
            **(files if cert else {}),
            **options,
        )


def _write(cert: trustme.LeafCert, directory: Path, name: str) -> None:
    cert.private_key_pem.write_to_path(str(directory / f"{name}.key"))
    for i, pem in enumerate(cert.cert_chain_pems):
        pem.write_to_path(str(directory / f"{name}.crt"), append=i > 0)


def make_certs(directory: Path) -> Certs:
    """A test CA's files in ``directory``: server certificates for 127.0.0.1 and localhost (two),
    a client certificate, one from a CA nobody trusts, a file that is no certificate, and the
    server key encrypted with the password "s3cret"."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(directory / "ca.crt"))
    _write(ca.issue_cert("127.0.0.1", "localhost"), directory, "server")
    _write(ca.issue_cert("127.0.0.1", "localhost"), directory, "server2")
    _write(ca.issue_cert("client.example"), directory, "client")
    _write(trustme.CA().issue_cert("stranger.example"), directory, "stranger")
    (directory / "garbage.pem").write_text("not a certificate\n")
    key = serialization.load_pem_private_key((directory / "server.key").read_bytes(), None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret"),
    )
    (directory / "encrypted.key").write_bytes(encrypted)
    return Certs(directory)


class TLSRaw(RawConnection):
    """conftest's raw connection, over TLS."""

    def __init__(self, port: int, context: ssl.SSLContext) -> None:
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock = context.wrap_socket(raw, server_hostname="localhost")


def outcome(port: int, context: ssl.SSLContext, *command: str) -> bytes | str:
    """The raw reply a fresh TLS connection gets for ``command``, or "closed" when the server
    ends the connection instead (a refused certificate surfaces at the first read in TLS 1.3)."""
    try:
        conn = TLSRaw(port, context)
        try:
            return conn.call(*command) or "closed"
        finally:
            conn.close()
    except (ssl.SSLError, ConnectionError):
        return "closed"
