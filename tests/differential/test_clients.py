"""redis-cli against both servers: a scripted session of everyday commands, errors included,
prints the same output from respserver as from redis-server. (Real clients on respserver
alone: tests/e2e/test_clients.py.)"""

from __future__ import annotations

from tests.helpers.cli import SCRIPT, run_cli


def test_redis_cli_scripted_session_matches_redis(resp_port, redis_port):
    ours = run_cli(resp_port, stdin=SCRIPT)
    real = run_cli(redis_port, stdin=SCRIPT)
    assert ours == real
    assert "hello world" in ours
