#!/usr/bin/env python3
"""Regenerate the README's table of supported commands from the command table.

python3 scripts/command_table.py          # rewrite README.md in place
python3 scripts/command_table.py --check  # exit 1 if README.md is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import respserver.commands  # noqa: E402,F401  (registers every command)
from respserver.registry import COMMANDS, Command  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- commands:start -->", "<!-- commands:end -->"


def _rows(spec: Command) -> list[tuple[str, str, str]]:
    if spec.subcommands and spec.handler is None:
        return [row for sub in sorted(spec.subcommands) for row in _rows(spec.subcommands[sub])]
    rows = [(spec.group, f"`{spec.usage}`", spec.summary)]
    for sub in sorted(spec.subcommands):
        rows += _rows(spec.subcommands[sub])
    return rows


def render() -> str:
    rows = sorted(row for name in COMMANDS for row in _rows(COMMANDS[name]))
    lines = [START, "", "| group | command | summary |", "|---|---|---|"]
    lines += [
        f"| {group} | {usage.replace('|', '&#124;')} | {summary} |"
        for group, usage, summary in rows
    ]
    lines += ["", END]
    return "\n".join(lines)


def updated(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return head + render() + tail


def main() -> int:
    text = README.read_text()
    if START not in text or END not in text:
        print(f"README.md lacks the {START} ... {END} markers", file=sys.stderr)
        return 1
    new = updated(text)
    if "--check" in sys.argv[1:]:
        if new != text:
            print("README.md's command table is stale: run python3 scripts/command_table.py")
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
