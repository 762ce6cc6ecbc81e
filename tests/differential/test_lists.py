"""List commands against redis-server 7.0.15, RESP2 and RESP3: replies and errors byte for
byte, scripted and as random sequences (a hypothesis state machine over a few keys)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from tests.conftest import Diff
from tests.helpers.differential import run_on_both

pytestmark = pytest.mark.differential


def test_push_pop_and_length(play):
    play(
        """
        RPUSH l a b c a d a
        LPUSH l z
        LLEN l
        LRANGE l 0 -1
        LPOP l
        RPOP l
        LPOP l 2
        RPOP l 0
        RPOP l 10
        EXISTS l
        LPOP l
        LPOP l 2
        LLEN l
        LPUSHX l a
        RPUSHX l a b
        RPUSH l x
        LPUSHX l y z
        RPUSHX l w
        LRANGE l 0 -1
        """
    )


def test_pop_count_and_arity_errors(play):
    play(
        """
        RPUSH l a b
        LPOP l -1
        LPOP l x
        LPOP l 1 2
        RPOP nokey x
        RPOP nokey 1
        RPOP nokey
        LPOP l 0
        LPUSH
        LPUSH l
        """
    )


def test_ranges_and_indexes(play):
    play(
        """
        RPUSH l 0 1 2 3 4 5 6 7 8 9
        LRANGE l 0 -1
        LRANGE l -3 -1
        LRANGE l -100 100
        LRANGE l 5 2
        LRANGE l 20 30
        LRANGE l 0 x
        LRANGE nokey 0 -1
        LINDEX l 0
        LINDEX l -1
        LINDEX l 10
        LINDEX l -11
        LINDEX l x
        LINDEX nokey x
        LSET l 0 first
        LSET l -1 last
        LSET l 10 x
        LSET l x x
        LSET nokey 0 x
        LRANGE l 0 -1
        """
    )


def test_trim_remove_insert(play):
    play(
        """
        RPUSH l a b a c a d
        LREM l 1 a
        LREM l -1 a
        LREM l 0 zz
        LREM l x a
        LREM nokey 1 a
        LRANGE l 0 -1
        LINSERT l BEFORE b B
        LINSERT l after d D
        LINSERT l AFTER nope x
        LINSERT l middle b x
        LINSERT nokey before b x
        LRANGE l 0 -1
        LTRIM l 1 -2
        LRANGE l 0 -1
        LTRIM l 0 x
        LTRIM nokey 0 1
        LTRIM l 5 1
        EXISTS l
        RPUSH r a a a
        LREM r 0 a
        EXISTS r
        """
    )


def test_lpos(play):
    play(
        """
        RPUSH l a b c a b c a
        LPOS l a
        LPOS l a RANK 2
        LPOS l a RANK -1
        LPOS l a RANK -2 COUNT 2
        LPOS l a COUNT 0
        LPOS l a COUNT 2 MAXLEN 4
        LPOS l a RANK 2 MAXLEN 1
        LPOS l zz
        LPOS l zz COUNT 1
        LPOS l a RANK 0
        LPOS l a COUNT -1
        LPOS l a MAXLEN -1
        LPOS l a RANK x
        LPOS l a COUNT x
        LPOS l a RANK
        LPOS l a BOGUS 1
        LPOS nokey a
        LPOS nokey a COUNT 1
        """
    )


def test_lmove_and_rpoplpush(play):
    play(
        """
        RPUSH s 1 2 3
        LMOVE s d LEFT RIGHT
        LMOVE s d RIGHT LEFT
        LMOVE s s LEFT RIGHT
        LRANGE s 0 -1
        LMOVE s d UP RIGHT
        LMOVE s d left down
        RPOPLPUSH s d
        RPOPLPUSH s d
        EXISTS s
        LRANGE d 0 -1
        RPOPLPUSH nokey d
        RPUSH one x
        RPOPLPUSH one one
        LRANGE one 0 -1
        """
    )


def test_lmpop(play):
    play(
        """
        RPUSH b 1 2 3
        RPUSH c x
        LMPOP 3 a b c LEFT
        LMPOP 3 a b c RIGHT COUNT 10
        LMPOP 2 b c left count 5
        LMPOP 2 b c LEFT
        EXISTS b c
        LMPOP 1 a LEFT
        LMPOP 0 a LEFT
        LMPOP -1 a LEFT
        LMPOP x a LEFT
        LMPOP 2 a LEFT
        LMPOP 5 a b LEFT
        LMPOP 1 a UP
        LMPOP 1 a LEFT COUNT 0
        LMPOP 1 a LEFT COUNT x
        LMPOP 1 a LEFT COUNT 1 COUNT 2
        LMPOP 1 a LEFT BOGUS
        SET s v
        LMPOP 2 a s LEFT
        COMMAND GETKEYS LMPOP 2 a b LEFT
        COMMAND GETKEYS LMPOP 3 a b LEFT
        COMMAND GETKEYS LMPOP x a LEFT
        COMMAND GETKEYSANDFLAGS LMPOP 1 a RIGHT COUNT 2
        """
    )


def test_wrong_types_and_the_generic_commands(play):
    play(
        """
        SET str v
        LPUSH str a
        RPUSHX str a
        LRANGE str 0 1
        LLEN str
        LPOP str
        LINDEX str 0
        LPOS str a
        RPUSH l a b c
        GET l
        HGET l f
        LMOVE l str LEFT LEFT
        LMOVE str l LEFT LEFT
        TYPE l
        COPY l l2
        RPUSH l2 d
        LRANGE l 0 -1
        LRANGE l2 0 -1
        RENAME l2 l3
        LRANGE l3 0 -1
        EXPIRE l3 100
        TTL l3
        MOVE l3 1
        EXISTS l3
        SCAN 0 TYPE list
        DEL l
        """
    )


# --- random sequences ---------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "s"])
# Few distinct elements, so lists hold repeats for LREM, LPOS and LINSERT to choose between.
ELEMENTS = st.sampled_from(["x", "y", "1", "", "long" * 20])
INDEXES = st.integers(-6, 6).map(str) | st.sampled_from(["x", "9223372036854775808"])
SIDES = st.sampled_from(["LEFT", "RIGHT", "left", "middle"])
PUSHES = st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"])
LPOS_WORDS = st.sampled_from(["RANK", "COUNT", "MAXLEN"]) | INDEXES


class ListMachine(RuleBasedStateMachine):
    """Random list commands on a few keys (and one string key, "s"), sent to both servers."""

    diff: Diff

    @initialize()
    def start(self) -> None:
        self.diff.do("SET", "s", "string")

    @rule(cmd=PUSHES, key=KEYS, values=st.lists(ELEMENTS, min_size=1, max_size=8))
    def push(self, cmd, key, values):
        self.diff.do(cmd, key, *values)

    @rule(cmd=st.sampled_from(["LPOP", "RPOP"]), key=KEYS, count=st.none() | INDEXES)
    def pop(self, cmd, key, count):
        self.diff.do(cmd, key, *([] if count is None else [count]))

    @rule(key=KEYS, start=INDEXES, stop=INDEXES)
    def lrange(self, key, start, stop):
        self.diff.do("LRANGE", key, start, stop)

    @rule(key=KEYS, start=INDEXES, stop=INDEXES)
    def ltrim(self, key, start, stop):
        self.diff.do("LTRIM", key, start, stop)

    @rule(key=KEYS, index=INDEXES, value=ELEMENTS)
    def lset_lindex(self, key, index, value):
        self.diff.do("LSET", key, index, value)
        self.diff.do("LINDEX", key, index)

    @rule(key=KEYS, count=INDEXES, value=ELEMENTS)
    def lrem(self, key, count, value):
        self.diff.do("LREM", key, count, value)

    @rule(key=KEYS, where=st.sampled_from(["BEFORE", "after", "x"]), pivot=ELEMENTS, value=ELEMENTS)
    def linsert(self, key, where, pivot, value):
        self.diff.do("LINSERT", key, where, pivot, value)

    @rule(key=KEYS, value=ELEMENTS, options=st.lists(LPOS_WORDS, max_size=4))
    def lpos(self, key, value, options):
        self.diff.do("LPOS", key, value, *options)

    @rule(source=KEYS, destination=KEYS, wherefrom=SIDES, whereto=SIDES)
    def lmove(self, source, destination, wherefrom, whereto):
        self.diff.do("LMOVE", source, destination, wherefrom, whereto)

    @rule(keys=st.lists(KEYS, min_size=1, max_size=3), side=SIDES, count=st.none() | INDEXES)
    def lmpop(self, keys, side, count):
        options = [] if count is None else ["COUNT", count]
        self.diff.do("LMPOP", str(len(keys)), *keys, side, *options)

    @rule(key=KEYS)
    def inspect(self, key):
        self.diff.do("LLEN", key)
        self.diff.do("LRANGE", key, "0", "-1")
        self.diff.do("TYPE", key)


@pytest.mark.parametrize("protocol", [2, 3])
def test_random_list_commands_match_redis(resp_port, redis_port, protocol):
    run_on_both(ListMachine, resp_port, redis_port, protocol)
