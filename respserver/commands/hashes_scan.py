"""HSCAN. https://redis.io/docs/latest/commands/hscan/

Redis answers a small hash (listpack-encoded: at most ``hash-max-listpack-entries`` fields, none
of them or their values longer than ``hash-max-listpack-value``) with everything at once, in
insertion order, and cursor 0; Python dicts keep that order, so this reply is byte-identical.

A bigger hash is walked with a ``ScanIndex`` over a snapshot of its fields, taken when an
iteration starts (cursor 0) or when the snapshot no longer belongs to this dict. Fields deleted
since are skipped at reply time; fields added since may be missed, which Redis's guarantee allows
(only elements present for the whole iteration must be returned). Snapshots of a few collections
are kept, least recently used dropped first; ``scan_step`` walks any collection this way (SSCAN's
sets too).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection

from respserver.commands.keys import parse_scan_options
from respserver.core.state import Client
from respserver.keyspace.scan import ScanIndex, parse_cursor
from respserver.registry import command

_MAX_SNAPSHOTS = 16


class _Snapshot:
    __slots__ = ("collection", "index")

    def __init__(self, collection: Collection[bytes]) -> None:
        # What it was taken from: a new hash or set at the key means a new snapshot.
        self.collection = collection
        self.index = ScanIndex(collection)


def scan_step(
    ctx: Client, key: bytes, collection: Collection[bytes], position: int, count: int
) -> tuple[int, list[bytes]]:
    """One step of an iteration over the elements of ``collection`` (a hash's fields, a set's
    members) from cursor ``position``: the next cursor and the elements of the buckets visited,
    some perhaps gone since the snapshot (the caller skips those). The snapshot is kept on the
    server (servers share none), by database number and key; cursor 0 takes a fresh one."""
    snapshots: OrderedDict[tuple[int, bytes], _Snapshot] = ctx.server.hscan_snapshots
    slot = (ctx.db.index, key)
    snapshot = snapshots.get(slot)
    if position == 0 or snapshot is None or snapshot.collection is not collection:
        snapshot = snapshots[slot] = _Snapshot(collection)
        if len(snapshots) > _MAX_SNAPSHOTS:
            snapshots.popitem(last=False)
    snapshots.move_to_end(slot)
    return snapshot.index.scan(position, count)


def scan_pairs(
    ctx: Client,
    key: bytes,
    position: int,
    options: tuple[bytes, ...],
    collection: Collection[bytes],
    whole: bool,
    value_of: Callable[[bytes], bytes | None],
) -> list[object]:
    """HSCAN's and ZSCAN's reply once the key is found: the options read, then everything at
    once with cursor 0 (``whole``: what Redis holds as a listpack) or a step of the walk, as
    element/value pairs, elements gone since the snapshot or not matching MATCH left out."""
    opts = parse_scan_options(options, allow_type=False)
    if whole:
        position, names = 0, list(collection)
    else:
        position, names = scan_step(ctx, key, collection, position, opts.count)
    glob = opts.glob
    reply: list[bytes] = []
    for name in names:
        value = value_of(name)
        if value is not None and (glob is None or glob.match(name)):
            reply += (name, value)
    return [b"%d" % position, reply]


def is_listpack(ctx: Client, fields: dict[bytes, bytes]) -> bool:
    """Whether Redis would keep this hash in its compact listpack encoding."""
    config = ctx.server.config
    if len(fields) > config.hash_max_listpack_entries:
        return False
    longest = config.hash_max_listpack_value
    return all(len(f) <= longest and len(v) <= longest for f, v in fields.items())


@command(
    "hscan",
    "key cursor [MATCH pattern] [COUNT count]",
    arity=-3,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="hash",
    since="2.8.0",
    summary="Incrementally iterate hash fields and associated values",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough "
    "command calls for the cursor to return back to 0. N is the number of elements inside "
    "the collection..",
    tips="nondeterministic_output",
)
def hscan(ctx: Client, key: bytes, cursor: bytes, *options: bytes) -> list[object]:
    """One step of an iteration over a hash: the next cursor and field/value pairs."""
    position = parse_cursor(cursor)
    fields = ctx.db.get_hash(key)
    if fields is None:
        return [b"0", []]  # Redis does not even read the options then
    return scan_pairs(ctx, key, position, options, fields, is_listpack(ctx, fields), fields.get)
