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
