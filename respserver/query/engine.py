"""QUERY's engine: the grammar (``parse_query``), the planner (``plan``: which keys are worth
looking at, from the indexes or else every key, with the WHERE clauses the indexes did not
decide), ``matching`` (each candidate checked for type, MATCH and those clauses, so the planner
may return any superset of the matches without changing the results) and ``ordered`` (SORTBY
and LIMIT; a numeric SORTBY reads each match's weight from the field's ordered index). The
command itself is respserver/commands/query.py; the grammar and every error message are
documented in the README's "QUERY" section.

QUERY only reads, and expired keys never appear: candidates are fetched with ``db.get``, or,
when the indexes decided every clause and none of them has a TTL, taken as they are.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from respserver.errors import (
    BAD_SCORE,
    NOT_INTEGER,
    SYNTAX,
    CommandError,
    c_string,
    unknown_where_operator,
    where_operand_not_float,
)
from respserver.keyspace.database import Database
from respserver.keyspace.glob import Glob, compile_glob
from respserver.numbers import to_int
from respserver.query.index import FieldIndex, Indexes, NumericIndex, number, sortable

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
    # The keys the caller's ACL user may read, when not all: QUERY shows only those.
    readable: Callable[[bytes], bool] | None = None


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
            raise where_operand_not_float(op.decode())
        return Condition(field, op, operand)
    raise unknown_where_operator(c_string(op))


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


@dataclass(slots=True)
class Candidates:
    """What ``plan`` hands evaluation: keys that include every match (possibly shared with an
    index: never modify them), the WHERE clauses still to check, whether the keys came from an
    index (so each is a hash, live unless its time ran out) and whether they are in name
    order."""

    keys: Collection[bytes]
    undecided: tuple[Condition, ...]
    indexed: bool = True
    by_name: bool = False


def plan(db: Database, query: Query, indexes: Indexes) -> Candidates:
    """The keys worth looking at (a superset of the matches) and the WHERE clauses the indexes
    did not already decide for them.

    An equality clause (``=``, ``!=``, ``IN``) builds its field's equality index, a range clause
    its ordered index (as does a numeric SORTBY, for the sort). The candidates start from the
    smallest ``=``/``IN`` clause or per-field range, sizes being exact and cheap (bucket
    lengths, differences of bisection positions); every other ``=``/``IN`` clause then narrows
    them by set intersection and every ``!=`` by set difference, in C. Those clauses are
    decided: an index holds exactly the live hashes' values. Other ranges stay to be checked.
    A lone one-value clause hands over its bucket in name order, sorted once and kept.
    With no ``=``/``IN`` clause and no range, or with ``query-indexes no``, every key is a
    candidate and no clause is decided.
    """
    if not query.use_indexes:
        indexes.db_reset(db)  # unused from now on: give their memory back
        return _every_key(db, query, indexes)
    equal: list[tuple[int, FieldIndex, Collection[bytes], Condition]] = []
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
    by_name = False
    if narrowest is not None and (not equal or narrowest.size < equal[0][0]):
        keys = set(narrowest.index.keys(narrowest.start, narrowest.stop))
        decided += narrowest.clauses
    elif equal:
        _, index, values, condition = equal.pop(0)
        by_name = not equal and not unequal and len(values) == 1
        keys = index.sorted_keys(next(iter(values))) if by_name else index.keys(values)
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
    undecided = tuple(c for c in query.conditions if c not in decided)
    return Candidates(keys, undecided, by_name=by_name)


def _every_key(db: Database, query: Query, indexes: Indexes) -> Candidates:
    keys = list(db.keys())
    indexes.scanned += 1
    indexes.examined += len(keys)
    return Candidates(keys, query.conditions, indexed=False)


def matching(db: Database, query: Query, indexes: Indexes) -> tuple[Collection[bytes], bool]:
    """The keys of the hashes that satisfy the query's MATCH and WHERE clauses, and whether
    they are in name order (else in no order). May be shared with an index: never modify."""
    found = plan(db, query, indexes)
    glob, readable, conditions = query.glob, query.readable, found.undecided
    if found.indexed and glob is None and readable is None and not conditions:
        return _live(db, found.keys), found.by_name
    kept = []
    for key in found.keys:
        fields = db.get(key)  # None for a key that expired, which also reaps it
        if type(fields) is not dict or (glob is not None and not glob.match(key)):
            continue
        if readable is not None and not readable(key):
            continue
        if not conditions or all(condition.holds(fields) for condition in conditions):
            kept.append(key)
    return kept, found.by_name


def _live(db: Database, keys: Collection[bytes]) -> Collection[bytes]:
    """``keys`` (hashes, from an index) less those whose time ran out, which are reaped on the
    way; in their order. Without a TTL among them, no key is looked up."""
    if db.stamps_access:  # under an LRU/LFU policy a read is a lookup, which stamps the key
        return [key for key in keys if db.get(key) is not None]
    expires = db.expires
    if not expires or expires.keys().isdisjoint(keys):
        return keys
    return [key for key in keys if key not in expires or db.get(key) is not None]


def _weight(
    db: Database, query: Query, keys: Collection[bytes], index: NumericIndex | None
) -> Callable[[bytes], bytes]:
    """SORTBY's weight of a matching key: for ALPHA the value's bytes, else its number as
    ``sortable`` bytes, read from the field's ordered index when there is one (no parsing);
    a missing field weighs 0, as SORT's missing weight does."""
    field, data = query.sort_field, db.data
    if query.alpha:
        return lambda key: data[key].get(field, b"")
    zero = sortable(0.0)
    if index is None:
        numbers = {key: number(data[key].get(field, b"0")) for key in keys}
        if None in numbers.values():
            raise CommandError(BAD_SCORE)
        return lambda key: sortable(numbers[key])
    if not index.non_numeric.isdisjoint(keys):
        raise CommandError(BAD_SCORE)
    by_key = index.by_key
    return lambda key: by_key[key][:8] if key in by_key else zero


def ordered(db: Database, query: Query, indexes: Indexes) -> Sequence[bytes]:
    """The matching keys by name, or by SORTBY with ties by name (ascending either way), paged
    by LIMIT: a new list, or as ``matching`` found them if they need neither (so an index's
    bucket, a tuple, reaches ``Rows.reply`` as itself)."""
    keys, by_name = matching(db, query, indexes)
    whole = not query.offset and query.count < 0
    if by_name and whole and query.sort_field is None:
        return keys
    keys = list(keys) if by_name else sorted(keys)
    if query.sort_field is not None:
        index = indexes.get_numeric(db, query.sort_field)
        # Stable, and reverse=True keeps equal items in their order: ties stay by key name.
        keys.sort(key=_weight(db, query, keys, index), reverse=query.descending)
    if whole:
        return keys
    return keys[query.offset : None if query.count < 0 else query.offset + query.count]
