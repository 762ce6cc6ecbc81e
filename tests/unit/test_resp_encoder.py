"""The sans-IO reply encoder on its own (respserver/resp/encoder.py and resp/types.py), no
sockets, no Trio: every reply type in RESP2 and RESP3, read back by hiredis."""

from __future__ import annotations

import hiredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from respserver.errors import CommandError
from respserver.resp.encoder import encode
from respserver.resp.types import NULL_ARRAY, OK, Push, RespSet, SimpleString, Verbatim


@pytest.mark.parametrize(
    ("reply", "resp2", "resp3"),
    [
        (b"abc", b"$3\r\nabc\r\n", b"$3\r\nabc\r\n"),
        (b"", b"$0\r\n\r\n", b"$0\r\n\r\n"),
        (-12, b":-12\r\n", b":-12\r\n"),
        (None, b"$-1\r\n", b"_\r\n"),
        (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
        (OK, b"+OK\r\n", b"+OK\r\n"),
        ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
        ({b"k": 1}, b"*2\r\n$1\r\nk\r\n:1\r\n", b"%1\r\n$1\r\nk\r\n:1\r\n"),
        (RespSet([b"x"]), b"*1\r\n$1\r\nx\r\n", b"~1\r\n$1\r\nx\r\n"),
        (Push([b"x"]), b"*1\r\n$1\r\nx\r\n", b">1\r\n$1\r\nx\r\n"),
        (True, b":1\r\n", b"#t\r\n"),
        (False, b":0\r\n", b"#f\r\n"),
        (1.5, b"$3\r\n1.5\r\n", b",1.5\r\n"),
        (float("inf"), b"$3\r\ninf\r\n", b",inf\r\n"),
        (0.1, b"$19\r\n0.10000000000000001\r\n", b",0.10000000000000001\r\n"),
        (Verbatim(b"hi"), b"$2\r\nhi\r\n", b"=6\r\ntxt:hi\r\n"),
        (CommandError("ERR boom"), b"-ERR boom\r\n", b"-ERR boom\r\n"),
    ],
)
def test_encoding_in_both_protocols(reply, resp2, resp3):
    assert encode(reply, resp3=False) == resp2
    assert encode(reply, resp3=True) == resp3


def test_unknown_reply_type_is_a_bug_not_garbage():
    with pytest.raises(TypeError):
        encode(object())


replies = st.recursive(
    st.binary(max_size=20) | st.integers(-(2**63), 2**63 - 1) | st.none(),
    lambda children: st.lists(children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(replies)
def test_hiredis_reads_back_what_we_encode(reply):
    for resp3 in (False, True):
        reader = hiredis.Reader()
        reader.feed(encode(reply, resp3))
        assert reader.gets() == reply


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.binary(max_size=8), st.integers(0, 99) | st.binary(max_size=8), max_size=5)
)
def test_maps_degrade_to_flat_arrays_in_resp2(mapping):
    reader = hiredis.Reader()
    reader.feed(encode(mapping, resp3=False))
    flat = [x for pair in mapping.items() for x in pair]
    assert reader.gets() == flat
    reader.feed(encode(mapping, resp3=True))
    assert reader.gets() == mapping


def test_simple_string_is_a_simple_string():
    assert type(OK) is SimpleString and OK == b"OK"
