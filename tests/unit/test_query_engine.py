"""QUERY's grammar on its own (``parse_query`` in respserver/query/engine.py), no server: a
query's parsed form, and errors raised with the README's exact wording before anything is
evaluated. (QUERY on respserver: tests/e2e/test_query.py; against the data in a real
redis-server: tests/differential/test_query.py.)"""

from __future__ import annotations

import pytest

from respserver.errors import CommandError
from respserver.query.engine import Condition, parse_query


def test_a_query_parses_into_its_clauses():
    query = parse_query(
        (b"match", b"t:*", b"WHERE", b"status", b"in", b"2", b"open", b"review")
        + (b"WHERE", b"n", b">=", b"1e1", b"SORTBY", b"owner", b"ASC")
        + (b"SORTBY", b"n", b"desc", b"ALPHA", b"LIMIT", b"-3", b"2")
        + (b"RETURN", b"3", b"owner", b"n", b"owner")
    )
    assert query.glob is not None and query.glob.pattern == b"t:*"
    assert query.conditions == (  # WHEREs accumulate, ANDed
        Condition(b"status", b"IN", frozenset({b"open", b"review"})),
        Condition(b"n", b">=", 10.0),
    )
    assert (query.sort_field, query.descending, query.alpha) == (b"n", True, True)  # last wins
    assert (query.offset, query.count) == (0, 2)  # as SORT: a negative offset is 0
    assert query.fields == (b"owner", b"n")  # in the listed order, each once
    assert not query.nocontent and not query.count_only


def test_no_clauses_is_every_hash_in_key_order():
    query = parse_query(())
    assert (query.glob, query.conditions, query.sort_field) == (None, (), None)
    assert (query.offset, query.count, query.fields) == (0, -1, None)
    assert parse_query((b"MATCH", b"*", b"COUNT")).glob is None  # "*": every key name
    assert parse_query((b"MATCH", b"*", b"COUNT")).count_only


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((b"NOCONTENT", b"COUNT"), "ERR syntax error"),
        ((b"WHERE", b"n", b"IN", b"3", b"a", b"b"), "ERR syntax error"),  # fewer than announced
        ((b"WHERE", b"n", b"=>", b"1"), "ERR unknown operator '=>' in WHERE"),
        ((b"WHERE", b"n", b"<", b"nan"), "ERR WHERE operand of '<' is not a valid float"),
    ],
    ids=["nocontent-with-count", "fewer-in-values", "unknown-operator", "operand-not-a-float"],
)
def test_grammar_errors_have_redis_style_messages(args, message):
    with pytest.raises(CommandError) as caught:
        parse_query(args)
    assert caught.value.message == message


def test_errors_are_raised_before_any_evaluation():
    with pytest.raises(CommandError, match="unknown operator"):
        parse_query((b"WHERE", b"n", b"~", b"1", b"FOO"))
    with pytest.raises(CommandError, match="syntax error"):
        parse_query((b"FOO", b"WHERE", b"n", b"~", b"1"))
