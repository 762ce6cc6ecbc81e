"""The HyperLogLog representation (keyspace/hyperloglog.py) on its own: register packing, the
estimator's edges, the sparse code's bookkeeping, and that PFSELFTEST's self-test catches a
broken implementation. (The commands and strings against redis-server:
tests/differential/test_hyperloglog.py.)"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from respserver.errors import HLL_CORRUPTED, CommandError
from respserver.keyspace import hyperloglog as hll
from respserver.keyspace.hyperloglog import EMPTY, REGISTERS, Sketch, estimate, pack, unpack


@given(st.integers(0, 2**32), st.integers(1, 63))
@settings(max_examples=20)
def test_dense_registers_round_trip(seed: int, top: int) -> None:
    registers = bytes(random.Random(seed).choices(range(top + 1), k=REGISTERS))
    assert unpack(pack(registers)) == registers
    assert pack(unpack(pack(registers))) == pack(registers)


def test_one_register_leaves_its_neighbours_alone() -> None:
    for index in (0, 1, 2, 3, 4, 8191, REGISTERS - 1):
        registers = bytearray(REGISTERS)
        registers[index] = 63
        assert [i for i, v in enumerate(unpack(pack(registers))) if v] == [index]


def test_estimates_at_the_edges() -> None:
    assert estimate([REGISTERS] + [0] * 63) == 0  # every register at 0
    assert estimate([0] * 63 + [REGISTERS]) == 1 << 63  # registers no element reaches
    one = [REGISTERS - 1, 1] + [0] * 62
    assert estimate(one) == 1


def test_sparse_updates_keep_the_code_consistent() -> None:
    rng = random.Random(3)
    sketch = Sketch(EMPTY)
    for _ in range(600):
        sketch.set(rng.randrange(REGISTERS), rng.randint(1, 32))
        assert sketch.starts == hll._starts(sketch.ops)
        assert sketch.size == len(sketch.to_bytes())
        assert sum(run for _, run, _ in sketch.ops) == REGISTERS
    assert Sketch(sketch.to_bytes()).ops == sketch.ops


def test_a_code_short_of_registers_is_corrupt() -> None:
    short = EMPTY[:16] + b"\x40\x63"  # XZERO:100
    with pytest.raises(CommandError, match=HLL_CORRUPTED):
        Sketch(short).count()
    with pytest.raises(CommandError, match=HLL_CORRUPTED):
        Sketch(short).set(5000, 3)
    assert Sketch(short).set(50, 3)


def test_the_self_test_passes_and_catches_a_broken_implementation(monkeypatch) -> None:
    assert hll.self_test(3000) is None
    with monkeypatch.context() as patched:
        patched.setattr(hll, "pack", lambda registers: pack(bytes(REGISTERS)))
        failure = hll.self_test(3000, rounds=1)
        assert failure is not None and failure.startswith("Register ")
    with monkeypatch.context() as patched:
        patched.setattr(hll, "estimate", lambda histogram: 7)
        assert hll.self_test(3000, rounds=1) == "Too big error. card:1 abserr:6"
    with monkeypatch.context() as patched:
        patched.setattr(hll, "_VAL_MAX", 0)  # every update turns the sketch dense
        assert hll.self_test(3000, rounds=1) == "sparse encoding not used"
