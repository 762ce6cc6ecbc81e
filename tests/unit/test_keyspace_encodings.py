"""OBJECT ENCODING's names from a value's contents and the thresholds (keyspace/encodings.py)."""

from __future__ import annotations

import pytest

from respserver.keyspace.encodings import Thresholds, encoding, shared_integer
from respserver.keyspace.lists import ListValue
from respserver.keyspace.sets import SetValue
from respserver.keyspace.zsets import Limits, ZSetValue

DEFAULTS = Thresholds()


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (b"0", b"int"),
        (b"-9223372036854775808", b"int"),
        (b"9223372036854775808", b"embstr"),  # 19 digits past LONG_MAX: no long
        (b"007", b"embstr"),
        (b"-0", b"embstr"),
        (b"", b"embstr"),
        (b"x" * 44, b"embstr"),
        (b"x" * 45, b"raw"),
    ],
)
def test_strings(value, name):
    assert encoding(value, DEFAULTS) == name


def test_hashes_follow_both_thresholds():
    limits = Thresholds(hash_entries=2, hash_value=3)
    assert encoding({b"a": b"123", b"b": b"1"}, limits) == b"listpack"
    assert encoding({b"a": b"1", b"b": b"1", b"c": b"1"}, limits) == b"hashtable"
    assert encoding({b"a": b"1234"}, limits) == b"hashtable"
    assert encoding({b"abcd": b"1"}, limits) == b"hashtable"


def test_lists_sets_and_sorted_sets():
    assert encoding(ListValue([b"a"]), DEFAULTS) == b"quicklist"
    assert encoding(SetValue([b"1", b"-2"]), Thresholds(set_entries=2)) == b"intset"
    assert encoding(SetValue([b"1", b"2", b"3"]), Thresholds(set_entries=2)) == b"hashtable"
    assert encoding(SetValue([b"1", b"a"]), DEFAULTS) == b"hashtable"
    assert encoding(ZSetValue([(b"a", 1.0)]), DEFAULTS) == b"listpack"
    assert encoding(ZSetValue([(b"a", 1.0), (b"b", 2.0)], Limits(1, 64)), DEFAULTS) == b"skiplist"


def test_shared_integers():
    assert shared_integer(b"0") and shared_integer(b"9999")
    assert not shared_integer(b"10000") and not shared_integer(b"-1")
    assert not shared_integer(b"01") and not shared_integer({b"1": b"1"})
