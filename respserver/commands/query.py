"""QUERY: respserver's own command (no Redis counterpart), a filter over the selected database's
hashes. The grammar and every error message are documented in the README's "QUERY" section.

Evaluation is split in two: ``candidates`` (the planner) names the keys worth looking at,
from the most selective ``=``/``IN`` clause or range (the ``<`` ``<=`` ``>`` ``>=`` clauses on one
field, intersected) on an indexed field (respserver/index.py) or else every key, and
``matching`` checks each candidate for type, MATCH and every WHERE clause, so the planner may
return any superset of the matches without changing the results.
QUERY only reads: keys are fetched with ``db.get``, so expired keys never appear.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial

from respserver.commands.common import to_int
from respserver.errors import NOT_INTEGER, SYNTAX, CommandError
from respserver.glob import Glob, compile_glob
from respserver.index import Indexes, number
from respserver.keyspace import Database
from respserver.registry import command
from respserver.state import Client

BAD_SCORE = "ERR One or more scores can't be converted into double"  # SORT's wording

_NUMERIC: dict[bytes, Callable[[float, float], bool]] = {
    b"<": operator.lt,
    b"<=": operator.le,
    b">": operator.gt,
    b">=": operator.ge,
}
_EQUALITY = (b"=", b"!=")


def _shown(text: bytes) -> str:
    """User input echoed in an error: bounded and kept to one line, as Redis does."""
    return text.decode("utf-8", "replace")[:128].replace("\r", " ").replace("\n", " ")


@dataclass(frozen=True, slots=True)
class Condition:
    """One WHERE clause: ``field op operand``, with ``IN`` holding a set of values."""

    field: bytes
    op: bytes
    operand: bytes | float | frozenset[bytes]

    def holds(self, fields: dict[bytes, bytes]) -> bool:
        value = fields.get(self.field)
        if value is None:
            return self.op == b"!="
        if self.op == b"=":
            return value == self.operand
        if self.op == b"!=":
            return value != self.operand
        if self.op == b"IN":
            return value in self.operand
        parsed = number(value)
        return parsed is not None and _NUMERIC[self.op](parsed, self.operand)


@dataclass(slots=True)
class Query:
    glob: Glob | None = None  # None: every key name
    conditions: tuple[Condition, ...] = ()
    sort_field: bytes | None = None
    descending: bool = False
    alpha: bool = False
    offset: int = 0
    count: int = -1  # negative: all remaining
    fields: tuple[bytes, ...] | None = None  # RETURN's projection
    nocontent: bool = False
    count_only: bool = False


class _Args:
    """The arguments, consumed left to right; running out is a syntax error."""

    def __init__(self, args: tuple[bytes, ...]) -> None:
        self.args, self.pos = args, 0

    def __bool__(self) -> bool:
        return self.pos < len(self.args)

    def peek_keyword(self) -> bytes:
        return self.args[self.pos].upper() if self else b""

    def take(self, n: int = 1) -> tuple[bytes, ...]:
        if self.pos + n > len(self.args):
            raise CommandError(SYNTAX)
        taken = self.args[self.pos : self.pos + n]
        self.pos += n
        return taken

    def one(self) -> bytes:
        return self.take()[0]

    def positive(self) -> int:
        """A count of the values that follow (IN, RETURN): an integer of at least 1."""
        n = to_int(self.one())
        if n < 1:
            raise CommandError(NOT_INTEGER)
        return n


def parse_query(args: tuple[bytes, ...]) -> Query:
    """The query the arguments describe; grammar violations raise Redis-style errors."""
    query, rest = Query(), _Args(args)
    conditions: list[Condition] = []
    while rest:
        keyword = rest.one().upper()
        if keyword == b"MATCH":
            pattern = rest.one()
            query.glob = None if pattern == b"*" else compile_glob(pattern)  # as SCAN and KEYS
        elif keyword == b"WHERE":
            conditions.append(_parse_condition(rest))
        elif keyword == b"SORTBY":
            query.sort_field, query.descending, query.alpha = rest.one(), False, False
            while rest.peek_keyword() in (b"ASC", b"DESC", b"ALPHA"):
                modifier = rest.one().upper()
                if modifier == b"ALPHA":
                    query.alpha = True
                else:
                    query.descending = modifier == b"DESC"
        elif keyword == b"LIMIT":
            offset, count = rest.take(2)
            query.offset, query.count = max(to_int(offset), 0), to_int(count)
        elif keyword == b"RETURN":
            n = rest.positive()
            query.fields = tuple(dict.fromkeys(rest.take(n)))
        elif keyword == b"NOCONTENT":
            query.nocontent = True
        elif keyword == b"COUNT":
            query.count_only = True
        else:
            raise CommandError(SYNTAX)
    if query.nocontent and query.count_only:
        raise CommandError(SYNTAX)
    query.conditions = tuple(conditions)
    return query


def _parse_condition(rest: _Args) -> Condition:
    field, op = rest.take(2)
    if op.upper() == b"IN":
        return Condition(field, b"IN", frozenset(rest.take(rest.positive())))
    if op in _EQUALITY:
        return Condition(field, op, rest.one())
    if op in _NUMERIC:
        operand = number(rest.one())
        if operand is None:
            raise CommandError(f"ERR WHERE operand of '{op.decode()}' is not a valid float")
        return Condition(field, op, operand)
    raise CommandError(f"ERR unknown operator '{_shown(op)}' in WHERE")


# --- evaluation --------------------------------------------------------------------------------


_INDEXED = (b"=", b"!=", b"IN")  # operators served by a field's equality index
_LOWER = {b">": False, b">=": True}  # lower-bound operators: is the bound included?
_UPPER = {b"<": False, b"<=": True}


def candidates(db: Database, query: Query, indexes: Indexes) -> Iterable[bytes]:
    """Keys that may match: a superset of the answer. An equality clause (``=``, ``!=``, ``IN``)
    builds its field's equality index, a range clause its ordered index (as does a numeric
    SORTBY, for later use); the ``=``/``IN`` clause or per-field range with the fewest keys picks
    the candidates (``!=`` also matches keys without the field, so it cannot narrow), else every
    key. Sizes are exact and cheap: bucket lengths, differences of bisection positions."""
    options: list[tuple[int, Callable[[], list[bytes]]]] = []
    ranges: dict[bytes, tuple[int, int]] = {}  # field -> positions in its ordered index
    for condition in query.conditions:
        op, field = condition.op, condition.field
        if op in _INDEXED:
            index = indexes.ensure(db, field)
            if op != b"!=":
                values = condition.operand if op == b"IN" else (condition.operand,)
                options.append((index.size(values), partial(index.keys, values)))
            continue
        ordered_index = indexes.ensure_numeric(db, field)
        start, stop = ranges.get(field, (0, len(ordered_index.pairs)))
        if op in _LOWER:
            start = max(start, ordered_index.lower(condition.operand, _LOWER[op]))
        else:
            stop = min(stop, ordered_index.upper(condition.operand, _UPPER[op]))
        ranges[field] = (start, stop)
    for field, (start, stop) in ranges.items():
        ordered_index = indexes.get_numeric(db, field)
        options.append((max(stop - start, 0), partial(ordered_index.keys, start, stop)))
    if query.sort_field is not None and not query.alpha:
        indexes.ensure_numeric(db, query.sort_field)
    if options:
        indexes.served += 1
        # A snapshot: evaluation may reap expired keys and so change the index.
        keys = min(options, key=lambda option: option[0])[1]()
    else:
        indexes.scanned += 1
        keys = list(db.keys())
    indexes.examined += len(keys)
    return keys


def matching(
    db: Database, query: Query, indexes: Indexes
) -> Iterator[tuple[bytes, dict[bytes, bytes]]]:
    """The (key, hash) pairs that satisfy the query's MATCH and WHERE clauses, in no order."""
    glob, conditions = query.glob, query.conditions
    for key in candidates(db, query, indexes):
        fields = db.get(key)
        if type(fields) is not dict or (glob is not None and not glob.match(key)):
            continue
        if all(condition.holds(fields) for condition in conditions):
            yield key, fields


def _sort_key(query: Query) -> Callable[[tuple[bytes, dict[bytes, bytes]]], bytes | float]:
    """The SORTBY weight of a match; a missing field weighs as SORT's missing weight does."""
    field = query.sort_field
    if query.alpha:
        return lambda item: item[1].get(field, b"")

    def score(item: tuple[bytes, dict[bytes, bytes]]) -> float:
        value = item[1].get(field)
        if value is None:
            return 0.0
        parsed = number(value)
        if parsed is None:
            raise CommandError(BAD_SCORE)
        return parsed

    return score


def ordered(db: Database, query: Query, indexes: Indexes) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """The matches by key name, or by SORTBY with ties by key name (ascending either way),
    paged by LIMIT."""
    results = sorted(matching(db, query, indexes), key=lambda item: item[0])
    if query.sort_field is not None:
        # Stable, and reverse=True keeps equal items in their order: ties stay by key name.
        results.sort(key=_sort_key(query), reverse=query.descending)
    end = None if query.count < 0 else query.offset + query.count
    return results[query.offset : end]


def _projected(fields: dict[bytes, bytes], wanted: tuple[bytes, ...] | None) -> dict:
    # Always a copy: inside EXEC the reply is encoded after later commands may change the hash.
    if wanted is None:
        return dict(fields)
    return {f: fields[f] for f in wanted if f in fields}


@command(
    "query",
    "[MATCH pattern] [WHERE field op operand [operand ...] [WHERE field op operand [operand ...]"
    " ...]] [SORTBY field [ASC | DESC] [ALPHA]] [LIMIT offset count]"
    " [RETURN count field [field ...]] [NOCONTENT | COUNT]",
    arity=-1,
    flags="readonly",
    group="hash",
    since="0.1.0",
    summary="Find the hashes whose fields satisfy conditions, sorted and paged",
    complexity="O(N) where N is the number of keys examined: those of the most selective"
    " indexed = or IN clause or numeric range, else every key in the database",
)
def query(ctx: Client, *args: bytes) -> object:
    """The matching hashes (key -> fields), their keys (NOCONTENT) or their number (COUNT)."""
    spec = parse_query(args)
    if spec.count_only:
        return sum(1 for _ in matching(ctx.db, spec, ctx.server.indexes))
    results = ordered(ctx.db, spec, ctx.server.indexes)
    if spec.nocontent:
        return [key for key, _ in results]
    if ctx.resp >= 3:
        return {key: _projected(fields, spec.fields) for key, fields in results}
    return [
        [key, [x for pair in _projected(fields, spec.fields).items() for x in pair]]
        for key, fields in results
    ]
