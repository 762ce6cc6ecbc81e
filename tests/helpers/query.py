"""QUERY checked by brute force: hypothesis datasets and queries (the full grammar), a query
rendered as QUERY's arguments, and the reply a brute-force evaluation over SCAN + HGETALL says
it must have, for respserver's own state or a real redis-server holding the same data."""

from __future__ import annotations

import operator
from fnmatch import fnmatchcase

import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

BAD_SCORE = "One or more scores can't be converted into double"


def client(port: int, protocol: int) -> redis.Redis:
    """A client of the server on ``port``, speaking ``protocol``, its data flushed."""
    r = redis.Redis(port=port, protocol=protocol)
    r.flushall()
    return r


VALUES = {
    "status": ["open", "closed", "review", ""],
    "workflow": ["a", "b", "c1", "c2"],
    "n": ["0", "1", "2", "10", "-3", "2.5", "1e1", "inf", "x", ""],
}
FIELDS = [*VALUES, "nosuch"]
OPERANDS = sorted({v for vs in VALUES.values() for v in vs} | {"zzz"})
NUMBERS = ["-5", "0", "1", "2", "2.5", "9.99", "10", "inf", "-inf", "1e1"]
COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}

hashes = st.tuples(st.permutations(list(VALUES)), st.integers(1, len(VALUES))).flatmap(
    lambda shape: st.fixed_dictionaries(
        {f: st.sampled_from(VALUES[f]) for f in shape[0][: shape[1]]}
    )
)
datasets = st.dictionaries(
    st.sampled_from([f"h:{i}" for i in range(10)] + ["g:1", "g:22"]), hashes, max_size=10
)
conditions = st.one_of(
    st.tuples(st.sampled_from(FIELDS), st.sampled_from(["=", "!="]), st.sampled_from(OPERANDS)),
    st.tuples(st.sampled_from(FIELDS), st.sampled_from(list(COMPARE)), st.sampled_from(NUMBERS)),
    st.tuples(
        st.sampled_from(FIELDS),
        st.just("IN"),
        st.lists(st.sampled_from(OPERANDS), min_size=1, max_size=3),
    ),
)
queries = st.fixed_dictionaries(
    {
        "match": st.sampled_from([None, "*", "h:*", "g:?", "h:[0-4]"]),
        "where": st.lists(conditions, max_size=3),
        "sortby": st.none() | st.tuples(st.sampled_from(FIELDS), st.booleans(), st.booleans()),
        "limit": st.none() | st.tuples(st.integers(-2, 5), st.integers(-2, 5)),
        "returns": st.none() | st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3),
        "mode": st.sampled_from([None, "NOCONTENT", "COUNT"]),
    }
)


def render(q: dict) -> list[str]:
    args = ["MATCH", q["match"]] if q["match"] else []
    for field, op, operand in q["where"]:
        args += ["WHERE", field, op]
        args += [str(len(operand)), *operand] if op == "IN" else [operand]
    if q["sortby"]:
        field, desc, alpha = q["sortby"]
        args += ["SORTBY", field] + (["DESC"] if desc else []) + (["ALPHA"] if alpha else [])
    if q["limit"]:
        args += ["LIMIT", *map(str, q["limit"])]
    if q["returns"]:
        args += ["RETURN", str(len(q["returns"])), *q["returns"]]
    return args + ([q["mode"]] if q["mode"] else [])


def as_number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def holds(fields: dict[str, str], field: str, op: str, operand) -> bool:
    value = fields.get(field)
    if value is None:
        return op == "!="
    if op in ("=", "!="):
        return (value == operand) == (op == "=")
    if op == "IN":
        return value in operand
    number = as_number(value)
    return number is not None and COMPARE[op](number, float(operand))


def brute(data: dict[str, dict[str, str]], q: dict) -> object:
    """The expected RESP2 reply (as redis-py parses it), or the expected error text."""
    hits = [
        (key, fields)
        for key, fields in sorted(data.items(), key=lambda item: item[0].encode())
        if (not q["match"] or fnmatchcase(key, q["match"]))
        and all(holds(fields, *condition) for condition in q["where"])
    ]
    if q["mode"] == "COUNT":
        return len(hits)
    if q["sortby"]:
        field, desc, alpha = q["sortby"]
        if alpha:
            weights = [fields.get(field, "").encode() for _, fields in hits]
        else:
            weights = [as_number(fields.get(field, "0")) for _, fields in hits]
            if None in weights:
                return BAD_SCORE
        order = sorted(range(len(hits)), key=weights.__getitem__, reverse=desc)
        hits = [hits[i] for i in order]
    if q["limit"]:
        offset, count = q["limit"]
        hits = hits[max(offset, 0) :][: None if count < 0 else count]
    if q["mode"] == "NOCONTENT":
        return [key.encode() for key, _ in hits]
    wanted = list(dict.fromkeys(q["returns"])) if q["returns"] else None
    return [[key.encode(), flat(fields, wanted)] for key, fields in hits]


def flat(fields: dict[str, str], wanted: list[str] | None) -> list[bytes]:
    """HGETALL-style field, value, ... of the hash, or of the wanted fields it has."""
    names = fields if wanted is None else [f for f in wanted if f in fields]
    return [x.encode() for f in names for x in (f, fields[f])]


def write(r: redis.Redis, data: dict) -> None:
    pipe = r.pipeline(transaction=False)
    pipe.flushall()
    for key, fields in data.items():
        pipe.hset(key, mapping=fields)
    pipe.set("g:s", "strings are skipped")
    pipe.execute()


def state(r: redis.Redis) -> dict[str, dict[str, str]]:
    """Every hash in the database, read with SCAN + HGETALL (fields in the hash's order)."""
    found = {}
    for key in r.scan_iter(count=100):
        if r.type(key) == b"hash":
            found[key.decode()] = {
                f.decode(): v.decode() for f, v in r.execute_command("HGETALL", key).items()
            }
    return found


def actual(r: redis.Redis, q: dict) -> object:
    try:
        return r.execute_command("QUERY", *render(q))
    except redis.ResponseError as e:
        return str(e)


PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
