"""HyperLogLog sketches in Redis 7.0's own string representation (hyperloglog.c), so that a
value moved by DUMP/RESTORE or an RDB file between respserver and redis-server is the same
bytes and counts the same.

The string is a 16-byte header -- ``HYLL``, an encoding byte (0 dense, 1 sparse), three unused
bytes, then the last computed cardinality as a little-endian 64-bit integer whose top bit set
means "stale" -- followed by the 16384 registers, either *dense* (6 bits each, packed from the
least significant bit up: 12288 bytes) or *sparse*, a run-length code of three opcodes::

    ZERO   00xxxxxx            xxxxxx+1 registers at 0 (1..64)
    XZERO  01xxxxxx yyyyyyyy   xxxxxxyyyyyyyy+1 registers at 0 (1..16384)
    VAL    1vvvvvxx            xx+1 registers (1..4) at vvvvv+1 (1..32)

A sparse sketch turns dense when a register needs more than 32 or an update would grow the
string past ``hll-sparse-max-bytes``. Redis edits the sparse code in place, splitting and then
greedily re-merging opcodes, so the exact bytes depend on the order of the updates: ``Sketch``
replays that edit for edit, on a list of opcodes (found by bisection rather than by a scan)
instead of a byte string. A dense sketch's registers are read and raised in place in the packed
bytes (PFADD touches one register an element); counting and merging unpack them all, one byte
each, through ``bytes.translate`` and big-integer ORs, never register by register.

No I/O and no Trio; errors are raised as CommandError with Redis's wording.
"""

from __future__ import annotations

import math
import random
import struct
from bisect import bisect_right
from collections.abc import Callable, Iterable

from respserver.errors import HLL_CORRUPTED, HLL_WRONGTYPE, CommandError

MAGIC = b"HYLL"
HEADER_SIZE = 16
REGISTERS = 16384  # 2**14: the low 14 bits of an element's hash pick its register
DENSE, SPARSE = 0, 1
DENSE_SIZE = HEADER_SIZE + REGISTERS * 6 // 8
_INDEX_BITS = 14
_RUN_BITS = 64 - _INDEX_BITS  # the hash bits whose trailing zeros are counted (Redis's HLL_Q)
_VAL_MAX = 32  # the largest value a sparse VAL opcode holds
_VAL_MAX_RUN = 4
_ZERO_MAX_RUN = 64
_XZERO_MAX_RUN = 16384
_STALE = 0x80  # in the header's last byte: the cached cardinality must be recomputed
_ALPHA_INF = 0.721347520444481703680  # 0.5 / ln(2)
_SEED = 0xADC83B19
_M = 0xC6A4A7935BD1E995
_MASK64 = (1 << 64) - 1

# A sparse opcode: (value, run, width). Value 0 is a ZERO (width 1) or XZERO (width 2) run.
Op = tuple[int, int, int]


def is_valid(value: bytes) -> bool:
    """Whether a string passes Redis's isHLLObjectOrReply: the magic, a known encoding, and a
    dense sketch's exact length. (A sparse code is checked only when it is read.)"""
    if len(value) < HEADER_SIZE or value[:4] != MAGIC or value[4] > SPARSE:
        return False
    return value[4] == SPARSE or len(value) == DENSE_SIZE


def check(value: bytes) -> None:
    """Raise Redis's WRONGTYPE for a string that is no HyperLogLog."""
    if not is_valid(value):
        raise CommandError(HLL_WRONGTYPE)


# --- hashing ---------------------------------------------------------------------------------


def murmur64a(data: bytes, seed: int = _SEED) -> int:
    """MurmurHash64A as Redis computes it, reading 8-byte blocks little-endian on any host."""
    length = len(data)
    h = (seed ^ (length * _M)) & _MASK64
    blocks = length >> 3
    for k in struct.unpack_from(f"<{blocks}Q", data):
        k = (k * _M) & _MASK64
        k ^= k >> 47
        h = ((h ^ ((k * _M) & _MASK64)) * _M) & _MASK64
    if length & 7:
        h = ((h ^ int.from_bytes(data[blocks << 3 :], "little")) * _M) & _MASK64
    h ^= h >> 47
    h = (h * _M) & _MASK64
    return h ^ (h >> 47)


def position(element: bytes) -> tuple[int, int]:
    """The register an element maps to, and the value it offers it: 1 + the number of
    trailing zeros in the other 50 bits of its hash (so 1 to 51)."""
    h = murmur64a(element)
    rest = (h >> _INDEX_BITS) | (1 << _RUN_BITS)
    return h & (REGISTERS - 1), (rest & -rest).bit_length()


# --- dense registers: 4 registers in 3 bytes --------------------------------------------------


def _table(f: Callable[[int], int]) -> bytes:
    """A ``bytes.translate`` table applying ``f`` to every byte value."""
    return bytes(f(x) & 0xFF for x in range(256))


_LOW6 = _table(lambda x: x & 63)
_HIGH2 = _table(lambda x: x >> 6)
_LOW4_UP2 = _table(lambda x: (x & 15) << 2)
_HIGH4 = _table(lambda x: x >> 4)
_LOW2_UP4 = _table(lambda x: (x & 3) << 4)
_HIGH6 = _table(lambda x: x >> 2)
_LOW2_UP6 = _table(lambda x: (x & 3) << 6)
_UP2 = _table(lambda x: x >> 2)
_LOW4_UP4 = _table(lambda x: (x & 15) << 4)
_SHIFT4 = _table(lambda x: x >> 4)
_UP2_6 = _table(lambda x: (x & 63) << 2)


def _or(a: bytes, b: bytes) -> bytes:
    """Byte-wise OR of two equal-length strings, as one big-integer operation."""
    return (int.from_bytes(a, "big") | int.from_bytes(b, "big")).to_bytes(len(a), "big")


def unpack(dense: bytes) -> bytearray:
    """The 16384 registers of a dense register area (12288 bytes), one byte each."""
    a, b, c = dense[0::3], dense[1::3], dense[2::3]
    registers = bytearray(REGISTERS)
    registers[0::4] = a.translate(_LOW6)
    registers[1::4] = _or(a.translate(_HIGH2), b.translate(_LOW4_UP2))
    registers[2::4] = _or(b.translate(_HIGH4), c.translate(_LOW2_UP4))
    registers[3::4] = c.translate(_HIGH6)
    return registers


def pack(registers: bytes | bytearray) -> bytes:
    """The dense register area of 16384 register values (each below 64)."""
    r0, r1, r2, r3 = (bytes(registers[i::4]) for i in range(4))
    dense = bytearray(REGISTERS * 6 // 8)
    dense[0::3] = _or(r0, r1.translate(_LOW2_UP6))
    dense[1::3] = _or(r1.translate(_UP2), r2.translate(_LOW4_UP4))
    dense[2::3] = _or(r2.translate(_SHIFT4), r3.translate(_UP2_6))
    return bytes(dense)


# --- the estimator ---------------------------------------------------------------------------


def _sigma(x: float) -> float:
    """Ertl's sigma (arXiv:1702.01284), for the registers still at 0."""
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if previous == z:
            return z


def _tau(x: float) -> float:
    """Ertl's tau, for the registers at the largest possible value."""
    if x == 0.0 or x == 1.0:
        return 0.0
    y, z = 1.0, 1 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        z -= (1 - x) * (1 - x) * y  # C's pow(1 - x, 2), which compilers turn into this product
        if previous == z:
            return z / 3


def estimate(histogram: list[int]) -> int:
    """Redis 7's hllCount from the number of registers at each value (64 entries): Ertl's
    improved estimator, rounded half away from zero as llroundl does. An estimate too large
    for a signed 64-bit integer (only ever from registers no element could produce) comes out
    as llroundl's overflow value, 2**63."""
    m = float(REGISTERS)
    z = m * _tau((m - histogram[_RUN_BITS + 1]) / m)
    for j in range(_RUN_BITS, 0, -1):
        z += histogram[j]
        z *= 0.5
    z += m * _sigma(histogram[0] / m)
    if z == 0.0:
        return 1 << 63
    e = _ALPHA_INF * m * m / z
    if not e < 2.0**63:
        return 1 << 63
    whole = math.floor(e)
    return whole + 1 if e - whole >= 0.5 else whole


def raw_histogram(registers: bytes | bytearray) -> list[int]:
    """How many registers hold each value 0..63."""
    return [registers.count(v) for v in range(64)]


def union_count(registers: bytes | bytearray) -> int:
    """The estimate for registers merged from several sketches (multi-key PFCOUNT)."""
    return estimate(raw_histogram(registers))


def cached_count(value: bytes) -> int | None:
    """The cardinality a HyperLogLog's header holds, or None if it is stale."""
    if value[15] & _STALE:
        return None
    return int.from_bytes(value[8:16], "little")


# --- the sparse code -------------------------------------------------------------------------


def _zero_run(run: int) -> Op:
    """The opcode Redis writes for a run of zeros when it splits one: XZERO past 64."""
    return (0, run, 2 if run > _ZERO_MAX_RUN else 1)


def _parse_sparse(code: bytes) -> tuple[list[Op], bool]:
    """The opcodes of a sparse code, and whether it ends in the first byte of an XZERO alone
    (a corrupt string: Redis then reads the string's terminating NUL as the second byte)."""
    ops: list[Op] = []
    append = ops.append
    i, end = 0, len(code)
    while i < end:
        byte = code[i]
        if byte & 0x80:
            append((((byte >> 2) & 31) + 1, (byte & 3) + 1, 1))
            i += 1
        elif byte & 0x40:
            low = code[i + 1] if i + 1 < end else 0
            append((0, (((byte & 63) << 8) | low) + 1, 2))
            i += 2
        else:
            append((0, byte + 1, 1))
            i += 1
    return ops, i > end


def _encode_sparse(ops: list[Op]) -> bytes:
    out = bytearray()
    for value, run, width in ops:
        if value:
            out.append(0x80 | (value - 1) << 2 | (run - 1))
        elif width == 2:
            out += bytes((0x40 | (run - 1) >> 8, (run - 1) & 0xFF))
        else:
            out.append(run - 1)
    return bytes(out)


def _starts(ops: list[Op]) -> list[int]:
    """The first register each opcode covers."""
    starts, first = [], 0
    for op in ops:
        starts.append(first)
        first += op[1]
    return starts


class Sketch:
    """A HyperLogLog opened for work: its header, and either its dense registers (packed, as
    stored) or its sparse opcodes. ``to_bytes`` gives back Redis's string for it.

    Methods that read a sparse code raise INVALIDOBJ (Redis's "Corrupted HLL object") when it
    does not cover exactly 16384 registers; a sketch may have changed before that was found,
    as Redis's does (PFADD stores what it changed before failing).
    """

    __slots__ = ("header", "packed", "ops", "starts", "size", "short_tail", "sparse_max")

    def __init__(self, value: bytes, sparse_max: int = 3000) -> None:
        """Open a string that passed ``is_valid``. ``sparse_max`` is hll-sparse-max-bytes."""
        self.header = bytearray(value[:HEADER_SIZE])
        self.sparse_max = sparse_max
        self.packed: bytearray | None = None  # a dense sketch's register area
        self.ops: list[Op] = []
        self.starts: list[int] = []
        self.short_tail = False
        self.size = len(value)  # the string's length, as the sparse size limit counts it
        if value[4] == DENSE:
            self.packed = bytearray(value[HEADER_SIZE:])
        else:
            self._load_sparse(value[HEADER_SIZE:])

    @classmethod
    def empty(cls, sparse_max: int = 3000) -> Sketch:
        """A new sketch as Redis creates one: sparse, one XZERO over every register."""
        return cls(EMPTY, sparse_max)

    def _load_sparse(self, code: bytes) -> None:
        self.ops, self.short_tail = _parse_sparse(code)
        self.starts = _starts(self.ops)
        self.size = HEADER_SIZE + len(code)

    # -- reading ---------------------------------------------------------------------------

    @property
    def encoding(self) -> int:
        return self.header[4]

    def to_bytes(self) -> bytes:
        if self.packed is not None:
            return bytes(self.header) + self.packed
        code = _encode_sparse(self.ops)
        return bytes(self.header) + (code[:-1] if self.short_tail else code)

    def count(self) -> int:
        """Estimate the cardinality and cache it in the header (where an overflowing estimate
        leaves the stale bit set, as in Redis)."""
        if self.packed is not None:
            histogram = raw_histogram(unpack(self.packed))
        else:
            self._check_span()
            histogram = [0] * 64
            for value, run, _ in self.ops:
                histogram[value] += run
        card = estimate(histogram)
        self.header[8:16] = card.to_bytes(8, "little")
        return card

    def merge_into(self, registers: bytearray) -> None:
        """Raise each of ``registers`` to this sketch's value where it is higher."""
        if self.packed is not None:
            registers[:] = bytes(map(max, registers, unpack(self.packed)))
            return
        self._check_span()
        index = 0
        for value, run, _ in self.ops:
            if value:
                for i in range(index, index + run):
                    if registers[i] < value:
                        registers[i] = value
            index += run

    def _check_span(self) -> None:
        """A sparse code must cover exactly the 16384 registers, no opcode running past them
        (the redis-server 7.0.15 we follow has the CVE-2025-32023 fix, which refuses an
        opcode past the end even once all registers are covered)."""
        if sum(op[1] for op in self.ops) != REGISTERS:
            raise CommandError(HLL_CORRUPTED)

    def dense_registers(self) -> bytearray:
        """The registers, one byte each (the sketch turns dense first)."""
        self.to_dense()
        assert self.packed is not None
        return unpack(self.packed)

    def decode(self) -> str:
        """PFDEBUG DECODE's text: the sparse opcodes, ``z:len``, ``Z:len`` and ``v:value,len``."""
        words = []
        for value, run, width in self.ops:
            if value:
                words.append(f"v:{value},{run}")
            else:
                words.append(f"{'Z' if width == 2 else 'z'}:{run}")
        return " ".join(words)

    # -- writing ---------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Mark the cached cardinality stale."""
        self.header[15] |= _STALE

    def add(self, elements: Iterable[bytes]) -> int:
        """Offer each element to its register, in order; return how many raised one (Redis's
        count for PFADD's reply and dirty count). The cache goes stale when any did."""
        updated = 0
        for element in elements:
            index, value = position(element)
            if self.set(index, value):
                updated += 1
        if updated:
            self.invalidate()
        return updated

    def set(self, index: int, value: int) -> bool:
        """Raise register ``index`` to ``value`` if it is lower; whether it changed."""
        packed = self.packed
        if packed is None:
            return self._sparse_set(index, value)
        bit = index * 6  # the register's 6 bits, from the low bits of a byte up
        at, shift = bit >> 3, bit & 7
        word = packed[at] | (packed[at + 1] << 8 if shift > 2 else 0)
        if (word >> shift) & 63 >= value:
            return False
        word = word & ~(63 << shift) | value << shift
        packed[at] = word & 0xFF
        if shift > 2:  # the register runs into the next byte
            packed[at + 1] = word >> 8
        return True

    def raise_all(self, registers: bytes | bytearray) -> None:
        """Raise every register to at least its value in ``registers`` (PFMERGE's result)."""
        if self.packed is not None:
            self.packed[:] = pack(bytes(map(max, registers, unpack(self.packed))))
            return
        for index, value in enumerate(registers):
            if value:
                self.set(index, value)

    def to_dense(self) -> bool:
        """Turn a sparse sketch dense (the header, cached count included, is kept); whether it
        was sparse."""
        if self.packed is not None:
            return False
        self._check_span()
        registers = bytearray(REGISTERS)
        index = 0
        for value, run, _ in self.ops:
            if value:
                registers[index : index + run] = bytes((value,)) * run
            index += run
        self.packed = bytearray(pack(registers))
        self.header[4] = DENSE
        self.ops, self.starts, self.short_tail = [], [], False
        self.size = DENSE_SIZE
        return True

    def _sparse_set(self, index: int, value: int) -> bool:
        """Redis's hllSparseSet: find the opcode covering ``index``, split it around the new
        VAL, merge equal VALs near it, or turn dense instead (a value over 32, or a code that
        would outgrow ``sparse_max``)."""
        if value > _VAL_MAX:
            return self._promote(index, value)
        ops, starts = self.ops, self.starts
        i = bisect_right(starts, index) - 1
        if i < 0 or index >= starts[i] + ops[i][1]:
            raise CommandError(HLL_CORRUPTED)  # no opcode covers the register
        old, run, width = ops[i]
        if old >= value:  # only a VAL can be: a new value is at least 1
            return False
        if run == 1 and (old or width == 1):  # a VAL or ZERO of one register: rewritten in place
            ops[i] = (value, 1, 1)
        else:
            first = starts[i]
            last = first + run - 1
            before = index - first
            after = last - index
            piece = _zero_run if not old else (lambda n: (old, n, 1))
            seq = [piece(before)] if before else []
            seq.append((value, 1, 1))
            if after:
                seq.append(piece(after))
            delta = sum(op[2] for op in seq) - width
            if delta > 0 and self.size + delta > self.sparse_max:
                return self._promote(index, value)
            ops[i : i + 1] = seq
            skip = 0 if before else 1
            starts[i : i + 1] = [first, index, index + 1][skip : skip + len(seq)]
            self.size += delta
            if self.short_tail and i + len(seq) == len(ops):
                # The split opcode was the truncated last one: Redis's copy of the new
                # sequence loses its last byte the same way. Read back what is left.
                self._load_sparse(self.to_bytes()[HEADER_SIZE:])
        self._merge_from(max(i - 1, 0))
        self.invalidate()
        return True

    def _merge_from(self, j: int) -> None:
        """Merge adjacent VALs of equal value (up to 4 registers) over at most five opcodes
        from the ``j``-th, as Redis does after an update."""
        ops, starts = self.ops, self.starts
        steps = 5
        while j < len(ops) and steps:
            steps -= 1
            value, run, _ = ops[j]
            if value and j + 1 < len(ops):
                after, more, _ = ops[j + 1]
                if after == value and run + more <= _VAL_MAX_RUN:
                    ops[j] = (value, run + more, 1)
                    del ops[j + 1], starts[j + 1]
                    self.size -= 1
                    continue  # and try the merged one against its right neighbour
            j += 1

    def _promote(self, index: int, value: int) -> bool:
        self.to_dense()
        return self.set(index, value)  # the register was lower: a sparse one holds at most 32


def _new_string() -> bytes:
    header = MAGIC + bytes((SPARSE, 0, 0, 0)) + bytes(8)
    return header + _encode_sparse([(0, _XZERO_MAX_RUN, 2)] * (REGISTERS // _XZERO_MAX_RUN))


EMPTY = _new_string()


# --- PFSELFTEST ------------------------------------------------------------------------------


def self_test(sparse_max: int, rounds: int = 20, checkpoints: int = 4) -> str | None:
    """A self-test of this implementation, as PFSELFTEST's (scaled to run well under a second
    in Python): dense registers keep random values without disturbing their neighbours; and
    distinct elements added to a dense and a sparse sketch at once give the same estimate,
    within six standard errors of the truth at 1, 10, 100... elements, the sparse one staying
    sparse while it is small. Returns None, or what failed in Redis's TESTFAILED wording."""
    chance = random.Random()
    for _ in range(rounds):
        values = chance.randbytes(REGISTERS).translate(_LOW6)
        back = unpack(pack(values))
        if back != values:
            i = next(i for i in range(REGISTERS) if back[i] != values[i])
            return f"Register {i} should be {values[i]} but is {back[i]}"
    dense = Sketch.empty(sparse_max)
    dense.to_dense()
    sparse = Sketch.empty(sparse_max)
    relative_error = 1.04 / math.sqrt(REGISTERS)
    seed = chance.getrandbits(64)
    checkpoint = 1
    for j in range(1, 10**checkpoints + 1):
        element = (j ^ seed).to_bytes(8, "little")
        dense.add((element,))
        sparse.add((element,))
        if j != checkpoint:
            continue
        if j < sparse_max // 2 and sparse.encoding != SPARSE:
            return "sparse encoding not used"
        card = dense.count()
        if card != sparse.count():
            return "dense/sparse disagree"
        max_error = 1 if j == 10 else math.ceil(relative_error * 6 * checkpoint)
        if abs(checkpoint - card) > max_error:
            return f"Too big error. card:{checkpoint} abserr:{abs(checkpoint - card)}"
        checkpoint *= 10
    return None
