"""QUERY: respserver's own command (no Redis counterpart), a filter over the selected database's
hashes. The grammar and every error message are documented in the README's "QUERY" section.

Evaluation is split in two: ``plan`` names the keys worth looking at, from the indexes
(respserver/index.py) or else every key, with the WHERE clauses the indexes did not decide, and
``matching`` checks each candidate for type, MATCH and those clauses, so the planner may return
any superset of the matches without changing the results. A numeric SORTBY reads each match's
weight from the field's ordered index.
QUERY only reads: keys are fetched with ``db.get``, so expired keys never appear.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from respserver.commands.common import to_int
from respserver.errors import NOT_INTEGER, SYNTAX, CommandError, c_string
from respserver.glob import Glob, compile_glob
from respserver.index import FieldIndex, Indexes, NumericIndex, number, sortable
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
    use_indexes: bool = True  # False under ``query-indexes no``: scan, as with no index at all


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
    raise CommandError(f"ERR unknown operator '{c_string(op)}' in WHERE")


# --- evaluation --------------------------------------------------------------------------------


_LOWER = {b">": False, b">=": True}  # lower-bound operators: is the bound included?
_UPPER = {b"<": False, b"<=": True}


@dataclass(slots=True)
class _Range:
    """The ``<`` ``<=`` ``>`` ``>=`` clauses on one field, intersected: positions in its
    ordered index."""

    index: NumericIndex
    start: int
    stop: int
    clauses: list[Condition]

    @property
    def size(self) -> int:
        return max(self.stop - self.start, 0)


def plan(db: Database, query: Query, indexes: Indexes) -> tuple[set | list, tuple[Condition, ...]]:
    """The keys worth looking at (a superset of the matches) and the WHERE clauses the indexes
    did not already decide for them.

    An equality clause (``=``, ``!=``, ``IN``) builds its field's equality index, a range clause
    its ordered index (as does a numeric SORTBY, for the sort). The candidates start from the
    smallest ``=``/``IN`` clause or per-field range, sizes being exact and cheap (bucket
    lengths, differences of bisection positions); every other ``=``/``IN`` clause then narrows
    them by set intersection and every ``!=`` by set difference, in C. Those clauses are
    decided: an index holds exactly the live hashes' values. Other ranges stay to be checked.
    With no ``=``/``IN`` clause and no range, or with ``query-indexes no``, every key is a
    candidate and no clause is decided.
    """
    if not query.use_indexes:
        indexes.db_reset(db)  # unused from now on: give their memory back
        return _every_key(db, query, indexes)
    equal: list[tuple[int, FieldIndex, Iterable[bytes], Condition]] = []
    unequal: list[tuple[FieldIndex, Condition]] = []
    ranges: dict[bytes, _Range] = {}
    for condition in query.conditions:
        op, field = condition.op, condition.field
        if op == b"!=":
            unequal.append((indexes.ensure(db, field), condition))
        elif op in (b"=", b"IN"):
            index = indexes.ensure(db, field)
            values = condition.operand if op == b"IN" else (condition.operand,)
            equal.append((index.size(values), index, values, condition))
        else:
            bounds = ranges.get(field)
            if bounds is None:
                ordered_index = indexes.ensure_numeric(db, field)
                bounds = ranges[field] = _Range(ordered_index, 0, len(ordered_index.entries), [])
            if op in _LOWER:
                bounds.start = max(bounds.start, bounds.index.lower(condition.operand, _LOWER[op]))
            else:
                bounds.stop = min(bounds.stop, bounds.index.upper(condition.operand, _UPPER[op]))
            bounds.clauses.append(condition)
    if query.sort_field is not None and not query.alpha:
        indexes.ensure_numeric(db, query.sort_field)  # for the sort
    narrowest = min(ranges.values(), key=lambda bounds: bounds.size, default=None)
    equal.sort(key=lambda option: option[0])
    decided: list[Condition] = []
    if narrowest is not None and (not equal or narrowest.size < equal[0][0]):
        keys = set(narrowest.index.keys(narrowest.start, narrowest.stop))
        decided += narrowest.clauses
    elif equal:
        _, index, values, condition = equal.pop(0)
        keys = index.keys(values)
        decided.append(condition)
    else:
        return _every_key(db, query, indexes)
    for _, index, values, condition in equal:
        keys = index.restrict(keys, values)
        decided.append(condition)
    for index, condition in unequal:
        keys = index.exclude(keys, condition.operand)
        decided.append(condition)
    indexes.served += 1
    indexes.examined += len(keys)
    return keys, tuple(c for c in query.conditions if c not in decided)


def _every_key(db: Database, query: Query, indexes: Indexes) -> tuple[list, tuple[Condition, ...]]:
    keys = list(db.keys())
    indexes.scanned += 1
    indexes.examined += len(keys)
    return keys, query.conditions


def matching(db: Database, query: Query, indexes: Indexes) -> dict[bytes, dict[bytes, bytes]]:
    """The hashes that satisfy the query's MATCH and WHERE clauses, key -> fields, in no order."""
    glob = query.glob
    keys, conditions = plan(db, query, indexes)
    found = {}
    for key in keys:
        fields = db.get(key)  # None for a key that expired, which also reaps it
        if type(fields) is not dict or (glob is not None and not glob.match(key)):
            continue
        if not conditions or all(condition.holds(fields) for condition in conditions):
            found[key] = fields
    return found


def _weight(
    query: Query, matches: dict[bytes, dict[bytes, bytes]], index: NumericIndex | None
) -> Callable[[bytes], bytes]:
    """SORTBY's weight of a matching key: for ALPHA the value's bytes, else its number as
    ``sortable`` bytes, read from the field's ordered index when there is one (no parsing);
    a missing field weighs 0, as SORT's missing weight does."""
    field = query.sort_field
    if query.alpha:
        return lambda key: matches[key].get(field, b"")
    zero = sortable(0.0)
    if index is None:
        numbers = {key: number(fields.get(field, b"0")) for key, fields in matches.items()}
        if None in numbers.values():
            raise CommandError(BAD_SCORE)
        return lambda key: sortable(numbers[key])
    if not index.non_numeric.isdisjoint(matches):
        raise CommandError(BAD_SCORE)
    by_key = index.by_key
    return lambda key: by_key[key][:8] if key in by_key else zero


def ordered(db: Database, query: Query, indexes: Indexes) -> list[tuple[bytes, dict]]:
    """The matches by key name, or by SORTBY with ties by key name (ascending either way),
    paged by LIMIT."""
    matches = matching(db, query, indexes)
    keys = sorted(matches)
    if query.sort_field is not None:
        index = indexes.get_numeric(db, query.sort_field)
        # Stable, and reverse=True keeps equal items in their order: ties stay by key name.
        keys.sort(key=_weight(query, matches, index), reverse=query.descending)
    end = None if query.count < 0 else query.offset + query.count
    wanted = query.fields
    if wanted is None:
        return [(key, matches[key]) for key in keys[query.offset : end]]
    return [
        (key, {f: matches[key][f] for f in wanted if f in matches[key]})
        for key in keys[query.offset : end]
    ]


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
    spec.use_indexes = ctx.server.config["query-indexes"] == "yes"
    indexes = ctx.server.indexes
    if spec.count_only:
        return len(matching(ctx.db, spec, indexes))
    results = ordered(ctx.db, spec, indexes)
    if spec.nocontent:
        return [key for key, _ in results]
    if ctx.resp >= 3:
        return dict(results)
    return [[key, fields] for key, fields in results]  # a hash is a flat array in RESP2
