"""Fixtures of the differential tests (the servers and ``diff`` are tests/conftest.py's)."""

from __future__ import annotations

import shlex

import pytest


@pytest.fixture
def play(diff):
    """``play(script)``: send each line of ``script`` (shell-quoted words; # comments) to both
    servers, asserting identical replies."""

    def run(script: str) -> None:
        for line in script.strip().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                diff.do(*shlex.split(line))

    return run


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def events(request, resp_port: int, redis_port: int):
    """Keyspace events (tests/helpers/events.py) on both servers, all classes selected (KEA),
    from a writer client ``w`` in RESP2 or RESP3; reset to none afterwards."""
    from tests.helpers.clients import Clients
    from tests.helpers.events import Events

    watcher = Events(Clients(resp_port, redis_port, request.param))
    yield watcher
    watcher.close()
