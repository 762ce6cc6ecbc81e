"""Network helpers: a raw exchange with a server that may close the connection, and this
machine's own non-loopback address (to arrive at a server as an outside client would)."""

from __future__ import annotations

import socket
import time


def exchange(port: int, wire: bytes, timeout: float = 2.0) -> tuple[bytes, bool]:
    """Send ``wire``, then read until the server closes or goes quiet; (bytes, closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(wire)
        received = bytearray()
        sock.settimeout(0.3)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return bytes(received), False
            if not chunk:
                return bytes(received), True
            received += chunk
        return bytes(received), False


def outward_address() -> str:
    """This machine's own non-loopback IPv4 address (connecting a UDP socket sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))
        address = probe.getsockname()[0]
    assert not address.startswith("127."), "no non-loopback interface to test from"
    return address
