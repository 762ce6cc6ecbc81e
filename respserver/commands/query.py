"""QUERY: respserver's own command (no Redis counterpart), a filter over the selected database's
hashes; the engine (grammar, planner, matching, ordering) is respserver/query/engine.py.

The common query (one ``=`` clause, full content) is served from caches kept in
respserver/query/index.py: the bucket in name order, each hash's encoded reply row and the
whole reply, so a repeated one touches neither the keyspace nor the encoder.
"""

from __future__ import annotations

from respserver.core.pubsub import CHANNELS
from respserver.core.state import Client
from respserver.errors import QWATCH_NO_WHERE, QWATCH_ONLY_FILTERS, CommandError, qwatch_unheard
from respserver.query.engine import Query, matching, ordered, parse_query
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
    spec = _parsed(ctx, args)
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


def _parsed(ctx: Client, args: tuple[bytes, ...]) -> Query:
    """The query ``args`` describe, as ``ctx`` may run it: with the indexes unless
    ``query-indexes no``, and over the keys its user may read."""
    spec = parse_query(args)
    spec.use_indexes = ctx.server.config.query_indexes
    if not ctx.user.reads_every_key:
        spec.readable = ctx.user.may_read
    return spec


@command(
    "qwatch",
    "channel [MATCH pattern] WHERE field op operand [operand ...] [WHERE field op operand"
    " [operand ...] ...]",
    arity=-6,
    flags="readonly pubsub",
    group="pubsub",
    since="0.1.0",
    summary="Publish to a channel each time a hash enters, leaves or changes inside a QUERY's"
    " result set",
    complexity="O(N) to find the hashes in the set now (as QUERY); then each write costs"
    " O(live queries whose clauses name a field it changed, or that hold its key)",
)
def qwatch(ctx: Client, channel: bytes, *args: bytes) -> list[bytes]:
    """A live query (query/live.py) on the selected database: from now on, each write that
    makes a hash enter the set, leave it or change inside it publishes ``enter <key>``,
    ``leave <key>`` or ``change <key>`` to ``channel``, for as long as the channel has a
    subscriber (or until QUNWATCH). A channel's earlier live query is replaced. The reply is
    the keys in the set now, in name order, so that nothing happens unseen in between."""
    spec = _parsed(ctx, args)
    if spec.sort_field or spec.fields is not None or spec.nocontent or spec.count_only:
        raise CommandError(QWATCH_ONLY_FILTERS)
    if spec.offset or spec.count >= 0:
        raise CommandError(QWATCH_ONLY_FILTERS)
    if not spec.conditions:
        raise CommandError(QWATCH_NO_WHERE)
    server = ctx.server
    if not server.pubsub.count(CHANNELS, channel):
        raise qwatch_unheard(channel)
    readable, spec.readable = spec.readable, None  # the set holds every matching hash
    members = sorted(matching(ctx.db, spec, server.indexes)[0])
    server.live.watch(ctx.db, channel, spec, members)
    # Each message goes to the subscribers that may read its key; the reply, to this user.
    return members if readable is None else [key for key in members if readable(key)]


@command(
    "qunwatch",
    "channel",
    arity=2,
    flags="pubsub",
    group="pubsub",
    since="0.1.0",
    summary="End the live query publishing to a channel",
    complexity="O(N) where N is the number of hashes in its result set",
)
def qunwatch(ctx: Client, channel: bytes) -> int:
    """End ``channel``'s live query: 1, or 0 if it had none."""
    return int(ctx.server.live.unwatch(channel))
