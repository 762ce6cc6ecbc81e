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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
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
# Flags Redis keeps but COMMAND INFO does not show ("Hidden on purpose" in addReplyFlagsForCommand).
HIDDEN_FLAGS = frozenset(("may_replicate", "sentinel", "only_sentinel"))
# Key-spec flags, in the order Redis prints them (addReplyFlagsForKeyArgs).
KEY_FLAG_ORDER = (
    "RO RW OW RM access update insert delete not_key incomplete variable_flags"
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


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One of Redis's key specs: keys start at argv[``index``] and run to ``lastkey`` (0: that
    one key; -1: the last argument; n > 0: n arguments further), every ``keystep``. A
    ``keynum`` spec (LMPOP's ``numkeys key [key ...]``) instead reads how many keys there are
    at ``index + keynum[0]``, the first one at ``index + keynum[1]``."""

    flags: tuple[str, ...]
    index: int
    lastkey: int
    keystep: int
    notes: str = ""  # Redis's remark on the spec, shown by COMMAND INFO (SET: why RW access)
    keynum: tuple[int, int] | None = None  # (keynumidx, firstkey), Redis's find_keys keynum
    # Found by no rule COMMAND INFO can state (SORT's BY/GET and STORE keys): begin_search and
    # find_keys "unknown"; the command's ``getkeys`` finds them.
    unknown: bool = False
    # Redis's begin_search "keyword": the key follows the first ``keyword`` found searching
    # from argv[startfrom] (backwards from the end when negative); ``index`` is then unused.
    keyword: tuple[str, int] | None = None
    # Redis's range "limit": with lastkey -1, the keys are the first 1/limit of the arguments
    # from the first one on (XREAD's keys after STREAMS, then as many IDs).
    limit: int = 0


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
    key_specs: tuple[KeySpec, ...] = ()
    history: tuple[tuple[str, str], ...] = ()
    doc_flags: tuple[str, ...] = ()  # COMMAND DOCS' "deprecated", "syscmd"
    deprecated: tuple[str, str] | None = None  # (since, replaced by), COMMAND DOCS shows both
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    container: str | None = None
    first_arg: int = 1  # where the handler's arguments start in argv: after the (sub)command
    plain: bool = True  # no subcommands: dispatch needs no second lookup
    write: bool = False  # flagged "write": logged to the AOF when it changed something
    invoke: Callable[[Any, list[bytes]], Any] | None = None  # handler(ctx, *argv[first_arg:])
    # For key specs flagged variable_flags: argv -> [(position, flags)], Redis's getkeys_proc.
    getkeys: Callable[[list[bytes]], list[tuple[int, tuple[str, ...]]]] | None = None

    @property
    def arguments(self) -> tuple[Arg, ...]:
        return parse_syntax(self.syntax, len(self.key_specs))

    def arity_ok(self, argc: int) -> bool:
        return argc == self.arity if self.arity >= 0 else argc >= -self.arity

    @property
    def usage(self) -> str:
        """The usage line, e.g. ``HGET key field``."""
        shown = self.name.replace("|", " ").upper()
        return f"{shown} {self.syntax}".rstrip()


COMMANDS: dict[bytes, Command] = {}

# The ACL category a command of each COMMAND DOCS group has unless it declares its own.
_GROUP_CATEGORY = {
    "string": "string",
    "hash": "hash",
    "list": "list",
    "set": "set",
    "sorted-set": "sortedset",  # COMMAND DOCS spells the group with a dash
    "stream": "stream",
    "bitmap": "bitmap",
    "hyperloglog": "hyperloglog",
    "geo": "geo",
    "pubsub": "pubsub",
    "scripting": "scripting",
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
    key_flags: str = "",
    key_notes: str = "",
    key_count: tuple[int, int, int, int] | None = None,
    unknown_keys: int = 0,
    keyword_keys: tuple[tuple[str, int] | tuple[str, int, int], ...] = (),
    history: tuple[tuple[str, str], ...] = (),
    deprecated: tuple[str, str] | None = None,
    syscmd: bool = False,
    getkeys: Callable[[list[bytes]], list[tuple[int, tuple[str, ...]]]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a command (or ``parent|sub`` subcommand) and register its handler.

    ``key_flags`` are the key specs' flags (Redis's "RW access update"; specs separated by
    '|' when ``keys`` spans several fixed positions, as RENAME's "RW access delete | OW update");
    by default "RO access" for readonly commands, "RW update" for write ones; ``key_notes``
    their notes, separated the same way. ``key_count`` declares keys whose number an argument
    gives instead, as (index, keynumidx, firstkey, keystep): the command is then flagged
    movablekeys and ``keys`` stays (0, 0, 0), as Redis shows it. The last ``unknown_keys``
    parts of ``key_flags`` are specs Redis marks unknown (SORT's), found by ``getkeys``;
    before them, one part per ``keyword_keys`` (keyword, startfrom) is a key found after a
    keyword (GEORADIUS's STORE key), or with (keyword, startfrom, limit) the first 1/limit of
    the arguments after it (XREAD's STREAMS keys, then their IDs). ``history`` is COMMAND
    DOCS' list of (version, change). ``deprecated`` is the version that deprecated the
    command and what replaces it; ``syscmd`` marks an internal command (PFDEBUG). ``getkeys``
    refines the flags of a ``variable_flags`` key spec from the arguments (SET reads its key
    only with GET).
    """

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
            key_specs=_key_specs(
                keys, flags.split(), key_flags, key_notes, key_count, unknown_keys, keyword_keys
            ),
            history=history,
            doc_flags=("deprecated",) * bool(deprecated) + ("syscmd",) * syscmd,
            deprecated=deprecated,
            getkeys=getkeys,
        )
        parent, _, sub = name.partition("|")
        if sub:
            container = COMMANDS.get(parent.encode())
            if container is None:
                raise ValueError(f"subcommand {name} declared before its container")
            spec.container = parent
            spec.first_arg = 2
            _add(container.subcommands, sub.encode(), spec)
            container.plain = False
        else:
            _add(COMMANDS, name.encode(), spec)
        spec.invoke = _invoker(handler, spec.first_arg)
        spec.write = "write" in spec.flags
        return handler

    return register


def container(
    name: str,
    *,
    arity: int,
    group: str,
    since: str,
    summary: str,
    complexity: str = "Depends on subcommand.",
    flags: str = "",
    categories: str | None = None,
    tips: str = "",
    history: tuple[tuple[str, str], ...] = (),
    handler: Callable[..., Any] | None = None,
) -> None:
    """Declare a command that dispatches to ``name|sub`` subcommands (CONFIG, CLIENT...).

    With a ``handler`` the container also runs on its own when no subcommand follows (plain
    ``COMMAND``). Unlike a command, it takes no ACL category from its group: Redis gives CLIENT
    and CONFIG only @slow.
    """
    spec = Command(
        name=name,
        syntax="",
        arity=arity,
        flags=_ordered(flags.split(), FLAG_ORDER),
        first_key=0,
        last_key=0,
        key_step=0,
        group=group,
        since=since,
        summary=summary,
        complexity=complexity,
        handler=handler,
        invoke=_invoker(handler, 1) if handler else None,
        categories=_categories(flags.split(), "", categories),
        tips=tuple(tips.split()),
        history=history,
    )
    _add(COMMANDS, name.encode(), spec)


def _invoker(handler: Callable[..., Any], first: int) -> Callable[[Any, list[bytes]], Any]:
    """Call ``handler(ctx, *argv[first:])``, spelled out for the common argument counts: on the
    per-command path a starred call costs several times a plain one."""

    def invoke(ctx: Any, argv: list[bytes]) -> Any:
        count = len(argv) - first
        if count == 1:
            return handler(ctx, argv[first])
        if count == 2:
            return handler(ctx, argv[first], argv[first + 1])
        if count == 3:
            return handler(ctx, argv[first], argv[first + 1], argv[first + 2])
        if count == 0:
            return handler(ctx)
        return handler(ctx, *argv[first:])

    return invoke


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
    if "fast" in flags:
        cats.add("fast")
    if "fast" not in cats:
        cats.add("slow")
    return _ordered(sorted(cats), CATEGORY_ORDER)


def _key_specs(
    keys: tuple[int, int, int],
    flags: list[str],
    key_flags: str,
    key_notes: str = "",
    key_count: tuple[int, int, int, int] | None = None,
    unknown_keys: int = 0,
    keyword_keys: tuple[tuple[str, int] | tuple[str, int, int], ...] = (),
) -> tuple[KeySpec, ...]:
    """Key specs from the legacy (first, last, step) triple and ``key_flags``' parts: one
    range spec; one spec per position when the keys sit at a few fixed places (RENAME's
    source and destination); a fixed key then a range of the rest (SINTERSTORE's
    destination and sources: two parts over ``keys=(1, -1, 1)``); and last, when
    ``key_count`` is given, the keynum spec it declares (LMPOP's keys alone, or
    ZUNIONSTORE's after its fixed destination)."""
    default = "RO access" if "readonly" in flags else "RW update" if "write" in flags else "RO"
    given = [part.split() for part in key_flags.split("|")] if key_flags else [default.split()]
    notes = [part.strip() for part in key_notes.split("|")] if key_notes else [""] * len(given)
    if len(notes) != len(given):
        raise ValueError(f"key_notes names {len(notes)} specs, key_flags {len(given)}")
    trailing = len(keyword_keys) + unknown_keys
    if trailing:  # after the positional specs: keys after a keyword, then unknown ones
        searches = [
            KeySpec((), 0, -1, 1, keyword=kw[:2], limit=kw[2])
            if len(kw) == 3
            else KeySpec((), 0, 0, 1, keyword=kw)
            for kw in keyword_keys
        ]
        searches += [KeySpec((), 0, 0, 0, unknown=True)] * unknown_keys
        extra = [
            replace(search, flags=_ordered(f, KEY_FLAG_ORDER), notes=n)
            for search, f, n in zip(searches, given[-trailing:], notes[-trailing:], strict=True)
        ]
        del given[-trailing:], notes[-trailing:]
        known = _key_specs(keys, flags, "|".join(map(" ".join, given)), "|".join(notes), key_count)
        return (*known, *extra)
    specs: list[KeySpec] = []
    if key_count is not None:
        if "movablekeys" not in flags:
            raise ValueError("key_count goes with the movablekeys flag")
        index, keynumidx, firstkey, keystep = key_count
        counted = KeySpec(
            _ordered(given.pop(), KEY_FLAG_ORDER), index, 0, keystep, notes.pop(),
            (keynumidx, firstkey),
        )  # fmt: skip
        specs.append(counted)
        if keys == (0, 0, 0):
            return tuple(specs)
        if keys[1] != keys[0]:
            raise ValueError("beside key_count, keys names one fixed key")
    first, last, step = keys
    if first <= 0:
        return ()
    if last > 0 and step == 1 and last > first:
        positions = list(range(first, last + 1))
    else:
        positions = [first]
    if len(given) == 1:  # one spec over fixed positions: a range of them (LCS's key1 key2)
        positions = [first]
    if len(given) == 2 and len(positions) == 1 and last != first:
        # A fixed key, then the rest as a range: (1, -1, 1) -> argv[1], then argv[2:].
        lastkey = last - first - 1 if last >= 0 else last
        fixed = KeySpec(_ordered(given[0], KEY_FLAG_ORDER), first, 0, 1, notes[0])
        rest = KeySpec(_ordered(given[1], KEY_FLAG_ORDER), first + 1, lastkey, step, notes[1])
        return (fixed, rest, *specs)
    if len(given) != len(positions):
        raise ValueError(f"key_flags names {len(given)} specs for {len(positions)} key positions")
    if len(positions) > 1:
        pairs = zip(given, positions, notes, strict=True)
        return (*(KeySpec(_ordered(f, KEY_FLAG_ORDER), p, 0, 1, n) for f, p, n in pairs), *specs)
    lastkey = last - first if last >= 0 else last
    spec = KeySpec(_ordered(given[0], KEY_FLAG_ORDER), first, lastkey, step, notes[0])
    return (spec, *specs)


def keys_of(
    spec: Command, argv: list[bytes], strict: bool = False
) -> list[tuple[int, tuple[str, ...]]]:
    """Where a full command line's keys are, each with its key spec's flags (Redis's
    getKeysFromCommandWithSpecs). A line one spec cannot read (a key count that is no number,
    keys past the end, PFMERGE's sources missing) has no keys at all, as in Redis: ACL checks
    none, and with ``strict`` (COMMAND GETKEYS) it raises ValueError."""
    if spec.getkeys is not None:
        return spec.getkeys(argv)
    found = []
    try:
        for ks in spec.key_specs:
            if not ks.unknown and "not_key" not in ks.flags:  # (a shard channel is no key)
                found += [(p, ks.flags) for p in _spec_keys(ks, argv)]
    except ValueError:
        if strict:
            raise
        return []
    return found


def _spec_keys(ks: KeySpec, argv: list[bytes]) -> range:
    """The positions one spec finds in ``argv``; ValueError where it runs past the line."""
    first = ks.index
    if ks.keyword is not None:
        first = _after_keyword(ks.keyword, argv)
        if first is None:
            return range(0)
    if ks.keynum is not None:
        keynumidx, firstkey = ks.keynum
        count = argv[first + keynumidx] if first + keynumidx < len(argv) else b""
        if not count.isdigit():
            raise ValueError("no key count")
        first += firstkey
        last = first + int(count) - 1
    elif ks.limit:
        last = first + (len(argv) - first) // ks.limit + ks.lastkey
    else:
        last = len(argv) + ks.lastkey if ks.lastkey < 0 else first + ks.lastkey
    if last >= len(argv) or last < first:
        raise ValueError("keys past the end of the line")
    return range(first, last + 1, ks.keystep)


def _after_keyword(search: tuple[str, int], argv: list[bytes]) -> int | None:
    """Where the key after the first ``keyword`` is, searching from argv[startfrom] toward
    the end (from argv[len + startfrom] toward the start when negative), as Redis's keyword
    begin_search (a keyword in the last place: a key past the end of the line)."""
    keyword, startfrom = search
    if startfrom > 0:
        places = range(startfrom, len(argv) - 1)
    else:
        places = range(len(argv) + startfrom, 1, -1)
    wanted = keyword.lower().encode()
    for i in places:
        if 1 <= i < len(argv) and argv[i].lower() == wanted:
            return i + 1
    return None


# --- syntax strings -> argument trees (COMMAND DOCS) -------------------------------------------
#
# The notation is Redis's usage line: UPPERCASE words are literal tokens (a token followed by a
# lowercase name or a <group> introduces it), [ ] is optional, < > groups, | separates
# alternatives, and "x [x ...]" (or "[x ...]") repeats x.

_TOKEN = re.compile(r"\[|\]|<|>|\||\.\.\.|[^\s\[\]<>|]+")
_INTEGER_NAMES = re.compile(
    r"^(count|seconds|milliseconds|.*timestamp|offset|start|end|increment|decrement|"
    r"numkeys|index|db|destination-db|timeout|port|id|cursor|.*-id|value-integer|protover)$"
)
_CLOSERS = {"[": "]", "<": ">"}


def parse_syntax(syntax: str, key_specs: int = 1) -> tuple[Arg, ...]:
    """Read Redis's usage notation (``key [NX | XX] [field value ...]``) into an argument tree;
    key arguments are numbered in order against ``key_specs`` specs (the last one repeating)."""
    tokens = _TOKEN.findall(syntax)
    args, end, _ = _parse_sequence(tokens, 0)
    if end != len(tokens):
        raise ValueError(f"unbalanced syntax: {syntax}")
    counter = iter(range(1 << 30))
    return tuple(_number_keys(arg, counter, max(key_specs, 1) - 1) for arg in args)


def _number_keys(arg: Arg, counter: Iterator[int], last: int) -> Arg:
    if arg.type == "key":
        return _with(arg, key_spec_index=min(next(counter), last))
    if arg.arguments:
        return _with(arg, arguments=tuple(_number_keys(a, counter, last) for a in arg.arguments))
    return arg


def _parse_sequence(tokens: list[str], i: int) -> tuple[list[Arg], int, bool]:
    """Parse alternatives separated by '|' up to a closing ']' or '>' (not consumed) or the end.
    Returns the items (one oneof Arg if there were alternatives), the position reached, and
    whether the sequence ended with '...' (a repeat of what precedes its bracket)."""
    alternatives: list[list[Arg]] = [[]]
    repeated = False
    while i < len(tokens) and tokens[i] not in ("]", ">"):
        tok, items = tokens[i], alternatives[-1]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok == "|":
            alternatives.append([])
            i += 1
        elif tok in _CLOSERS:
            inner, i, inner_repeated = _parse_bracket(tokens, i)
            _append_group(items, inner, tok == "[", inner_repeated)
        elif tok == "...":
            if nxt in ("]", ">"):
                repeated = True
            else:
                items[-1] = _with(items[-1], multiple=True)
            i += 1
        elif _is_literal(tok) and nxt == "<":
            inner, i, _ = _parse_bracket(tokens, i + 1)
            if len(inner) == 1 and inner[0].token is None:
                items.append(_with(inner[0], token=tok))
            else:
                items.append(Arg(tok.lower(), "block", token=tok, arguments=tuple(inner)))
        elif _is_literal(tok) and nxt is not None and nxt[0].islower():
            items.append(Arg(nxt, _type_of(nxt), token=tok))
            i += 2
        elif _is_literal(tok):
            items.append(Arg(tok.lower(), "pure-token", token=tok))
            i += 1
        else:
            items.append(Arg(tok, _type_of(tok)))
            i += 1
    if len(alternatives) > 1:
        options = tuple(_group(alt, optional=False) for alt in alternatives)
        return [Arg(_oneof_name(options), "oneof", arguments=options)], i, False
    return alternatives[0], i, repeated


def _parse_bracket(tokens: list[str], i: int) -> tuple[list[Arg], int, bool]:
    """Parse the group opened at tokens[i]; returns its items, the position after its closer,
    and whether it ends with '...'."""
    inner, end, repeated = _parse_sequence(tokens, i + 1)
    if end >= len(tokens) or tokens[end] != _CLOSERS[tokens[i]]:
        raise ValueError(f"unbalanced {tokens[i]!r} in syntax: {' '.join(tokens)}")
    return inner, end + 1, repeated


def _append_group(items: list[Arg], inner: list[Arg], optional: bool, repeated: bool) -> None:
    """Append a bracketed group; "x [x ...]" folds into one x that repeats ("ID id [id ...]"
    repeats the value, "ID id [ID id ...]" the token too)."""
    n = len(inner)
    if repeated and 0 < n <= len(items) and _same(items[-n:], inner):
        first = items[-n]
        del items[-n:]
        with_token = first.token is not None and inner[0].token == first.token
        items.append(
            _with(
                _group([first, *inner[1:]], optional=False),
                multiple=True,
                multiple_token=with_token,
            )
        )
    elif repeated:
        items.append(_with(_group(inner, optional=optional), multiple=True))
    else:
        items.append(_group(inner, optional=optional))


def _same(a: list[Arg], b: list[Arg]) -> bool:
    """Whether ``b`` repeats ``a`` (its first token may be left out)."""
    return [(x.name, x.type) for x in a] == [(y.name, y.type) for y in b] and all(
        y.token in (x.token, None if i == 0 else x.token)
        for i, (x, y) in enumerate(zip(a, b, strict=True))
    )


def _is_literal(tok: str) -> bool:
    return tok.isupper() or not tok[0].isalpha()


def _group(items: list[Arg], optional: bool) -> Arg:
    if len(items) == 1:
        return _with(items[0], optional=optional or items[0].optional)
    return Arg(
        items[0].name.replace("-", "_") + "_block",
        "block",
        optional=optional,
        arguments=tuple(items),
    )


def _oneof_name(options: tuple[Arg, ...]) -> str:
    return "_".join(o.name for o in options)[:40]


def argument_count(args: tuple[Arg, ...]) -> tuple[int, int | None]:
    """How many arguments ``args`` take at least and at most (None: unbounded)."""
    low, high = 0, 0
    for arg in args:
        a_low, a_high = _count(arg)
        low += a_low
        high = None if high is None or a_high is None else high + a_high
    return low, high


def _count(arg: Arg) -> tuple[int, int | None]:
    if arg.type == "block":
        low, high = argument_count(arg.arguments)
    elif arg.type == "oneof":
        counts = [_count(a) for a in arg.arguments]
        low = min(c[0] for c in counts)
        highs = [c[1] for c in counts]
        high = None if None in highs else max(highs)
    else:
        low = high = 1
    if arg.token is not None and arg.type != "pure-token":
        low, high = low + 1, None if high is None else high + 1
    if arg.optional:
        low = 0
    if arg.multiple and high != 0:
        high = None
    return low, high


def _type_of(name: str) -> str:
    if name in ("key", "source", "destination", "newkey", "src", "dst") or name.endswith("key"):
        return "key"
    if name in ("key1", "key2"):  # LCS's
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
