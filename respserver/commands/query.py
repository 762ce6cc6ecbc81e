"""QUERY: respserver's own command (no Redis counterpart), a filter over the selected database's
hashes; the engine (grammar, planner, matching, ordering) is respserver/query/engine.py.

The common query (one ``=`` clause, full content) is served from caches kept in
respserver/query/index.py: the bucket in name order, each hash's encoded reply row and the
whole reply, so a repeated one touches neither the keyspace nor the encoder.
"""

from __future__ import annotations

from respserver.core.state import Client
from respserver.query.engine import matching, ordered, parse_query
from respserver.registry import command


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
    spec.use_indexes = ctx.server.config.query_indexes
    if not ctx.user.reads_every_key:
        spec.readable = ctx.user.may_read
    indexes, db = ctx.server.indexes, ctx.db
    if spec.count_only:
        return len(matching(db, spec, indexes)[0])
    keys = ordered(db, spec, indexes)
    resp3 = ctx.resp >= 3
    if spec.nocontent:
        return keys
    if spec.fields is None and spec.use_indexes:
        return indexes.rows(db).reply(db, keys, resp3)
    data, wanted = db.data, spec.fields
    if wanted is None:
        results = [(key, data[key]) for key in keys]
    else:
        results = [(key, {f: data[key][f] for f in wanted if f in data[key]}) for key in keys]
    if resp3:
        return dict(results)
    return [[key, fields] for key, fields in results]  # a hash is a flat array in RESP2
