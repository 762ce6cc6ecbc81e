"""Every registered command against redis-server 7.0.15's own description of it: COMMAND INFO,
COMMAND DOCS and COMMAND GETKEYS. Iterates over whatever is registered when the tests run, so it
checks every family's declarations, not only the server and connection ones. (The registry's
own invariants, no server needed: tests/unit/test_registry.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from respserver.registry import Command
from tests.conftest import RawConnection, parse
from tests.helpers.commands import COMPARED, NOT_IN_REDIS_7_0, find
from tests.helpers.respshape import elements


@pytest.fixture(scope="module", params=[2, 3], ids=["resp2", "resp3"])
def pair(request, resp_server, redis_port) -> Iterator[tuple[RawConnection, RawConnection]]:
    """One connection to respserver and one to redis-server, speaking RESP2 or RESP3."""
    ours, real = RawConnection(resp_server.port), RawConnection(redis_port)
    for conn in (ours, real):
        conn.call("HELLO", str(request.param))
    yield ours, real
    ours.close()
    real.close()


@pytest.mark.parametrize("name", COMPARED)
def test_command_info_matches_redis(pair, name):
    """name, arity, flags, first/last/step, ACL categories, tips and key specs, byte for byte;
    the subcommands (each also compared on its own) as a set, Redis listing them in hash order:
    every one implemented here is one of Redis's, with the same description."""
    ours, real = pair
    (real_info,) = elements(real.call("COMMAND", "INFO", name))
    assert real_info not in (b"$-1\r\n", b"_\r\n"), (
        f"redis-server 7.0.15 has no {name!r}: if that is intended, list it in NOT_IN_REDIS_7_0"
    )
    (our_info,) = elements(ours.call("COMMAND", "INFO", name))
    ours_fields, real_fields = elements(our_info), elements(real_info)
    assert ours_fields[:9] == real_fields[:9]
    ours_subs = {sub for sub in elements(ours_fields[9]) if _info_name(sub) not in NOT_IN_REDIS_7_0}
    assert ours_subs <= set(elements(real_fields[9]))


def _info_name(raw_info: bytes) -> str:
    return parse(elements(raw_info)[0]).decode()


def _docs_fields(raw: bytes) -> dict[bytes, bytes]:
    (_, docs) = elements(raw)
    items = elements(docs)
    return dict(zip(items[::2], items[1::2], strict=True))


@pytest.mark.parametrize("name", COMPARED)
def test_command_docs_matches_redis(pair, name):
    """summary, since, group, complexity, the doc flags and what replaces a deprecated
    command, byte for byte."""
    ours, real = pair
    real_docs = _docs_fields(real.call("COMMAND", "DOCS", name))
    our_docs = _docs_fields(ours.call("COMMAND", "DOCS", name))
    fields = (b"summary", b"since", b"group", b"complexity")
    for field in (*fields, b"doc_flags", b"deprecated_since", b"replaced_by"):
        key = b"$%d\r\n%s\r\n" % (len(field), field)
        assert our_docs.get(key) == real_docs.get(key), field


def _variadic(spec: Command) -> bool:
    return spec.arity < 0


def _getkeys_lines(spec: Command) -> list[list[str]]:
    """Command lines of the shortest legal length (and longer, for variadic commands)."""
    words = spec.name.split("|")
    needed = abs(spec.arity) - len(words)
    lengths = [needed, needed + 3] if _variadic(spec) else [needed]
    return [words + [f"k{i}" for i in range(n)] for n in lengths]


KEYED = [
    name for name in COMPARED if find(name).key_specs and "movablekeys" not in find(name).flags
]


@pytest.mark.parametrize("name", KEYED)
def test_getkeys_matches_redis(diff, name):
    """The key positions derived from keys=(first, last, step) are the ones Redis reports."""
    for line in _getkeys_lines(find(name)):
        diff.do("COMMAND", "GETKEYS", *line)


@pytest.mark.parametrize(
    "line",
    [
        ("PFMERGE", "k"),
        ("ZUNIONSTORE", "d", "abc", "a"),
        ("ZUNIONSTORE", "d", "5", "a"),
        ("LMPOP", "5", "a", "LEFT"),
        ("LMPOP", "0", "a", "LEFT"),
        ("GEORADIUS", "k", "0", "0", "1", "m", "STORE", "a", "STOREDIST", "b"),
        ("GEORADIUSBYMEMBER", "k", "m", "1", "km", "STORE"),
    ],
)
def test_getkeys_of_a_line_a_key_spec_cannot_read(diff, line):
    """A key spec that runs past the line (or a count that is no count) leaves the whole line
    without keys: Redis's "Invalid arguments" error; keyword searches find the keys after."""
    diff.do("COMMAND", "GETKEYS", *line)
    diff.do("COMMAND", "GETKEYSANDFLAGS", *line)
