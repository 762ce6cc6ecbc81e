"""Every error reply's text is written in respserver/errors.py: no other module of the package
spells a string that starts with one of Redis's error codes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "respserver"
CODES = re.compile(
    r"^-?(ERR|WRONGTYPE|NOPERM|NOAUTH|WRONGPASS|EXECABORT|OOM|LOADING|MISCONF|NOPROTO|DENIED"
    r"|BUSY|NOSCRIPT|READONLY|MOVED|ASK|CLUSTERDOWN|NOGROUP|BUSYGROUP)( |$)"
)


def _spelled(path: Path, root: Path = PACKAGE.parent) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            text = first.value if isinstance(first, ast.Constant) else ""
        elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
        else:
            continue
        if isinstance(text, str) and CODES.match(text):
            found.add(f"{path.relative_to(root)}:{node.lineno}: {text[:60]!r}")
    return found


def test_error_texts_live_in_errors_py():
    modules = [p for p in PACKAGE.rglob("*.py") if p.name != "errors.py" or p.parent != PACKAGE]
    assert sorted(hit for path in modules for hit in _spelled(path)) == []


def test_the_scan_finds_a_spelled_error(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('raise CommandError(f"ERR bad {x}")\nREPLY = b"-WRONGTYPE no"\n')
    assert len(_spelled(sample, tmp_path)) == 2
