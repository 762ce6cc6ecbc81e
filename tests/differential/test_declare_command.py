"""scripts/declare_command writes the declaration of a Redis command from redis-server's own
COMMAND INFO and COMMAND DOCS. Run over every command respserver declares (each already held
to redis-server by test_command_table.py), it must write what respserver declares."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

import pytest
import redis

from respserver.registry import (
    HIDDEN_FLAGS,
    Command,
    _categories,
    _key_specs,
    argument_count,
    keys_of,
    parse_syntax,
)
from tests.helpers.commands import COMPARED, find

pytestmark = pytest.mark.differential

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "declare_command"


def _load_script():
    loader = importlib.machinery.SourceFileLoader("declare_command", str(SCRIPT))
    spec = importlib.util.spec_from_loader("declare_command", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


declare = _load_script()


@pytest.fixture(scope="module")
def oracle(redis_port: int) -> redis.Redis:
    r = redis.Redis(host="127.0.0.1", port=redis_port, protocol=3)
    r.response_callbacks.clear()
    yield r
    r.close()


def _captured(text: str) -> tuple[str, dict]:
    """The arguments the written declaration passes to ``command`` (or ``container``)."""
    calls = []

    def capture(*args, **kwargs):
        calls.append((args, kwargs))
        return lambda handler: handler

    exec(text.replace("@command(", "capture(", 1).replace("container(", "capture(", 1), {
        "capture": capture
    })  # fmt: skip
    ((args, kwargs),) = calls
    return args[0], {"syntax": args[1] if len(args) > 1 else "", **kwargs}


@pytest.mark.parametrize("name", COMPARED)
def test_the_written_declaration_is_respserver_s(oracle, name):
    spec = find(name)
    text = declare.declaration(oracle, name)
    flagged = text.startswith("# CHECK:")
    written_name, kw = _captured(text.split("\n", 1)[1] if flagged else text)
    assert written_name == spec.name
    assert kw["arity"] == spec.arity
    assert set(kw.get("flags", "").split()) == set(spec.flags) - HIDDEN_FLAGS
    for field in ("group", "since", "summary"):
        assert kw[field] == getattr(spec, field), field
    if spec.subcommands:  # a container: its subcommands are compared one by one
        assert text.split("\n")[1 if flagged else 0].startswith("# subcommands:")
        return
    assert kw.get("complexity", "") == spec.complexity
    assert kw.get("tips", "") == " ".join(spec.tips)
    assert tuple(kw.get("history", ())) == spec.history
    assert kw.get("deprecated") == spec.deprecated
    assert kw.get("syscmd", False) == ("syscmd" in spec.doc_flags)
    assert kw.get("keys", (0, 0, 0)) == (spec.first_key, spec.last_key, spec.key_step)
    counted = [(ks.index, *ks.keynum, ks.keystep) for ks in spec.key_specs if ks.keynum]
    assert ([kw["key_count"]] if "key_count" in kw else []) == counted
    assert kw.get("key_flags", "") == " | ".join(" ".join(ks.flags) for ks in spec.key_specs)
    notes = " | ".join(ks.notes for ks in spec.key_specs).strip(" |")
    assert kw.get("key_notes", "").strip(" |") == notes
    assert kw.get("unknown_keys", 0) == sum(ks.unknown for ks in spec.key_specs)
    searches = tuple(
        (*ks.keyword, *((ks.limit,) if ks.limit else ())) for ks in spec.key_specs if ks.keyword
    )
    assert kw.get("keyword_keys", ()) == searches
    flags = kw.get("flags", "").split()
    assert _categories(flags, kw["group"], kw.get("categories")) == spec.categories
    written = argument_count(parse_syntax(kw["syntax"], len(spec.key_specs)))
    # A usage line respserver's arity rule would refuse is flagged for the developer.
    assert flagged or written == argument_count(spec.arguments)


def test_what_the_registry_cannot_declare_is_reported(oracle):
    (info,) = declare._text(oracle.execute_command("COMMAND", "INFO", "migrate"))
    with pytest.raises(declare.Unsupported, match="key spec"):
        declare._key_flags(info[8])  # MIGRATE's keys: all the rest after the keyword KEYS


def test_a_usage_line_that_misses_the_arity_is_flagged(oracle):
    (text,) = [declare.declaration(oracle, "command|getkeys")]
    assert text.startswith("# CHECK: this usage line does not take what arity -4 says")


@pytest.mark.parametrize(
    "argv",
    [
        [b"sinterstore", b"dst", b"a", b"b", b"c"],
        [b"zunionstore", b"dst", b"2", b"a", b"b", b"WEIGHTS", b"1", b"2"],
        [b"blmpop", b"0", b"2", b"a", b"b", b"LEFT"],
        [b"smove", b"src", b"dst", b"m"],
        [b"georadius", b"k", b"0", b"0", b"1", b"m", b"STORE", b"a", b"storedist", b"b"],
        [b"georadius", b"k", b"0", b"0", b"1", b"m", b"storedist", b"b", b"store", b"a", b"x"],
        [b"georadius", b"k", b"0", b"0", b"1", b"STORE", b"m", b"STORE"],
        [b"georadiusbymember", b"k", b"m", b"1", b"STORE", b"km", b"STORE", b"d"],
        [b"georadiusbymember", b"k", b"m", b"1", b"km", b"STORE"],
    ],
)
def test_a_declared_key_layout_finds_the_keys_redis_finds(oracle, argv):
    """A fixed key beside a range or a counted range (destination and sources), a key after a
    keyword (GEORADIUS's STORE): the key specs the written declaration builds find the keys,
    with the flags, COMMAND INFO gives."""
    name = argv[0].decode()
    text = declare.declaration(oracle, name)
    _, kw = _captured(text.split("\n", 1)[1] if text.startswith("# CHECK:") else text)
    specs = _key_specs(
        kw.get("keys", (0, 0, 0)),
        kw.get("flags", "").split(),
        kw.get("key_flags", ""),
        kw.get("key_notes", ""),
        kw.get("key_count"),
        keyword_keys=kw.get("keyword_keys", ()),
    )
    spec = Command(name, "", kw["arity"], (), 0, 0, 0, "", "", "", "", None, (), key_specs=specs)
    wanted = oracle.execute_command("COMMAND", "GETKEYSANDFLAGS", *argv)
    found = [(argv[p], list(flags)) for p, flags in keys_of(spec, argv)]
    assert found == [(key, [f.decode() for f in flags]) for key, flags in wanted]
