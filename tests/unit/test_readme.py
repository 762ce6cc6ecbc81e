"""The README stays true: its command table is the command table, its commands are the real ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_command_table_in_readme_is_current():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "command_table.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_names_the_setup_commands_ci_runs():
    readme = (ROOT / "README.md").read_text()
    assert "pip install . && respserver" in readme
    assert "scripts/test" in readme
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()
