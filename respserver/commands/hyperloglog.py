"""HyperLogLog commands. https://redis.io/docs/latest/commands/?group=hyperloglog

A HyperLogLog is a string in Redis's own representation (keyspace/hyperloglog.py). Each handler
opens the stored string as a ``Sketch``, works on it and stores its bytes back, keeping the
key's TTL, as Redis changes the value in place. The count of changes follows Redis's: PFADD adds
one per register raised (and one for creating the key), PFMERGE always one, PFCOUNT one when it
refreshes the cardinality cached in the header -- so that read is logged to the AOF too (it is
flagged may_replicate), and PFDEBUG one when it turns a sketch dense. Only PFADD (when it
changed something) and PFMERGE are keyspace events, both "pfadd".
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

from respserver.core.state import Client
from respserver.errors import (
    HLL_NO_KEY,
    HLL_NOT_SPARSE,
    CommandError,
    hll_test_failed,
    unknown_pfdebug,
)
from respserver.keyspace.events import STRING
from respserver.keyspace.hyperloglog import (
    REGISTERS,
    SPARSE,
    Sketch,
    cached_count,
    check,
    self_test,
    union_count,
)
from respserver.registry import command
from respserver.resp.types import OK, SimpleString


def _lookup(ctx: Client, key: bytes) -> bytes | None:
    """The HyperLogLog string at ``key``, or None. Raises WRONGTYPE for another type or for a
    string that is no HyperLogLog."""
    value = ctx.db.get_string(key)
    if value is not None:
        check(value)
    return value


def _sketch(ctx: Client, value: bytes | None) -> Sketch:
    """A HyperLogLog string opened for work (a new, empty one for None)."""
    limit = ctx.server.config.hll_sparse_max_bytes
    return Sketch.empty(limit) if value is None else Sketch(value, limit)


def _open(ctx: Client, key: bytes) -> Sketch | None:
    value = _lookup(ctx, key)
    return None if value is None else _sketch(ctx, value)


def _union(sketches: Iterable[Sketch | None]) -> tuple[bytearray, bool]:
    """The registers of the union of ``sketches`` (None for a missing key), and whether one
    of them is dense. Opened lazily, as Redis checks and merges each key in turn."""
    registers = bytearray(REGISTERS)
    dense = False
    for sketch in sketches:
        if sketch is not None:
            dense = dense or sketch.encoding != SPARSE
            sketch.merge_into(registers)
    return registers, dense


def _save(ctx: Client, key: bytes, sketch: Sketch, dirty: int = 1) -> None:
    ctx.db.store(key, sketch.to_bytes(), keep_ttl=True, dirty=dirty)


@command(
    "pfadd",
    "key [element [element ...]]",
    arity=-2,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW insert",
    group="hyperloglog",
    since="2.8.9",
    summary="Adds the specified elements to the specified HyperLogLog.",
    complexity="O(1) to add every element.",
)
def pfadd(ctx: Client, key: bytes, *elements: bytes) -> int:
    """Add elements to a HyperLogLog, creating it if needed; 1 if a register changed (or the
    key was created), else 0.
    PFADD key [element [element ...]]"""
    value = _lookup(ctx, key)
    sketch = _sketch(ctx, value)
    try:
        updated = sketch.add(elements) + (value is None)
    except CommandError:  # a corrupt sparse code: what changed before that showed stays
        if sketch.to_bytes() != value:
            _save(ctx, key, sketch, dirty=0)
        raise
    if updated:
        sketch.invalidate()
        _save(ctx, key, sketch, dirty=updated)
        ctx.db.notify(STRING, b"pfadd", key)
    return 1 if updated else 0


@command(
    "pfcount",
    "key [key ...]",
    arity=-2,
    flags="readonly may_replicate",
    keys=(1, -1, 1),
    key_flags="RW access",
    key_notes="RW because it may change the internal representation of the key, and propagate "
    "to replicas",
    group="hyperloglog",
    since="2.8.9",
    summary="Return the approximated cardinality of the set(s) observed by the HyperLogLog "
    "at key(s).",
    complexity="O(1) with a very small average constant time when called with a single key. "
    "O(N) with N being the number of keys, and much bigger constant times, when "
    "called with multiple keys.",
)
def pfcount(ctx: Client, key: bytes, *more: bytes) -> int:
    """The estimated cardinality of one HyperLogLog (cached in its header), or of the union
    of several (not cached).
    PFCOUNT key [key ...]"""
    if more:
        registers, _ = _union(_open(ctx, name) for name in (key, *more))
        return _signed(union_count(registers))
    value = _lookup(ctx, key)
    if value is None:
        return 0
    card = cached_count(value)
    if card is None:
        sketch = _sketch(ctx, value)
        card = sketch.count()
        _save(ctx, key, sketch)  # the count now cached: a change, logged as Redis does
    return _signed(card)


def _signed(card: int) -> int:
    """Redis replies with the unsigned count read as a signed one (only an overflowing
    estimate, 2**63, shows it)."""
    return card - (1 << 64) if card >= 1 << 63 else card


@command(
    "pfmerge",
    "destkey [sourcekey ...]",
    arity=-2,
    flags="write denyoom",
    keys=(1, -1, 1),
    key_flags="RW access insert | RO access",
    group="hyperloglog",
    since="2.8.9",
    summary="Merge N different HyperLogLogs into a single one.",
    complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
)
def pfmerge(ctx: Client, destkey: bytes, *sourcekeys: bytes) -> SimpleString:
    """Merge HyperLogLogs (the destination's own registers included) into the destination.
    It stays sparse while every input is, as in Redis 7.0, unless it outgrows the sparse
    limit; one dense input makes it dense.
    PFMERGE destkey [sourcekey ...]"""
    target = _open(ctx, destkey)
    registers, dense = _union(chain((target,), (_open(ctx, name) for name in sourcekeys)))
    target = target or _sketch(ctx, None)
    if dense:
        target.to_dense()
    target.raise_all(registers)
    target.invalidate()
    _save(ctx, destkey, target)
    ctx.db.notify(STRING, b"pfadd", destkey)  # Redis's event for a merge: a mass add
    return OK


@command(
    "pfdebug",
    "subcommand key",
    arity=3,
    flags="write denyoom admin",
    keys=(2, 2, 1),
    key_flags="RW access",
    group="hyperloglog",
    since="2.8.9",
    summary="Internal commands for debugging HyperLogLog values",
    complexity="N/A",
    syscmd=True,
)
def pfdebug(ctx: Client, subcommand: bytes, key: bytes) -> object:
    """Look inside a HyperLogLog: GETREG (its registers; turns it dense), DECODE (a sparse
    one's opcodes), ENCODING (dense or sparse), TODENSE (1 if it was sparse and now is not).
    PFDEBUG subcommand key"""
    sketch = _open(ctx, key)
    if sketch is None:
        raise CommandError(HLL_NO_KEY)
    name = subcommand.lower()
    if name in (b"getreg", b"todense"):
        was_sparse = sketch.encoding == SPARSE
        registers = sketch.dense_registers()
        if was_sparse:
            _save(ctx, key, sketch)
        return list(registers) if name == b"getreg" else int(was_sparse)
    if name == b"decode":
        if sketch.encoding != SPARSE:
            raise CommandError(HLL_NOT_SPARSE)
        return sketch.decode().encode()
    if name == b"encoding":
        return SimpleString(b"sparse" if sketch.encoding == SPARSE else b"dense")
    raise unknown_pfdebug(subcommand)


@command(
    "pfselftest",
    arity=1,
    flags="admin",
    group="hyperloglog",
    since="2.8.9",
    summary="An internal command for testing HyperLogLog values",
    complexity="N/A",
    syscmd=True,
)
def pfselftest(ctx: Client) -> SimpleString:
    """Test this server's HyperLogLog implementation (registers, estimates, encodings).
    PFSELFTEST"""
    failure = self_test(ctx.server.config.hll_sparse_max_bytes)
    if failure is not None:
        raise hll_test_failed(failure)
    return OK
