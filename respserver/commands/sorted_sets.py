"""Sorted-set commands. https://redis.io/docs/latest/commands/?group=sorted-set

Handlers reach a sorted set through ``ctx.db.get_zset``/``zset_for_write`` and change it through
``ZSetValue``'s methods (keyspace/zsets.py), then tell the database: ``store`` for a new one,
``modified`` for one changed in place, ``delete`` for one left empty, each counting what Redis
adds to its dirty count (one per member added, updated or removed), and name the change's
keyspace event (zadd, zincr, zrem, zpopmin...; "del" after it when the key went), as t_zset.c
does. ZRANGE's many forms (by rank, score or lex, reversed, limited, stored), the counts and the
range removals are in sorted_sets_ranges.py; the combining commands (ZUNION, ZINTER, ZDIFF...)
and ZRANDMEMBER in sorted_sets_combine.py.

Scores reply as Redis 7.0's addReplyDouble: a float here, which the encoder writes as a bulk
string with %.17g in RESP2 and as a double in RESP3; WITHSCORES pairs are nested in RESP3.
"""

from __future__ import annotations

from respserver.commands.arguments import mpop_arguments
from respserver.commands.hashes_scan import scan_pairs
from respserver.core.blocking import take_or_wait
from respserver.core.state import Client
from respserver.errors import (
    GT_LT_AND_NX,
    INCR_ONE_PAIR,
    MUST_BE_POSITIVE,
    SCORE_NAN,
    SYNTAX,
    XX_AND_NX,
    CommandError,
)
from respserver.keyspace.events import GENERIC, ZSET
from respserver.keyspace.scan import parse_cursor
from respserver.keyspace.zsets import (
    Item,
    Limits,
    ZSetValue,
    score_text,
)
from respserver.numbers import to_double, to_int_at_least
from respserver.registry import command
from respserver.resp.types import NULL_ARRAY


def scored(ctx: Client, items: list[Item], withscores: bool) -> list[object]:
    """Members, or with scores: flat pairs in RESP2, [member, score] arrays in RESP3."""
    if not withscores:
        return [member for member, _ in items]
    if ctx.resp > 2:
        return [[member, score] for member, score in items]
    return [x for item in items for x in item]


def limits(ctx: Client) -> Limits:
    """The sizes up to which Redis keeps a sorted set as a listpack (parsed once per setting:
    every ZADD asks)."""
    config = ctx.server.config
    raw = (config["zset-max-listpack-entries"], config["zset-max-listpack-value"])
    found = _LIMITS.get(raw)
    if found is None:
        found = Limits(config.zset_max_listpack_entries, config.zset_max_listpack_value)
        if len(_LIMITS) < 64:
            _LIMITS[raw] = found
    return found


_LIMITS: dict[tuple[str, str], Limits] = {}


def changed(ctx: Client, key: bytes, zset: ZSetValue, removed: int, event: bytes) -> None:
    """After ``zset`` (stored at ``key``) lost ``removed`` members: delete the key if empty.
    The change is ``event``, then "del" if the key went; losing nothing is no event."""
    if not removed:
        return
    db = ctx.db
    if zset:
        db.modified(key, removed)
        db.notify(ZSET, event, key)
    else:
        db.delete(key, removed)
        db.notify(ZSET, event, key)
        db.notify(GENERIC, b"del", key)


# --- ZADD, ZINCRBY, ZREM ------------------------------------------------------------------------

_ZADD_FLAGS = (b"nx", b"xx", b"ch", b"incr", b"gt", b"lt")


def _zadd(ctx: Client, key: bytes, args: tuple[bytes, ...], incr: bool) -> object:
    """ZADD's body (ZINCRBY is ZADD INCR): options, then the checks in Redis's order, every
    score parsed before anything changes."""
    flags = {b"incr"} if incr else set()
    at = 0
    while at < len(args) and args[at].lower() in _ZADD_FLAGS:
        flags.add(args[at].lower())
        at += 1
    pairs = args[at:]
    if not pairs or len(pairs) % 2:
        raise CommandError(SYNTAX)
    nx, xx, gt, lt = (flag in flags for flag in (b"nx", b"xx", b"gt", b"lt"))
    incr = b"incr" in flags
    if nx and xx:
        raise CommandError(XX_AND_NX)
    if (nx and (gt or lt)) or (gt and lt):
        raise CommandError(GT_LT_AND_NX)
    if incr and len(pairs) > 2:
        raise CommandError(INCR_ONE_PAIR)
    scores = [to_double(pairs[i]) for i in range(0, len(pairs), 2)]
    zset = ctx.db.get_zset(key)
    created = zset is None
    if zset is None:
        if xx:
            return None if incr else 0
        zset = ZSetValue()
    added = updated = processed = 0
    result = 0.0
    sizes = limits(ctx)
    for score, member in zip(scores, pairs[1::2], strict=True):
        current = zset.score(member)
        if current is None:
            if xx:
                continue
            zset.set(member, score, sizes)
            added += 1
        else:
            if nx:
                continue
            if incr:
                score += current
                if score != score:
                    raise CommandError(SCORE_NAN)
            if (lt and score >= current) or (gt and score <= current):
                continue
            if score != current:
                zset.set(member, score, sizes)
                updated += 1
        processed += 1
        result = score
    if created and zset:
        ctx.db.store(key, zset, keep_ttl=True, dirty=added + updated)
    elif added or updated:
        ctx.db.modified(key, added + updated)
    if added or updated:
        ctx.db.notify(ZSET, b"zincr" if incr else b"zadd", key)
    if incr:
        return result if processed else None
    return added + updated if b"ch" in flags else added


@command(
    "zadd",
    "key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]",
    arity=-4,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW update",
    group="sorted-set",
    since="1.2.0",
    summary="Add one or more members to a sorted set, or update its score if it already exists",
    complexity="O(log(N)) for each item added, where N is the number of elements in the sorted "
    "set.",
    history=(
        ("2.4.0", "Accepts multiple elements."),
        ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
        ("6.2.0", "Added the `GT` and `LT` options."),
    ),
)
def zadd(ctx: Client, key: bytes, *args: bytes) -> object:
    """Add members or update their scores: how many were added (CH: or changed); with INCR
    the member's new score, or nil when an option prevented it."""
    return _zadd(ctx, key, args, incr=False)


@command(
    "zincrby",
    "key increment member",
    arity=4,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW access update",
    group="sorted-set",
    since="1.2.0",
    summary="Increment the score of a member in a sorted set",
    complexity="O(log(N)) where N is the number of elements in the sorted set.",
)
def zincrby(ctx: Client, key: bytes, increment: bytes, member: bytes) -> object:
    """Add ``increment`` to the member's score (0 if new); the new score."""
    return _zadd(ctx, key, (increment, member), incr=True)


@command(
    "zrem",
    "key member [member ...]",
    arity=-3,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW delete",
    group="sorted-set",
    since="1.2.0",
    summary="Remove one or more members from a sorted set",
    complexity="O(M*log(N)) with N being the number of elements in the sorted set and M the "
    "number of elements to be removed.",
    history=(("2.4.0", "Accepts multiple elements."),),
)
def zrem(ctx: Client, key: bytes, *members: bytes) -> int:
    """Remove members: how many were there."""
    zset = ctx.db.get_zset(key)
    if zset is None:
        return 0
    removed = 0
    for member in members:
        removed += zset.remove(member)
        if not zset:
            break
    changed(ctx, key, zset, removed, b"zrem")
    return removed


# --- single members and counts ----------------------------------------------------------------


@command(
    "zscore",
    "key member",
    arity=3,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="sorted-set",
    since="1.2.0",
    summary="Get the score associated with the given member in a sorted set",
    complexity="O(1)",
)
def zscore(ctx: Client, key: bytes, member: bytes) -> float | None:
    """The member's score, or nil."""
    zset = ctx.db.get_zset(key)
    return None if zset is None else zset.score(member)


@command(
    "zmscore",
    "key member [member ...]",
    arity=-3,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="sorted-set",
    since="6.2.0",
    summary="Get the score associated with the given members in a sorted set",
    complexity="O(N) where N is the number of members being requested.",
)
def zmscore(ctx: Client, key: bytes, *members: bytes) -> list[float | None]:
    """Each member's score, or nil."""
    zset = ctx.db.get_zset(key)
    if zset is None:
        return [None] * len(members)
    return [zset.score(member) for member in members]


@command(
    "zcard",
    "key",
    arity=2,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO",
    group="sorted-set",
    since="1.2.0",
    summary="Get the number of members in a sorted set",
    complexity="O(1)",
)
def zcard(ctx: Client, key: bytes) -> int:
    """The number of members (0 if there is no sorted set)."""
    zset = ctx.db.get_zset(key)
    return 0 if zset is None else len(zset)


_RANK_META = dict(
    arity=3,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="sorted-set",
    since="2.0.0",
    complexity="O(log(N))",
)


def _rank(ctx: Client, key: bytes, member: bytes, reverse: bool) -> int | None:
    zset = ctx.db.get_zset(key)
    return None if zset is None else zset.rank(member, reverse)


@command(
    "zrank",
    "key member",
    **_RANK_META,
    summary="Determine the index of a member in a sorted set",
)
def zrank(ctx: Client, key: bytes, member: bytes) -> int | None:
    """The member's position from the lowest score, or nil."""
    return _rank(ctx, key, member, reverse=False)


@command(
    "zrevrank",
    "key member",
    **_RANK_META,
    summary="Determine the index of a member in a sorted set, with scores ordered from high to low",
)
def zrevrank(ctx: Client, key: bytes, member: bytes) -> int | None:
    """The member's position from the highest score, or nil."""
    return _rank(ctx, key, member, reverse=True)


# --- pops ---------------------------------------------------------------------------------------


def pop_extremes(ctx: Client, key: bytes, highest: bool, count: int) -> list[Item] | None:
    """Pop up to ``count`` members with the lowest (or highest) scores from the sorted set at
    ``key``, in the order they come off, deleting the key once empty; None if there is no key.
    Raises WRONGTYPE. Shared by ZPOPMIN/ZPOPMAX, ZMPOP and the blocking pops."""
    zset = ctx.db.get_zset(key)
    if zset is None:
        return None
    popped = zset.pop(highest, count)
    changed(ctx, key, zset, len(popped), b"zpopmax" if highest else b"zpopmin")
    return popped


def _zpop(ctx: Client, key: bytes, count: tuple[bytes, ...], highest: bool) -> list[object]:
    if len(count) > 1:
        raise CommandError(SYNTAX)
    many = to_int_at_least(count[0], 0, MUST_BE_POSITIVE) if count else None
    popped = pop_extremes(ctx, key, highest, 1 if many is None else many)
    if not popped:
        return []
    if many is None or ctx.resp == 2:
        return [x for item in popped for x in item]
    return [[member, score] for member, score in popped]


_POP_META = dict(
    arity=-2,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW access delete",
    group="sorted-set",
    since="5.0.0",
    complexity="O(log(N)*M) with N being the number of elements in the sorted set, and M being "
    "the number of elements popped.",
)


@command(
    "zpopmin",
    "key [count]",
    **_POP_META,
    summary="Remove and return members with the lowest scores in a sorted set",
)
def zpopmin(ctx: Client, key: bytes, *count: bytes) -> list[object]:
    """Pop the member with the lowest score (or up to ``count``), with its score."""
    return _zpop(ctx, key, count, highest=False)


@command(
    "zpopmax",
    "key [count]",
    **_POP_META,
    summary="Remove and return members with the highest scores in a sorted set",
)
def zpopmax(ctx: Client, key: bytes, *count: bytes) -> list[object]:
    """Pop the member with the highest score (or up to ``count``), with its score."""
    return _zpop(ctx, key, count, highest=True)


def mpop_from(ctx: Client, keys: tuple[bytes, ...], highest: bool, count: int) -> object:
    """Pop from the first sorted set of ``keys``: [key, [[member, score]...]], or None when
    none exists; logged as the ZPOPMIN/ZPOPMAX it amounts to, as Redis propagates it."""
    for key in keys:
        popped = pop_extremes(ctx, key, highest, count)
        if popped is not None:
            name = b"ZPOPMAX" if highest else b"ZPOPMIN"
            ctx.propagate_as([name, key, b"%d" % len(popped)])
            return [key, [[member, score] for member, score in popped]]
    return None


@command(
    "zmpop",
    "numkeys key [key ...] <MIN | MAX> [COUNT count]",
    arity=-4,
    flags="write movablekeys",
    key_count=(1, 0, 1, 1),
    key_flags="RW access delete",
    group="sorted-set",
    since="7.0.0",
    summary="Remove and return members with scores in a sorted set",
    complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the number "
    "of elements in the sorted set, and M being the number of elements popped.",
)
def zmpop(ctx: Client, numkeys: bytes, *args: bytes) -> object:
    """Pop up to COUNT (1) members from the first sorted set of the keys: [key, [[member,
    score]...]], or a null array."""
    keys, highest, count = mpop_arguments(numkeys, args, (b"max", b"min"))
    popped = mpop_from(ctx, keys, highest, count)
    return NULL_ARRAY if popped is None else popped


# --- blocking pops ------------------------------------------------------------------------------


def _blocking_zpop(
    ctx: Client, keys: tuple[bytes, ...], timeout: bytes, highest: bool, count: int | None = None
) -> object:
    """BZPOPMIN/BZPOPMAX ([key, member, score]: ``count`` None) and BZMPOP ([key, [[member,
    score]...]]), at once or once a key holds a sorted set; logged as ZPOPMIN/ZPOPMAX."""

    def take(key: bytes, zset: ZSetValue) -> object:
        if count is not None:
            return mpop_from(ctx, (key,), highest, count)
        ((member, score),) = pop_extremes(ctx, key, highest, 1)
        ctx.propagate_as([b"ZPOPMAX" if highest else b"ZPOPMIN", key])
        return [key, member, score]

    return take_or_wait(ctx, keys, timeout, ZSetValue, take)


_BZPOP = dict(
    syntax="key [key ...] timeout",
    arity=-3,
    flags="write noscript blocking fast",
    keys=(1, -2, 1),
    key_flags="RW access delete",
    group="sorted-set",
    since="5.0.0",
    complexity="O(log(N)) with N being the number of elements in the sorted set.",
    history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),),
)


@command(
    "bzpopmin",
    **_BZPOP,
    summary="Remove and return the member with the lowest score from one or more sorted "
    "sets, or block until one is available",
)
def bzpopmin(ctx: Client, *args: bytes) -> object:
    """ZPOPMIN from the first sorted set of the keys as [key, member, score], or wait."""
    return _blocking_zpop(ctx, args[:-1], args[-1], highest=False)


@command(
    "bzpopmax",
    **_BZPOP,
    summary="Remove and return the member with the highest score from one or more sorted "
    "sets, or block until one is available",
)
def bzpopmax(ctx: Client, *args: bytes) -> object:
    """ZPOPMAX from the first sorted set of the keys as [key, member, score], or wait."""
    return _blocking_zpop(ctx, args[:-1], args[-1], highest=True)


@command(
    "bzmpop",
    "timeout numkeys key [key ...] <MIN | MAX> [COUNT count]",
    arity=-5,
    flags="write blocking movablekeys",
    key_count=(2, 0, 1, 1),
    key_flags="RW access delete",
    group="sorted-set",
    since="7.0.0",
    summary="Remove and return members with scores in a sorted set or block until one is available",
    complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the number "
    "of elements in the sorted set, and M being the number of elements popped.",
)
def bzmpop(ctx: Client, timeout: bytes, numkeys: bytes, *args: bytes) -> object:
    """ZMPOP that waits for a sorted set when no key holds one (the timeout checked last)."""
    keys, highest, count = mpop_arguments(numkeys, args, (b"max", b"min"))
    return _blocking_zpop(ctx, keys, timeout, highest, count)


# --- ZSCAN --------------------------------------------------------------------------------------


@command(
    "zscan",
    "key cursor [MATCH pattern] [COUNT count]",
    arity=-3,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="sorted-set",
    since="2.8.0",
    summary="Incrementally iterate sorted sets elements and associated scores",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
    "calls for the cursor to return back to 0. N is the number of elements inside "
    "the collection..",
    tips="nondeterministic_output",
)
def zscan(ctx: Client, key: bytes, cursor: bytes, *options: bytes) -> list[object]:
    """One step of an iteration over a sorted set: the next cursor and member/score pairs. A
    small one (listpack in Redis) comes whole, in order, with cursor 0, as Redis replies."""
    position = parse_cursor(cursor)
    zset = ctx.db.get_zset(key)
    if zset is None:
        return [b"0", []]
    compact = zset.compact

    def shown(member: bytes) -> bytes | None:
        score = zset.score(member)
        return None if score is None else score_text(score, compact)

    return scan_pairs(ctx, key, position, options, zset, compact, shown)
