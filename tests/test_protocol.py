"""The sans-IO RESP layer on its own: no sockets, no Trio."""

from __future__ import annotations

import hiredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from respserver.errors import CommandError
from respserver.resp.encoder import encode
from respserver.resp.parser import RequestParser, split_inline
from respserver.resp.types import NULL_ARRAY, OK, Push, RespSet, SimpleString, Verbatim

# -- replies -------------------------------------------------------------------------------------


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


# -- requests ------------------------------------------------------------------------------------

commands = st.lists(
    st.lists(st.binary(max_size=30), min_size=1, max_size=6), min_size=1, max_size=8
)


def pack(cmds):
    return b"".join(hiredis.pack_command(tuple(c)) for c in cmds)


@settings(max_examples=300, deadline=None)
@given(commands, st.data())
def test_any_split_of_a_pipeline_yields_the_same_commands(cmds, data):
    wire = pack(cmds)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    parser = RequestParser()
    got = []
    start = 0
    for cut in [*cuts, len(wire)]:
        got += parser.feed(wire[start:cut])
        start = cut
    assert parser.error is None
    assert got == cmds


def test_every_single_byte_split():
    cmds = [[b"SET", b"k", b"v\r\n*1\r\n"], [b"GET", b"k"], [b"PING"]]
    wire = pack(cmds)
    for cut in range(len(wire) + 1):
        parser = RequestParser()
        assert parser.feed(wire[:cut]) + parser.feed(wire[cut:]) == cmds


def test_inline_commands_mix_with_multibulk():
    parser = RequestParser()
    got = parser.feed(b"PING\r\nset a 'b c'\n*1\r\n$4\r\nPING\r\nECHO \"x\\ty\"\r\n")
    assert got == [[b"PING"], [b"set", b"a", b"b c"], [b"PING"], [b"ECHO", b"x\ty"]]
    assert parser.feed(b"GE") == []
    assert parser.feed(b"T k\r\n") == [[b"GET", b"k"]]


@pytest.mark.parametrize(
    ("line", "args"),
    [
        (b"a b  c", [b"a", b"b", b"c"]),
        (b'"a b" c', [b"a b", b"c"]),
        (b"'it\\'s'", [b"it's"]),
        (b'"\\x41\\n"', [b"A\n"]),
        (b"", []),
    ],
)
def test_inline_splitting_follows_sdssplitargs(line, args):
    assert split_inline(line) == args


@pytest.mark.parametrize(
    ("wire", "message", "before"),
    [
        (b"*1\r\n:5\r\n", "expected '$', got ':'", []),
        (b"*1\r\n$4\r\nPING\r\n*1\r\n:5\r\n", "expected '$', got ':'", [[b"PING"]]),
        (b"*3000000000\r\n", "invalid multibulk length", []),
        (b"*1\r\n$4\r\nPING\r\n*2000000000\r\n", "invalid multibulk length", [[b"PING"]]),
        (b"*1\r\n*3000000000\r\n", "expected '$', got '*'", []),
        (b"*x\r\n", "invalid multibulk length", []),
        (b"*1\r\n$600000000\r\n", "invalid bulk length", []),
        (b"*1\r\n$-5\r\n", "invalid bulk length", []),
        (b'SET "a\r\n', "unbalanced quotes in request", []),
        pytest.param(b"x" * (64 * 1024 + 1), "too big inline request", [], id="64k-inline"),
    ],
)
def test_bad_frames_stop_the_stream_with_redis_wording(wire, message, before):
    parser = RequestParser()
    assert parser.feed(wire) == before
    assert parser.error is not None
    assert parser.error.reply.message == f"ERR Protocol error: {message}"


def test_a_payload_that_looks_like_a_huge_count_is_just_data():
    parser = RequestParser()
    wire = hiredis.pack_command(("SET", "k", "\r\n*2000000000\r\n"))
    assert parser.feed(wire) == [[b"SET", b"k", b"\r\n*2000000000\r\n"]]
    assert parser.error is None


def test_bulk_length_cap_is_configurable():
    parser = RequestParser(max_bulk_len=10)
    parser.feed(b"*1\r\n$11\r\n")
    assert parser.error.reply.message == "ERR Protocol error: invalid bulk length"


def test_empty_multibulk_is_ignored_like_redis():
    parser = RequestParser()
    assert parser.feed(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n") == [[b"PING"]]
    assert parser.error is None


def test_simple_string_is_a_simple_string():
    assert type(OK) is SimpleString and OK == b"OK"


def test_empty_line_after_a_frame_split_across_reads():
    # redis-cli --pipe sends "\r\n" before its closing ECHO; here the read before it ended
    # inside a frame, so the empty inline line starts in the middle of a later read.
    wire = hiredis.pack_command(("SET", "k", "v")) + b"\r\n" + hiredis.pack_command(("PING",))
    for cut in range(1, len(wire)):
        parser = RequestParser()
        got = parser.feed(wire[:cut]) + parser.feed(wire[cut:])
        assert parser.error is None, cut
        assert got == [[b"SET", b"k", b"v"], [b"PING"]]
