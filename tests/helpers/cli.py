"""redis-cli as a person uses it: a run's output, and a scripted session of everyday commands
(errors included) to send to respserver and to redis-server."""

from __future__ import annotations

import subprocess


def run_cli(port: int, *args: str, stdin: str | bytes | None = None) -> str:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run(
        ["redis-cli", "-p", str(port), *args], input=data, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


SCRIPT = """\
FLUSHALL
SET greeting "hello world"
GET greeting
APPEND greeting !
STRLEN greeting
HSET user:1 name ada lang en
HGETALL user:1
HGET user:1 missing
INCR n
INCRBY n notanumber
NOSUCHCOMMAND x
EXISTS greeting user:1 nope
TYPE user:1
DEL greeting
"""
