"""The sans-IO request parser on its own (respserver/resp/parser.py), no sockets, no Trio:
pipelines split anywhere, inline commands, and bad frames refused with Redis's wording."""

from __future__ import annotations

import hiredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from respserver.resp.parser import RequestParser, split_inline

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


def test_empty_line_after_a_frame_split_across_reads():
    # redis-cli --pipe sends "\r\n" before its closing ECHO; here the read before it ended
    # inside a frame, so the empty inline line starts in the middle of a later read.
    wire = hiredis.pack_command(("SET", "k", "v")) + b"\r\n" + hiredis.pack_command(("PING",))
    for cut in range(1, len(wire)):
        parser = RequestParser()
        got = parser.feed(wire[:cut]) + parser.feed(wire[cut:])
        assert parser.error is None, cut
        assert got == [[b"SET", b"k", b"v"], [b"PING"]]
