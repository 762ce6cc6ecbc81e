"""The command table's own invariants, no server needed: each declaration's flags, categories,
arity, key triple and key specs agree with each other and with its syntax string, the syntax
notation parses as Redis writes it, and the table flags what MULTI refuses. (Each declaration
against redis-server's COMMAND INFO and DOCS: tests/differential/test_command_table.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from respserver.registry import (
    CATEGORY_ORDER,
    FLAG_ORDER,
    KEY_FLAG_ORDER,
    Arg,
    Command,
    argument_count,
    parse_syntax,
)
from tests.helpers.commands import NAMES, NO_MULTI, find

# --- registry invariants -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_flags_and_categories_are_known_and_ordered(name):
    spec = find(name)
    assert list(spec.flags) == [f for f in FLAG_ORDER if f in spec.flags]
    assert list(spec.categories) == [c for c in CATEGORY_ORDER if c in spec.categories]
    assert ("fast" in spec.categories) != ("slow" in spec.categories)
    for ks in spec.key_specs:
        assert list(ks.flags) == [f for f in KEY_FLAG_ORDER if f in ks.flags]
        # An access type first; a shard channel (SPUBLISH's) is no key and has none.
        assert ks.flags[0] in ("RO", "RW", "OW", "RM") or ks.flags == ("not_key",)


def _syntax_checked(spec: Command) -> bool:
    # A pure container has no syntax of its own: its subcommands carry it.
    return not (spec.subcommands and spec.handler is None)


@pytest.mark.parametrize("name", [n for n in NAMES if _syntax_checked(find(n))])
def test_arity_matches_syntax(name):
    """The syntax string requires exactly the arguments the arity demands."""
    spec = find(name)
    words = len(spec.name.split("|"))
    least, most = argument_count(parse_syntax(spec.syntax))
    if spec.arity >= 0:
        assert (words + least, words + (most or 0)) == (spec.arity, spec.arity), spec.syntax
    else:
        assert words + least == -spec.arity, spec.syntax


def _positions(args: tuple[Arg, ...], start: int) -> Iterator[tuple[int, Arg]]:
    """Each argument's position in argv, while positions are certain (up to the first optional
    or repeated argument)."""
    position = start
    for arg in args:
        if arg.type == "block":
            yield from _positions(arg.arguments, position)  # its first repetition, if any
            return
        if arg.optional or arg.multiple or arg.type == "oneof":
            yield position, arg  # this one's start is known, nothing after it is
            return
        if arg.token is not None and arg.type != "pure-token":
            position += 1
        yield position, arg
        position += 1


# Commands whose first "key" is a key; a shard channel (SPUBLISH's) is declared as one for
# cluster routing, flagged not_key, and documented as a string.
_KEYED = [n for n in NAMES if find(n).first_key > 0 and "not_key" not in find(n).key_specs[0].flags]


@pytest.mark.parametrize("name", _KEYED)
def test_first_key_points_at_a_key_argument(name):
    spec = find(name)
    known = dict(_positions(spec.arguments, len(spec.name.split("|"))))
    if spec.first_key in known:
        assert known[spec.first_key].type == "key", spec.syntax
    assert any(arg.type == "key" for arg in _flatten(spec.arguments)), spec.syntax


def _flatten(args: tuple[Arg, ...]) -> Iterator[Arg]:
    for arg in args:
        yield arg
        yield from _flatten(arg.arguments)


@pytest.mark.parametrize("name", NAMES)
def test_key_specs_follow_the_key_triple(name):
    spec = find(name)
    known = tuple(ks for ks in spec.key_specs if not ks.unknown)  # SORT's: found by getkeys
    if spec.getkeys is None:
        assert known == spec.key_specs
    # Keys found after a keyword (GEORADIUS's STORE) are no part of the legacy triple.
    known = tuple(ks for ks in known if ks.keyword is None)
    if any(ks.keynum is not None for ks in known):
        # Keys an argument counts: no legacy triple, as in Redis, but for a fixed key before
        # them (ZUNIONSTORE's destination), which the triple names alone.
        *fixed, counted = known
        assert counted.keynum is not None and [ks.keynum for ks in fixed] == [None] * len(fixed)
        triple = (fixed[0].index, fixed[0].index, 1) if fixed else (0, 0, 0)
        assert (spec.first_key, spec.last_key, spec.key_step) == triple
        return
    if spec.first_key == 0:
        assert known == ()
        return
    first = known[0]
    assert first.index == spec.first_key
    if len(known) == 1 and spec.last_key < 0:
        assert (first.lastkey, first.keystep) == (spec.last_key, spec.key_step)
    else:
        last = known[-1]
        if last.lastkey < 0:  # a fixed key, then a range to the end (SINTERSTORE's sources)
            assert (last.lastkey, last.keystep) == (spec.last_key, spec.key_step)
        else:
            assert last.index + last.lastkey == spec.last_key
    indexes = {a.key_spec_index for a in _flatten(spec.arguments) if a.type == "key"}
    assert indexes <= set(range(len(spec.key_specs)))


def test_not_in_redis_list_names_registered_or_planned_commands():
    # Keep the exception list honest: client|setinfo is implemented here (Redis 7.2).
    assert "client|setinfo" in NAMES


# --- the syntax notation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("syntax", "count"),
    [
        ("", (0, 0)),
        ("key", (1, 1)),
        ("key [key ...]", (1, None)),
        ("key field value [field value ...]", (3, None)),
        ("[section [section ...]]", (0, None)),
        ("key [NX | XX] seconds", (2, 3)),
        ("[protover [AUTH username password] [SETNAME clientname]]", (0, 6)),
        ("<LIB-NAME libname | LIB-VER libver>", (2, 2)),
        ("[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]", (0, 3)),
        ("ip:port | <ID client-id | SKIPME <YES | NO>> ...", (1, None)),
    ],
)
def test_syntax_argument_counts(syntax, count):
    assert argument_count(parse_syntax(syntax)) == count


def test_repeats_fold_into_what_they_repeat():
    (key,) = parse_syntax("key [key ...]")
    assert (key.name, key.type, key.multiple, key.optional, key.key_spec_index) == (
        "key",
        "key",
        True,
        False,
        0,
    )
    _, data = parse_syntax("key field value [field value ...]")
    assert data.type == "block" and data.multiple and not data.optional
    assert [a.name for a in data.arguments] == ["field", "value"]
    (filterby,) = parse_syntax("[FILTERBY <MODULE module-name | PATTERN pattern>]")
    assert (filterby.type, filterby.token, filterby.optional) == ("oneof", "FILTERBY", True)
    assert [a.token for a in filterby.arguments] == ["MODULE", "PATTERN"]


def test_unbalanced_syntax_is_refused():
    for syntax in ("[key", "key]", "<a | b"):
        with pytest.raises(ValueError):
            parse_syntax(syntax)


def test_keys_are_numbered_against_key_specs():
    source, destination = parse_syntax("source destination", key_specs=2)
    assert (source.key_spec_index, destination.key_spec_index) == (0, 1)
    (key,) = parse_syntax("key [key ...]", key_specs=1)
    assert key.key_spec_index == 0


def test_the_table_flags_save_and_shutdown_no_multi():
    assert {line[0] for line in NO_MULTI} >= {"SAVE", "SHUTDOWN"}
