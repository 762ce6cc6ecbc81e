"""The command table: one declaration per command, from which dispatch, arity errors and the
``COMMAND`` family's replies are all derived.

A command is declared where its handler is written::

    @command("hget", "key field", arity=3, flags="readonly fast", keys=(1, 1, 1),
             group="hash", since="2.0.0", summary="Returns the value of a field in a hash.")
    def hget(ctx: Client, key: bytes, field: bytes) -> Reply: ...

``arity`` follows Redis (it counts the command name; -N means at least N). The syntax string is
Redis's usage line; ``COMMAND DOCS`` argument trees and the README's table are read from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The order Redis prints flags and ACL categories in (addReplyFlagsForCommand, ACL categories).
FLAG_ORDER = (
    "write readonly denyoom module admin pubsub noscript blocking loading stale skip_monitor "
    "skip_slowlog asking fast no_auth may_replicate sentinel only_sentinel no_mandatory_keys "
    "no_async_loading no_multi movablekeys allow_busy"
).split()
CATEGORY_ORDER = (
    "keyspace read write set sortedset list hash string bitmap hyperloglog geo stream pubsub "
    "admin fast slow blocking dangerous connection transaction scripting"
).split()


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument of a command, in the shape of Redis's COMMAND DOCS."""

    name: str
    type: str
    token: str | None = None
    optional: bool = False
    multiple: bool = False
    multiple_token: bool = False
    arguments: tuple[Arg, ...] = ()
    key_spec_index: int | None = None


@dataclass(slots=True)
class Command:
    name: str  # lowercase; "parent|sub" for a subcommand
    syntax: str
    arity: int
    flags: tuple[str, ...]
    first_key: int
    last_key: int
    key_step: int
    group: str
    since: str
    summary: str
    complexity: str
    handler: Callable[..., Any] | None
    categories: tuple[str, ...]
    tips: tuple[str, ...] = ()
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    container: str | None = None

    @property
    def arguments(self) -> tuple[Arg, ...]:
        return parse_syntax(self.syntax)

    def arity_ok(self, argc: int) -> bool:
        return argc == self.arity if self.arity >= 0 else argc >= -self.arity

    @property
    def usage(self) -> str:
        """The usage line, e.g. ``HGET key field``."""
        shown = self.name.replace("|", " ").upper()
        return f"{shown} {self.syntax}".rstrip()


COMMANDS: dict[bytes, Command] = {}

_GROUP_CATEGORY = {
    "string": "string",
    "hash": "hash",
    "generic": "keyspace",
    "connection": "connection",
    "transactions": "transaction",
    "server": None,
}


def command(
    name: str,
    syntax: str = "",
    *,
    arity: int,
    flags: str = "",
    keys: tuple[int, int, int] = (0, 0, 0),
    group: str,
    since: str,
    summary: str,
    complexity: str = "O(1)",
    categories: str | None = None,
    tips: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a command (or ``parent|sub`` subcommand) and register its handler."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        spec = Command(
            name=name,
            syntax=syntax,
            arity=arity,
            flags=_ordered(flags.split(), FLAG_ORDER),
            first_key=keys[0],
            last_key=keys[1],
            key_step=keys[2],
            group=group,
            since=since,
            summary=summary,
            complexity=complexity,
            handler=handler,
            categories=_categories(flags.split(), group, categories),
            tips=tuple(tips.split()),
        )
        parent, _, sub = name.partition("|")
        if sub:
            container = COMMANDS.get(parent.encode())
            if container is None:
                raise ValueError(f"subcommand {name} declared before its container")
            spec.container = parent
            _add(container.subcommands, sub.encode(), spec)
        else:
            _add(COMMANDS, name.encode(), spec)
        return handler

    return register


def container(
    name: str, *, arity: int, group: str, since: str, summary: str, complexity: str = "Depends on subcommand."
) -> None:
    """Declare a command that only dispatches to ``name|sub`` subcommands (CONFIG, CLIENT...)."""
    spec = Command(
        name=name,
        syntax="",
        arity=arity,
        flags=(),
        first_key=0,
        last_key=0,
        key_step=0,
        group=group,
        since=since,
        summary=summary,
        complexity=complexity,
        handler=None,
        categories=("slow",),
    )
    _add(COMMANDS, name.encode(), spec)


def _add(table: dict[bytes, Command], key: bytes, spec: Command) -> None:
    if key in table:
        raise ValueError(f"command already registered: {spec.name}")
    table[key] = spec


def _ordered(items: list[str], order: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    unknown = set(items) - set(order)
    if unknown:
        raise ValueError(f"unknown flags or categories: {sorted(unknown)}")
    return tuple(x for x in order if x in items)


def _categories(flags: list[str], group: str, explicit: str | None) -> tuple[str, ...]:
    """Redis's implicit ACL categories: @write/@read from flags, @fast or else @slow."""
    cats = set(explicit.split()) if explicit is not None else set()
    if explicit is None and _GROUP_CATEGORY.get(group):
        cats.add(_GROUP_CATEGORY[group])
    if "write" in flags:
        cats.add("write")
    if "readonly" in flags:
        cats.add("read")
    if "admin" in flags:
        cats.update(("admin", "dangerous"))
    if "pubsub" in flags:
        cats.add("pubsub")
    if "blocking" in flags:
        cats.add("blocking")
    cats.add("fast" if "fast" in flags else "slow")
    return _ordered(sorted(cats), CATEGORY_ORDER)


# --- syntax strings -> argument trees (COMMAND DOCS) -------------------------------------------

_TOKEN = re.compile(r"\[|\]|\||\.\.\.|[^\s\[\]|]+")
_INTEGER_NAMES = re.compile(
    r"^(count|seconds|milliseconds|.*timestamp|offset|start|end|increment|decrement|"
    r"numkeys|index|db|destination-db|timeout|port|id|cursor|.*-id|value-integer)$"
)


def parse_syntax(syntax: str) -> tuple[Arg, ...]:
    """Read Redis's usage notation (``key [NX | XX] [field value ...]``) into an argument tree."""
    tokens = _TOKEN.findall(syntax)
    args, rest = _parse_sequence(tokens, 0)
    if rest != len(tokens):
        raise ValueError(f"unbalanced syntax: {syntax}")
    key_index = 0
    numbered = []
    for arg in args:
        if arg.type == "key":
            arg = _with(arg, key_spec_index=key_index)
            key_index += 1
        numbered.append(arg)
    return tuple(numbered)


def _parse_sequence(tokens: list[str], i: int) -> tuple[list[Arg], int]:
    """Parse alternatives separated by '|' until ']' or the end; returns one Arg per element."""
    alternatives: list[list[Arg]] = [[]]
    while i < len(tokens):
        tok = tokens[i]
        if tok == "]":
            break
        if tok == "|":
            alternatives.append([])
            i += 1
            continue
        if tok == "[":
            inner, i = _parse_sequence(tokens, i + 1)
            i += 1  # the ']'
            alternatives[-1].append(_group(inner, optional=True))
            continue
        if tok == "...":
            items = alternatives[-1]
            if len(items) >= 2 and items[-1].optional and not items[-1].multiple:
                # "key [key ...]": the optional repeat folds into the one before it.
                items.pop()
            items[-1] = _with(items[-1], multiple=True)
            i += 1
            continue
        if tok.isupper() or not tok[0].isalpha():
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt[0].islower():
                alternatives[-1].append(Arg(nxt, _type_of(nxt), token=tok))
                i += 2
                continue
            alternatives[-1].append(Arg(tok.lower(), "pure-token", token=tok))
            i += 1
            continue
        alternatives[-1].append(Arg(tok, _type_of(tok)))
        i += 1
    if len(alternatives) > 1:
        options = tuple(_group(alt, optional=False) for alt in alternatives)
        return [Arg(_oneof_name(options), "oneof", arguments=options)], i
    return alternatives[0], i


def _group(items: list[Arg], optional: bool) -> Arg:
    if len(items) == 1:
        return _with(items[0], optional=optional or items[0].optional)
    return Arg(items[0].name.replace("-", "_") + "_block", "block", optional=optional, arguments=tuple(items))


def _oneof_name(options: tuple[Arg, ...]) -> str:
    return "_".join(o.name for o in options)[:40]


def _type_of(name: str) -> str:
    if name in ("key", "source", "destination", "newkey") or name.endswith("key"):
        return "key"
    if name == "pattern":
        return "pattern"
    if _INTEGER_NAMES.match(name):
        return "integer"
    if name in ("score", "double"):
        return "double"
    return "string"


def _with(arg: Arg, **changes: Any) -> Arg:
    values = {f: getattr(arg, f) for f in Arg.__dataclass_fields__}
    values.update(changes)
    return Arg(**values)


def lookup(name: bytes) -> Command | None:
    """Find a top-level command by name, case-insensitively."""
    spec = COMMANDS.get(name)
    if spec is None:
        spec = COMMANDS.get(name.lower())
    return spec
