"""The command table as the tests see it: every registered command and subcommand, the names
compared with redis-server 7.0.15, and the commands Redis flags no_multi."""

from __future__ import annotations

import respserver.commands  # noqa: F401  (registers every command)
from respserver.registry import COMMANDS, Command

# respserver's own commands, and later Redis versions' that it implements: redis-server
# 7.0.15 knows nothing of them, so there is nothing to compare against.
NOT_IN_REDIS_7_0 = {"client|setinfo", "query", "qwatch", "qunwatch"}


def all_specs() -> list[Command]:
    return [s for spec in COMMANDS.values() for s in (spec, *spec.subcommands.values())]


NAMES = sorted(spec.name for spec in all_specs())
COMPARED = [name for name in NAMES if name not in NOT_IN_REDIS_7_0]


def find(name: str) -> Command:
    return next(spec for spec in all_specs() if spec.name == name)


def _no_multi_commands() -> list[list[str]]:
    """Every registered command Redis flags no_multi, as its shortest legal command line."""
    lines = []
    for spec in all_specs():
        if "no_multi" in spec.flags:
            words = spec.name.upper().split("|")
            lines.append(words + ["x"] * (abs(spec.arity) - len(words)))
    return lines


NO_MULTI = _no_multi_commands()
