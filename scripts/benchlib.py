"""What the benchmarks in scripts/ share: starting respserver and redis-server side by side."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, timeout: float = 120) -> None:
    """Wait until the server answers PING with PONG (not -LOADING)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"server on port {port} did not start")


def command_line(name: str, port: int, directives: dict[str, str]) -> list[str]:
    """How to start ``name`` ("respserver" or "redis-server") on ``port`` with ``directives``
    (redis-server's option names, which respserver shares), persistence off unless given."""
    options = {"save": "", "appendonly": "no", "loglevel": "warning", **directives}
    flags = [word for key, value in options.items() for word in (f"--{key}", value)]
    if name == "respserver":
        return [sys.executable, "-m", "respserver", "--port", str(port), *flags]
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", *flags]


def start(name: str, port: int, directives: dict[str, str] | None = None) -> subprocess.Popen:
    """Start one server and wait until it answers PING (so, until it has loaded its data)."""
    proc = subprocess.Popen(
        command_line(name, port, directives or {}), cwd=ROOT, stdout=subprocess.DEVNULL
    )
    wait_ready(port)
    return proc


@contextmanager
def servers(
    directives: dict[str, dict[str, str]] | None = None,
) -> Iterator[dict[str, tuple[int, int]]]:
    """respserver and redis-server on free loopback ports: {name: (port, pid)}. ``directives``
    holds each server's extra options, by name."""
    procs = {}
    try:
        for name in ("respserver", "redis-server"):
            port = free_port()
            procs[name] = (port, start(name, port, (directives or {}).get(name)))
        yield {name: (port, proc.pid) for name, (port, proc) in procs.items()}
    finally:
        for _, proc in procs.values():
            proc.terminate()
            proc.wait(timeout=60)


def redis_benchmark(
    port: int, test: list[str], requests: int, clients: int, pipeline: int
) -> float:
    """Requests per second that redis-benchmark reports for ``test`` against ``port``."""
    cmd = [
        "redis-benchmark",
        "-p",
        str(port),
        "-n",
        str(requests),
        "-c",
        str(clients),
        "-P",
        str(pipeline),
        "-q",
        *test,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    rates = re.findall(r"([\d.]+) requests per second", out.replace("\r", "\n"))
    if not rates:
        raise SystemExit(f"no result from {' '.join(cmd)}:\n{out}")
    return float(rates[-1])


def rss_bytes(pid: int) -> int:
    """The resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
