"""What the benchmarks in scripts/ share: starting respserver and redis-server side by side."""

from __future__ import annotations

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


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


@contextmanager
def servers() -> Iterator[dict[str, tuple[int, int]]]:
    """respserver and redis-server on free loopback ports: {name: (port, pid)}."""
    ours, real = free_port(), free_port()
    procs = {
        "respserver": (
            ours,
            subprocess.Popen(
                [sys.executable, "-m", "respserver", "--port", str(ours), "--loglevel", "warning"],
                cwd=ROOT,
            ),
        ),
        "redis-server": (
            real,
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(real),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--loglevel",
                    "warning",
                ],
                stdout=subprocess.DEVNULL,
            ),
        ),
    }
    try:
        for port, _ in procs.values():
            wait_ready(port)
        yield {name: (port, proc.pid) for name, (port, proc) in procs.items()}
    finally:
        for _, proc in procs.values():
            proc.terminate()
            proc.wait(timeout=10)


def rss_bytes(pid: int) -> int:
    """The resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
