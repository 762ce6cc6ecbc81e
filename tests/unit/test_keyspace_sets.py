"""SetValue's API (keyspace/sets.py) on its own: what the handlers, persistence and eviction
rely on, whatever the representation behind it. (The commands against redis-server:
tests/differential/test_sets.py.)"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from respserver.keyspace.database import copy_value, type_name
from respserver.keyspace.sets import (
    SetValue,
    difference,
    intersection,
    intersection_size,
    union,
)
from respserver.security.eviction import MEMBER_COST, value_size


def test_add_remove_discard_and_membership() -> None:
    s = SetValue()
    assert not s and len(s) == 0
    assert s.add([b"a", b"b", b"a"]) == 2
    assert s.add([b"b", b"c"]) == 1
    assert b"a" in s and b"z" not in s and sorted(s) == [b"a", b"b", b"c"]
    assert s.remove([b"a", b"z", b"a"]) == 1
    assert s.discard(b"b") and not s.discard(b"b")
    assert s == SetValue([b"c"]) and s != SetValue([b"c", b"d"]) and s != {b"c"}


def test_random_members() -> None:
    members = {b"%d" % i for i in range(20)}
    s = SetValue(members)
    chosen = s.sample(5)
    assert len(set(chosen)) == 5 and set(chosen) <= members
    assert sorted(s.sample(50)) == sorted(members)  # a count past the size: all, once each
    repeats = s.choices(100)
    assert len(repeats) == 100 and set(repeats) <= members and len(set(repeats)) < 100
    assert SetValue().choices(3) == []
    popped = s.pop(7)
    assert len(set(popped)) == 7 and not set(popped) & set(s) and len(s) == 13
    assert sorted(s.pop(100) + popped) == sorted(members) and not s


def test_intset_order_follows_redis_rules() -> None:
    assert SetValue([b"10", b"-2", b"3"]).intset_order(512) == [b"-2", b"3", b"10"]
    assert SetValue([b"1", b"2"]).intset_order(1) is None  # past set-max-intset-entries
    for not_integer in (b"a", b"01", b"-0", b"+1", b" 1", b"9223372036854775808"):
        assert SetValue([b"1", not_integer]).intset_order(512) is None, not_integer


def test_algebra_returns_independent_sets() -> None:
    a, b, c = SetValue([b"1", b"2", b"3"]), SetValue([b"2", b"3", b"4"]), SetValue([b"3"])
    assert intersection([a, b, c]) == SetValue([b"3"])
    assert union([a, c]) == a and union([a, c]) is not a
    assert union([]) == SetValue()
    assert difference(a, [b]) == SetValue([b"1"]) and difference(a, []) is not a
    assert intersection_size([a, b]) == 2 and intersection_size([a, b], limit=1) == 1
    assert intersection_size([a, b], limit=5) == 2
    only = intersection([a])
    only.add([b"9"])
    assert b"9" not in a


def test_copy_and_type_name() -> None:
    s = SetValue([b"a"])
    duplicate = copy_value(s)
    assert isinstance(duplicate, SetValue) and duplicate == s and duplicate is not s
    duplicate.add([b"b"])
    assert b"b" not in s
    assert type_name(s) == b"set"


def test_memory_estimate_grows_with_members() -> None:
    small, big = SetValue([b"abc"]), SetValue([b"abc", b"defgh"])
    assert value_size(b"k", big, False) - value_size(b"k", small, False) == MEMBER_COST + 5
    assert small.payload() == 3
    big.add([b"xy", b"abc"])
    big.remove([b"defgh", b"nope"])
    big.pop(1)
    assert big.payload() == sum(map(len, big))  # kept up to date, not recounted
    big.pop(5)
    assert big.payload() == 0


MEMBERS = st.sampled_from([b"a", b"b", b"", b"1", b"-2", b"x" * 30])
OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "discard", "pop"]), st.lists(MEMBERS, max_size=4)),
    max_size=40,
)


@settings(max_examples=300)
@given(OPERATIONS)
def test_behaves_as_a_set(operations: list[tuple[str, list[bytes]]]) -> None:
    """Any sequence of writes leaves it equal to a plain set given the same (its list and
    its index of places stay in step through every swap-removal)."""
    s, model = SetValue(), set()
    for name, members in operations:
        if name == "add":
            assert s.add(members) == len(set(members) - model)
            model.update(members)
        elif name == "remove":
            assert s.remove(members) == len(set(members) & model)
            model.difference_update(members)
        elif name == "discard":
            for member in members:
                assert s.discard(member) == (member in model)
                model.discard(member)
        else:
            popped = s.pop(len(members))
            assert len(popped) == min(len(members), len(model)) and set(popped) <= model
            model.difference_update(popped)
        assert sorted(s) == sorted(model) and len(s) == len(model)
        assert all(member in s for member in model) and s.payload() == sum(map(len, model))
