"""Bitmap commands. https://redis.io/docs/latest/commands/?group=bitmap

A bitmap is a string whose bit 0 is the most significant bit of its first byte. Whole-string work
goes through Python's big integers (``int.from_bytes``, ``bit_count``), never bit by bit; a write
stores new bytes, keeping the key's TTL, and is a "setbit" event only when a bit changed or the
string was made or grown (BITOP's destination: "set", or "del"). Checks run in Redis's order
(bitops.c): the arguments each command parses before its lookup, then the key's type, then the
rest.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import reduce

from respserver.commands.strings import max_string_length
from respserver.core.state import Client
from respserver.errors import (
    BIT_ARGUMENT,
    BIT_OFFSET,
    BIT_VALUE,
    BITFIELD_OVERFLOW_TYPE,
    BITFIELD_RO_GET_ONLY,
    BITFIELD_TYPE,
    BITOP_NOT_ONE_KEY,
    SYNTAX,
    CommandError,
)
from respserver.keyspace.events import GENERIC, STRING
from respserver.numbers import to_int, wrap_int64
from respserver.registry import command

_INVERT = bytes(range(255, -1, -1))  # a translate table: each byte to its complement
_OPERATIONS = {b"and": operator.and_, b"or": operator.or_, b"xor": operator.xor, b"not": None}


def bit_offset(ctx: Client, raw: bytes, width: int = 0) -> int:
    """A bit offset as Redis's getBitOffsetFromArgument reads it: an integer from 0 to the last
    bit of a proto-max-bulk-len string (no limit while loading); with a ``width`` (BITFIELD),
    ``#n`` means the n-th field of that width."""
    by_field = width > 0 and raw[:1] == b"#"
    offset = to_int(raw[1:] if by_field else raw, BIT_OFFSET)
    if by_field:
        offset = wrap_int64(offset * width)
    if offset < 0 or (not ctx.loader and offset >> 3 >= max_string_length(ctx)):
        raise CommandError(BIT_OFFSET)
    return offset


def _bits(data: bytes | bytearray, first: int, last: int) -> int:
    """Bits ``first`` to ``last`` (inclusive) of ``data`` as an unsigned integer; bits past
    the end read as 0."""
    low, high = first >> 3, (last >> 3) + 1
    chunk = data[low:high]
    number = int.from_bytes(chunk, "big") << 8 * (high - low - len(chunk))
    number >>= 7 - (last & 7)
    return number & ((1 << (last - first + 1)) - 1) if first & 7 else number


def _is_bit_unit(option: tuple[bytes, ...]) -> bool:
    """BITCOUNT's and BITPOS's optional BYTE | BIT: whether the range counts bits."""
    if not option or option[0].lower() == b"byte":
        return False
    if option[0].lower() == b"bit":
        return True
    raise CommandError(SYNTAX)


def _span(size: int, start: int, end: int, in_bits: bool) -> tuple[int, int] | None:
    """The first and last bit a BITCOUNT/BITPOS range covers in a string of ``size`` bytes
    (negative ends count from the end, then are clamped), or None if it is empty."""
    total = size * 8 if in_bits else size
    start += total if start < 0 else 0
    end += total if end < 0 else 0
    start, end = max(start, 0), min(max(end, 0), total - 1)
    if start > end:
        return None
    return (start, end) if in_bits else (start * 8, end * 8 + 7)


_BITPOS_HISTORY = (("7.0.0", "Added the `BYTE|BIT` option."),)


@command(
    "setbit",
    "key offset value",
    arity=4,
    flags="write denyoom",
    keys=(1, 1, 1),
    key_flags="RW access update",
    group="bitmap",
    since="2.2.0",
    summary="Sets or clears the bit at offset in the string value stored at key",
    complexity="O(1)",
)
def setbit(ctx: Client, key: bytes, offset: bytes, value: bytes) -> int:
    """Set or clear one bit (zero-padding the string); reply with the bit's old value."""
    position = bit_offset(ctx, offset)
    bit = to_int(value, BIT_VALUE)
    if bit not in (0, 1):
        raise CommandError(BIT_VALUE)
    old = ctx.db.get_string(key)
    data = old or b""
    index, mask = position >> 3, 0x80 >> (position & 7)
    byte = data[index] if index < len(data) else 0
    was = 1 if byte & mask else 0
    if old is None or index >= len(old) or was != bit:  # Redis counts only a change
        byte = byte | mask if bit else byte & ~mask
        new = data[:index].ljust(index, b"\0") + bytes((byte,)) + data[index + 1 :]
        ctx.db.store(key, new, keep_ttl=True)
        ctx.db.notify(STRING, b"setbit", key)
    return was


@command(
    "getbit",
    "key offset",
    arity=3,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="bitmap",
    since="2.2.0",
    summary="Returns the bit value at offset in the string value stored at key",
    complexity="O(1)",
)
def getbit(ctx: Client, key: bytes, offset: bytes) -> int:
    """The bit at ``offset`` (0 past the end or for a missing key)."""
    position = bit_offset(ctx, offset)
    return _bits(ctx.db.get_string(key) or b"", position, position)


@command(
    "bitcount",
    "key [start end [BYTE | BIT]]",
    arity=-2,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="bitmap",
    since="2.6.0",
    summary="Count set bits in a string",
    complexity="O(N)",
    history=_BITPOS_HISTORY,
)
def bitcount(ctx: Client, key: bytes, *args: bytes) -> int:
    """The number of set bits, in the whole string or a byte (or bit) range."""
    value = ctx.db.get_string(key)
    if value is None:
        return 0  # whatever the arguments, as Redis looks the key up first
    if not args:
        return int.from_bytes(value, "big").bit_count()
    if len(args) not in (2, 3):
        raise CommandError(SYNTAX)
    start, end = to_int(args[0]), to_int(args[1])
    if start < 0 and end < 0 and start > end:
        return 0  # before the unit is read
    span = _span(len(value), start, end, _is_bit_unit(args[2:]))
    return 0 if span is None else _bits(value, *span).bit_count()


@command(
    "bitpos",
    "key bit [start [end [BYTE | BIT]]]",
    arity=-3,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="bitmap",
    since="2.8.7",
    summary="Find first bit set or clear in a string",
    complexity="O(N)",
    history=_BITPOS_HISTORY,
)
def bitpos(ctx: Client, key: bytes, bit_arg: bytes, *args: bytes) -> int:
    """The position of the first ``bit`` (0 or 1) in the string or a range of it, or -1. A
    clear bit is found just past a string of ones unless the range has an explicit end."""
    bit = to_int(bit_arg)
    if bit not in (0, 1):
        raise CommandError(BIT_ARGUMENT)
    value = ctx.db.get_string(key)
    if value is None:
        return -1 if bit else 0  # an endless run of clear bits
    if len(args) > 3:
        raise CommandError(SYNTAX)
    start = to_int(args[0]) if args else 0
    in_bits = _is_bit_unit(args[2:])  # read before the end, as Redis does
    end = to_int(args[1]) if len(args) > 1 else -1
    span = _span(len(value), start, end, in_bits)
    if span is None:
        return -1
    first, last = span
    width = last - first + 1
    window = _bits(value, first, last)
    if not bit:
        window ^= (1 << width) - 1
    if window:
        return first + width - window.bit_length()
    return -1 if bit or len(args) > 1 else last + 1


@command(
    "bitop",
    "operation destkey key [key ...]",
    arity=-4,
    flags="write denyoom",
    keys=(2, -1, 1),
    key_flags="OW update | RO access",
    group="bitmap",
    since="2.6.0",
    summary="Perform bitwise operations between strings",
    complexity="O(N)",
)
def bitop(ctx: Client, operation: bytes, destkey: bytes, *keys: bytes) -> int:
    """AND, OR or XOR strings (zero-padded to the longest) or NOT one into ``destkey``; an
    empty result deletes it. Reply with the result's length."""
    name = operation.lower()
    if name not in _OPERATIONS:
        raise CommandError(SYNTAX)
    if name == b"not" and len(keys) != 1:
        raise CommandError(BITOP_NOT_ONE_KEY)
    values = [ctx.db.get_string(key) or b"" for key in keys]
    size = max(map(len, values))
    if not size:
        if ctx.db.delete(destkey):
            ctx.db.notify(GENERIC, b"del", destkey)
        return 0
    combine = _OPERATIONS[name]
    if combine is None:
        result = values[0].translate(_INVERT)
    else:
        numbers = (int.from_bytes(value, "big") << 8 * (size - len(value)) for value in values)
        result = reduce(combine, numbers).to_bytes(size, "big")
    ctx.db.store(destkey, result)
    ctx.db.notify(STRING, b"set", destkey)
    return size


# --- BITFIELD -------------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class _Field:
    """One BITFIELD operation: GET, SET or INCRBY of a (un)signed ``width``-bit integer."""

    op: bytes  # b"get", b"set" or b"incrby"
    signed: bool
    width: int
    offset: int
    argument: int  # SET's value, INCRBY's increment
    overflow: bytes  # b"wrap", b"sat" or b"fail", as the last OVERFLOW before it said

    @property
    def last(self) -> int:
        return self.offset + self.width - 1

    def read(self, data: bytes | bytearray) -> int:
        number = _bits(data, self.offset, self.last)
        if self.signed and number >> (self.width - 1):
            number -= 1 << self.width
        return number

    def write(self, data: bytearray, number: int) -> None:
        low, high = self.offset >> 3, (self.last >> 3) + 1
        shift = 7 - (self.last & 7)
        mask = ((1 << self.width) - 1) << shift
        chunk = int.from_bytes(data[low:high], "big") & ~mask
        chunk |= (number << shift) & mask
        data[low:high] = chunk.to_bytes(high - low, "big")

    def target(self, current: int) -> int | None:
        """The value SET or INCRBY stores over ``current`` once its overflow rule is applied;
        None when it fails (OVERFLOW FAIL)."""
        if self.op == b"incrby":
            number = current + self.argument
        else:  # SET: an unsigned field takes the value as C's uint64_t cast leaves it
            number = self.argument if self.signed else self.argument % 2**64
        low = -(1 << (self.width - 1)) if self.signed else 0
        high = (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1
        if low <= number <= high:
            return number
        if self.overflow == b"fail":
            return None
        if self.overflow == b"sat":
            return high if number > high else low
        return (number - low) % (1 << self.width) + low  # wrap


def _field_type(raw: bytes) -> tuple[bool, int]:
    """``i<bits>`` (1 to 64) or ``u<bits>`` (1 to 63): whether signed, and the width."""
    signed = raw[:1] == b"i"
    if not signed and raw[:1] != b"u":
        raise CommandError(BITFIELD_TYPE)
    width = to_int(raw[1:], BITFIELD_TYPE)
    if not 1 <= width <= (64 if signed else 63):
        raise CommandError(BITFIELD_TYPE)
    return signed, width


_OPERANDS = {b"get": 2, b"set": 3, b"incrby": 3}  # the words after each operation


def _parse_fields(ctx: Client, args: tuple[bytes, ...]) -> list[_Field]:
    """BITFIELD's operations, each checked (type, offset, value) as it is read."""
    fields: list[_Field] = []
    overflow, i = b"wrap", 0
    while i < len(args):
        op, left = args[i].lower(), len(args) - i - 1
        if op == b"overflow" and left >= 1:
            overflow = args[i + 1].lower()
            if overflow not in (b"wrap", b"sat", b"fail"):
                raise CommandError(BITFIELD_OVERFLOW_TYPE)
            i += 2
            continue
        operands = _OPERANDS.get(op)
        if operands is None or operands > left:
            raise CommandError(SYNTAX)
        signed, width = _field_type(args[i + 1])
        offset = bit_offset(ctx, args[i + 2], width)
        argument = to_int(args[i + 3]) if operands == 3 else 0
        fields.append(_Field(op, signed, width, offset, argument, overflow))
        i += operands + 1
    return fields


def _bitfield(ctx: Client, key: bytes, args: tuple[bytes, ...], read_only: bool) -> list:
    """Parse every operation, then look the key up: for reading while all are GETs, else
    made or zero-padded up to the farthest field written; run them in order."""
    fields = _parse_fields(ctx, args)
    writes = [field for field in fields if field.op != b"get"]
    if not writes:
        value = ctx.db.get_string(key) or b""
        return [field.read(value) for field in fields]
    if read_only:
        raise CommandError(BITFIELD_RO_GET_ONLY)
    old = ctx.db.get_string(key)
    data = bytearray(old or b"")
    size = (max(field.last for field in writes) >> 3) + 1
    grown = old is None or len(data) < size
    data.extend(bytes(size - len(data)) if size > len(data) else b"")
    replies: list[int | None] = []
    changes = 0  # Redis counts each write that changed a field, or every write to a new key
    for field in fields:
        current = field.read(data)
        number = current if field.op == b"get" else field.target(current)
        if field.op != b"get" and number is not None:
            field.write(data, number)
            changes += grown or number != current
        replies.append(current if field.op == b"set" and number is not None else number)
    if changes or grown:  # a key made or grown for writes that all failed counts no change
        ctx.db.store(key, bytes(data), keep_ttl=True, dirty=changes)
    if changes:
        ctx.db.notify(STRING, b"setbit", key)
    return replies


def _bitfield_key_flags(argv: list[bytes]) -> tuple[str, ...]:
    """Redis's bitfieldGetKeys: the key is only read while every operation is a GET (or an
    OVERFLOW); a SET, an INCRBY or anything unreadable makes it a write."""
    i = 2
    while i < len(argv):
        left = len(argv) - i - 1
        if argv[i].lower() == b"get" and left >= 2:
            i += 3
        elif argv[i].lower() == b"overflow" and left >= 1:
            i += 2
        else:
            return ("RW", "access", "update")
    return ("RO", "access")


@command(
    "bitfield",
    "key [GET <encoding offset> | <[OVERFLOW WRAP | SAT | FAIL] <SET <encoding "
    "offset value> | INCRBY <encoding offset increment>>> [GET <encoding offset> | "
    "<[OVERFLOW WRAP | SAT | FAIL] <SET <encoding offset value> | INCRBY <encoding "
    "offset increment>>> ...]]",
    arity=-2,
    flags="write denyoom",
    keys=(1, 1, 1),
    key_flags="RW access update variable_flags",
    key_notes="This command allows both access and modification of the key",
    getkeys=lambda argv: [(1, _bitfield_key_flags(argv))],
    group="bitmap",
    since="3.2.0",
    summary="Perform arbitrary bitfield integer operations on strings",
    complexity="O(1) for each subcommand specified",
)
def bitfield(ctx: Client, key: bytes, *args: bytes) -> list:
    """Read, set and increment integer fields of a bitmap; a field whose OVERFLOW FAIL
    triggers is left alone and replied as nil."""
    return _bitfield(ctx, key, args, read_only=False)


@command(
    "bitfield_ro",
    "key [GET encoding offset [GET encoding offset ...]]",
    arity=-2,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="bitmap",
    since="6.0.0",
    summary="Perform arbitrary bitfield integer operations on strings. Read-only variant of "
    "BITFIELD",
    complexity="O(1) for each subcommand specified",
)
def bitfield_ro(ctx: Client, key: bytes, *args: bytes) -> list:
    """BITFIELD's GETs only."""
    return _bitfield(ctx, key, args, read_only=True)
