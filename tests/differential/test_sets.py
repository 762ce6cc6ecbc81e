"""Set commands against redis-server 7.0.15, RESP2 and RESP3: replies and errors byte for byte
where Redis's reply is deterministic, the same members and the same reply type and length where
only the order is open (SMEMBERS, SINTER...), and the same properties where chance picks the
members (SPOP, SRANDMEMBER); scripted and as random sequences (a hypothesis state machine).
Also the generic commands on sets, the dirty count, the AOF as Redis logs set commands, and
maxmemory's refusals. (RDB files with sets: tests/differential/test_rdb.py.)"""

from __future__ import annotations

import shlex

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from respserver.persistence import aof
from tests.conftest import Diff, RawConnection, parse
from tests.helpers.differential import assert_changes_as_redis, run_on_both
from tests.helpers.persistence import logged_by_both, persistent
from tests.helpers.respshape import elements

pytestmark = pytest.mark.differential

# Commands whose reply holds members in an order Redis leaves open (SPOP and SRANDMEMBER where
# their count takes the whole set).
UNORDERED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "SPOP", "SRANDMEMBER"}


def canonical(raw: bytes) -> object:
    """A reply with every aggregate's elements sorted, its type and length line kept: two
    replies that differ only in order are equal, a set (``~``) and an array (``*``) are not."""
    if raw[:1] not in b"*~%>|" or raw.startswith((b"*-1", b"_")):
        return raw
    head = raw[: raw.index(b"\r\n")]
    return head, sorted(repr(canonical(item)) for item in elements(raw))


def do_unordered(diff: Diff, *args: object) -> bytes:
    """Assert the replies are the same but for the order of members; return ours."""
    ours, real = diff.both(*args)
    assert canonical(ours) == canonical(real), (
        f"{args!r}:\n  respserver:   {ours!r}\n  redis-server: {real!r}"
    )
    return ours


def send(diff: Diff, *args: str) -> bytes:
    """Compare as Redis allows: byte for byte, or but for the order of members."""
    if args[0].upper() in UNORDERED:
        return do_unordered(diff, *args)
    return diff.do(*args)


@pytest.fixture
def play(diff):
    """``play(script)``: each line (shell-quoted words; # comments) to both servers, compared
    byte for byte, or regardless of order for the commands in UNORDERED."""

    def run(script: str) -> None:
        for line in script.strip().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                send(diff, *shlex.split(line))

    return run


def test_add_remove_and_membership(play):
    play(
        """
        SADD s a b c a
        SADD s c d
        SADD s 1 -2 3.5 ""
        SCARD s
        SMEMBERS s
        SISMEMBER s a
        SISMEMBER s zz
        SISMEMBER nokey a
        SMISMEMBER s a zz b a
        SMISMEMBER nokey a b
        SREM s a zz a
        SREM s zz
        SREM nokey a
        SMEMBERS s
        SMEMBERS nokey
        SCARD nokey
        SREM s b c d 1 -2 3.5 ""
        EXISTS s
        SADD ints 3 1 2 -5 9223372036854775807 -9223372036854775808
        SMEMBERS ints
        SADD
        SADD s
        SREM s
        SMISMEMBER s
        SISMEMBER s
        SISMEMBER s a b
        SCARD s x
        SMEMBERS s x
        """
    )


def test_smove(play):
    play(
        """
        SADD src a b c
        SADD dst c
        SMOVE src dst a
        SMOVE src dst c
        SMOVE src dst zz
        SMOVE src src b
        SMOVE src src zz
        SMOVE src new b
        SMEMBERS src
        SMEMBERS dst
        SMEMBERS new
        SMOVE src dst c
        EXISTS src
        SMOVE nokey dst a
        SET str v
        SMOVE nokey str a
        SMOVE dst str c
        SMOVE str dst a
        SMEMBERS dst
        SMOVE dst new
        """
    )


def test_algebra(play):
    play(
        """
        SADD a 1 2 3 4 x
        SADD b 2 3 y
        SADD c 3 4 y z
        SINTER a b
        SINTER a b c
        SINTER a
        SINTER a nokey
        SINTER nokey
        SUNION a b c
        SUNION nokey a
        SUNION nokey
        SDIFF a b
        SDIFF a b c
        SDIFF a a
        SDIFF a nokey
        SDIFF nokey a
        SDIFF b c a
        SINTERSTORE d a b
        SMEMBERS d
        SUNIONSTORE d a c
        SMEMBERS d
        SDIFFSTORE d a c
        SMEMBERS d
        SINTERSTORE d a nokey
        EXISTS d
        SINTERSTORE d a nokey
        SDIFFSTORE d a a
        SUNIONSTORE d nokey
        SUNIONSTORE a a b
        SMEMBERS a
        SDIFFSTORE b b c
        SMEMBERS b
        SET str v
        SINTER a str
        SINTER nokey str
        SUNION a str
        SDIFF nokey str
        SINTERSTORE d nokey str
        SUNIONSTORE str a
        TYPE str
        SMEMBERS str
        SET str v EX 100
        SINTERSTORE str a a
        TTL str
        SINTER
        SINTERSTORE d
        SUNIONSTORE
        SDIFF
        """
    )


def test_sintercard(play):
    play(
        """
        SADD a 1 2 3 4 5
        SADD b 2 3 4 5 6
        SADD c 3 4 5 7
        SINTERCARD 1 a
        SINTERCARD 2 a b
        SINTERCARD 3 a b c
        SINTERCARD 3 a b c LIMIT 2
        SINTERCARD 3 a b c limit 0
        SINTERCARD 3 a b c LIMIT 10
        SINTERCARD 3 a b c LIMIT 1 LIMIT 2
        SINTERCARD 2 a nokey
        SINTERCARD 1 nokey
        SINTERCARD 0 a
        SINTERCARD -1 a
        SINTERCARD x a
        SINTERCARD 9223372036854775808 a
        SINTERCARD 3 a b
        SINTERCARD 1 a LIMIT -1
        SINTERCARD 1 a LIMIT x
        SINTERCARD 1 a LIMIT
        SINTERCARD 1 a BOGUS 1
        SINTERCARD 2 a b c
        SET str v
        SINTERCARD 2 nokey str
        SINTERCARD 2 a str LIMIT x
        SINTERCARD 1
        COMMAND GETKEYS SINTERCARD 2 a b LIMIT 1
        COMMAND GETKEYS SINTERCARD 3 a b
        COMMAND GETKEYS SINTERCARD x a
        COMMAND GETKEYS SINTERSTORE d a b
        """
    )


def test_spop_and_srandmember_errors_and_deterministic_cases(play):
    play(
        """
        SADD s a b c
        SPOP s x
        SPOP s -1
        SPOP s 1 2
        SPOP s 9223372036854775808
        SPOP nokey
        SPOP nokey 0
        SPOP nokey 5
        SPOP nokey x
        SPOP s 0
        SRANDMEMBER s x
        SRANDMEMBER s 1 2
        SRANDMEMBER s -9223372036854775808
        SRANDMEMBER s 9223372036854775808
        SRANDMEMBER nokey
        SRANDMEMBER nokey 0
        SRANDMEMBER nokey 5
        SRANDMEMBER nokey -5
        SRANDMEMBER nokey x
        SRANDMEMBER s 0
        SADD one only
        SRANDMEMBER one
        SRANDMEMBER one 1
        SRANDMEMBER one -3
        SPOP one
        EXISTS one
        SADD one only
        SPOP one 1
        EXISTS one
        SET str v
        SPOP str
        SPOP str 2
        SPOP str x
        SRANDMEMBER str
        SRANDMEMBER str -2
        SPOP
        SRANDMEMBER
        """
    )


def header(raw: bytes) -> bytes:
    """A reply's first line: its type and length."""
    return raw[: raw.index(b"\r\n")]


def _members(raw: bytes) -> list[bytes]:
    return [parse(item) for item in elements(raw)]


def test_spop_properties(diff):
    """Random members: the same reply shape as Redis's, members of the set, distinct, and
    gone from it afterwards."""
    start = [b"m%d" % i for i in range(20)] + [b"%d" % i for i in range(10)]
    for conn in (diff.ours, diff.real):
        conn.call("SADD", "s", *start)
    left = set(start)
    for count in ("3", "1", "10"):
        ours, real = diff.both("SPOP", "s", count)
        kind = b"~" if diff.protocol == 3 else b"*"
        assert header(ours) == header(real) == kind + count.encode()
        popped = _members(ours)
        assert len(set(popped)) == len(popped) == int(count) and set(popped) <= left
        left -= set(popped)
        assert set(parse(diff.ours.call("SMEMBERS", "s"))) == left
        diff.real.call("SADD", "s", *_members(real))  # the oracle's members back, ours out:
        diff.real.call("SREM", "s", *popped)  # the same set on both again
        do_unordered(diff, "SMEMBERS", "s")
    single = diff.ours.call("SPOP", "s")
    assert single[:1] == b"$" and parse(single) in left
    diff.real.call("SREM", "s", parse(single))
    do_unordered(diff, "SPOP", "s", "100")  # the whole set, a set reply, the key gone
    diff.do("EXISTS", "s")


def test_srandmember_properties(diff):
    start = {b"m%d" % i for i in range(20)}
    for conn in (diff.ours, diff.real):
        conn.call("SADD", "s", *start)
    for count in (1, 5, 19, -1, -5, -50):
        ours, real = diff.both("SRANDMEMBER", "s", str(count))
        assert header(ours) == header(real) == b"*%d" % abs(count)
        chosen = _members(ours)
        assert len(chosen) == abs(count) and set(chosen) <= start
        if count > 0:
            assert len(set(chosen)) == count
    # -50 of 20 members repeats some; 200 draws of 20 leave none out, but for bad luck
    many = _members(diff.ours.call("SRANDMEMBER", "s", "-200"))
    assert len(many) == 200 and set(many) == start
    do_unordered(diff, "SRANDMEMBER", "s", "20")  # the whole set
    do_unordered(diff, "SRANDMEMBER", "s", "1000")
    one = diff.ours.call("SRANDMEMBER", "s")
    assert one[:1] == b"$" and parse(one) in start
    diff.do("SCARD", "s")  # nothing removed


def test_sscan(diff):
    """A whole iteration returns the same members (Redis's order is its hash table's); a set
    Redis keeps as an intset comes whole and ordered, so byte for byte."""
    diff.do("SADD", "ints", *[str(i) for i in range(-5, 50, 3)])
    diff.do("SSCAN", "ints", "0")
    diff.do("SSCAN", "ints", "0", "MATCH", "*1*", "COUNT", "1")
    diff.do("SADD", "small", "a", "b", "c")
    do_unordered(diff, "SSCAN", "small", "0", "COUNT", "100")
    members = [f"member:{i}" for i in range(700)] + [str(i) for i in range(100)]
    diff.do("SADD", "big", *members)
    diff.do("SADD", "bigints", *[str(i) for i in range(600)])  # past set-max-intset-entries
    for key, options in [
        ("big", ()),
        ("big", ("COUNT", "1")),
        ("big", ("COUNT", "1000")),
        ("big", ("MATCH", "member:1*")),
        ("big", ("MATCH", "*7", "COUNT", "20")),
        ("bigints", ("COUNT", "7")),
        ("small", ("MATCH", "a")),
    ]:
        ours, real = (sscan_union(conn, key, *options) for conn in (diff.ours, diff.real))
        assert ours == real, (key, options)
    for args in [
        ("big", "x"),
        ("big", "-1x"),
        ("big", "0", "COUNT", "0"),
        ("big", "0", "COUNT", "x"),
        ("big", "0", "MATCH"),
        ("big", "0", "TYPE", "set"),
        ("big", "0", "BOGUS", "1"),
        ("nokey", "0"),
        ("nokey", "0", "TYPE", "set"),
        ("nokey", "x"),
        ("ints", "0", "COUNT", "0"),
    ]:
        diff.do("SSCAN", *args)
    diff.do("SET", "str", "v")
    diff.do("SSCAN", "str", "0")
    diff.do("SSCAN", "str", "x")
    diff.do("SSCAN", "big")


def test_sscan_guarantee_under_writes(diff):
    """Members present for the whole iteration come back while the set grows and shrinks."""
    for conn in (diff.ours, diff.real):
        conn.call("SADD", "s", *[f"stay:{i}" for i in range(1000)])
        conn.call("SADD", "s", *[f"gone:{i}" for i in range(1000)])
        cursor, seen, calls = b"0", set(), 0
        while True:
            cursor, items = parse(conn.call("SSCAN", "s", cursor, "COUNT", "15"))
            seen.update(items)
            calls += 1
            if calls == 5:
                conn.call("SADD", "s", *[f"new:{i}" for i in range(4000)])
            if calls == 15:
                conn.call("SREM", "s", *[f"gone:{i}" for i in range(1000)])
            if cursor == b"0":
                break
            assert calls < 20_000
        assert {f"stay:{i}".encode() for i in range(1000)} <= seen
        assert all(member.startswith((b"stay:", b"gone:", b"new:")) for member in seen)


def sscan_union(conn, key: str, *options: str) -> set[bytes]:
    """The members a whole SSCAN iteration returns (a bounded number of calls)."""
    cursor, seen = b"0", set()
    for _ in range(100_000):
        cursor, items = parse(conn.call("SSCAN", key, cursor, *options))
        seen.update(items)
        if cursor == b"0":
            return seen
    raise AssertionError("SSCAN did not finish")


def test_watch_sees_only_real_changes(play):
    play(
        """
        SADD s a
        SADD t a b
        WATCH s
        SADD s a
        SREM s zz
        SPOP s 0
        SMOVE t s a
        SINTERSTORE nokey s missing
        MULTI
        SCARD t
        EXEC
        WATCH s
        SMOVE t s b
        MULTI
        SCARD s
        EXEC
        WATCH s
        SPOP s 5
        MULTI
        SCARD s
        EXEC
        """
    )


def test_wrong_types_and_the_generic_commands(play):
    play(
        """
        SET str v
        SADD str a
        SREM str a
        SMEMBERS str
        SISMEMBER str a
        SMISMEMBER str a
        SCARD str
        RPUSH l a
        SADD l a
        HSET h f v
        SINTER h
        SADD s a b c
        GET s
        HGET s f
        LPUSH s x
        LRANGE s 0 -1
        TYPE s
        COPY s s2
        SADD s2 d
        SMEMBERS s
        SMEMBERS s2
        RENAME s2 s3
        SMEMBERS s3
        EXISTS s2
        EXPIRE s3 100
        TTL s3
        SADD s3 e
        TTL s3
        SREM s3 e
        TTL s3
        MOVE s3 1
        EXISTS s3
        SELECT 1
        SMEMBERS s3
        SELECT 0
        SCAN 0 TYPE set
        SCAN 0 TYPE SET
        DEL s
        EXISTS s
        """
    )


def test_every_set_write_counts_as_in_redis(diff):
    assert_changes_as_redis(
        diff,
        [
            ("SADD", "s", "a", "b", "c", "a"),
            ("SADD", "s", "a"),
            ("SREM", "s", "a", "zz", "a"),
            ("SREM", "s", "zz"),
            ("SREM", "nokey", "a"),
            ("SADD", "t", "b", "x"),
            ("SMOVE", "s", "t", "b"),  # in both: only the removal counts
            ("SMOVE", "s", "t", "c"),  # the source emptied and deleted, the member added
            ("SMOVE", "t", "u", "x"),  # a new destination
            ("SMOVE", "t", "t", "b"),
            ("SMOVE", "nokey", "t", "b"),
            ("SADD", "p", "1", "2", "3", "4", "5", "6"),
            ("SPOP", "p"),
            ("SPOP", "p", "2"),
            ("SPOP", "p", "0"),
            ("SPOP", "p", "10"),  # the whole set: one per member
            ("SPOP", "nokey"),
            ("SADD", "a", "1", "2", "3"),
            ("SADD", "b", "2", "3", "4"),
            ("SINTERSTORE", "d", "a", "b"),
            ("SUNIONSTORE", "d", "a", "b"),
            ("SDIFFSTORE", "d", "a", "b"),
            ("SDIFFSTORE", "d", "a", "a"),  # empty: the destination deleted
            ("SDIFFSTORE", "d", "a", "a"),  # empty and nothing to delete
            ("SINTERSTORE", "d", "a", "nokey"),
            ("SRANDMEMBER", "a", "2"),
            ("SINTER", "a", "b"),
            ("SINTERCARD", "2", "a", "b"),
            ("SSCAN", "a", "0"),
        ],
        send=send_by_shape,
    )


def send_by_shape(diff: Diff, *args: str) -> None:
    """``send``, but SPOP's and SRANDMEMBER's replies compared by type and length only."""
    if args[0] in ("SPOP", "SRANDMEMBER"):
        ours, real = diff.both(*args)
        assert header(ours) == header(real), (args, ours, real)
    else:
        send(diff, *args)


def test_noeviction_refuses_sadd_and_the_stores_not_the_removals(diff):
    oom = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
    diff.do("SADD", "s", "a", "b", "c")
    diff.do("SADD", "t", "c")
    try:
        diff.do("CONFIG", "SET", "maxmemory", "1")
        for args in [
            ("SADD", "s", "d"),
            ("SINTERSTORE", "d", "s", "t"),
            ("SUNIONSTORE", "d", "s"),
            ("SDIFFSTORE", "d", "s"),
        ]:
            assert diff.do(*args) == oom, args
        for args in [
            ("SREM", "s", "a"),
            ("SMOVE", "s", "t", "b"),
            ("SPOP", "t", "5"),
            ("SCARD", "s"),
            ("SISMEMBER", "s", "c"),
        ]:
            assert send(diff, *args) != oom, args
    finally:
        for conn in (diff.ours, diff.real):
            conn.call("CONFIG", "SET", "maxmemory", "0")


def test_query_ignores_sets(diff):
    diff.ours.call("SADD", "k:set", "f", "v")
    diff.ours.call("HSET", "k:hash", "f", "v")
    assert diff.ours.call("QUERY", "COUNT") == b":1\r\n"
    assert diff.ours.call("QUERY", "NOCONTENT") == b"*1\r\n$6\r\nk:hash\r\n"


# --- the AOF, as redis-server writes it ----------------------------------------------------------

AOF_SCRIPT = [
    ("SADD", "s", "a", "b", "c", "d", "e", "f"),
    ("SADD", "s", "a"),  # no change: not logged
    ("SREM", "s", "a", "zz"),
    ("SPOP", "s"),  # an SREM of the member
    ("SPOP", "s", "1"),  # one SREM
    ("SPOP", "s", "2"),  # two SREMs in MULTI/EXEC
    ("SPOP", "s", "0"),
    ("SADD", "w", "x", "y"),
    ("SPOP", "w", "9"),  # the whole set: DEL
    ("SADD", "t", "1", "2"),
    ("SMOVE", "t", "u", "1"),
    ("SMOVE", "t", "u", "zz"),
    ("SUNIONSTORE", "d", "s", "t"),
    ("SINTERSTORE", "d", "t", "nokey"),  # empty: logged as sent (it deleted d)
    ("SDIFFSTORE", "d", "t", "nokey"),
    ("MULTI",),
    ("SPOP", "t"),
    ("SADD", "t", "3", "4", "5"),
    ("SPOP", "t", "2"),
    ("EXEC",),
]


def run_script(conn: RawConnection) -> list[bytes]:
    """Send AOF_SCRIPT; the members its SPOPs replied, in order (queued ones from EXEC's)."""
    popped: list[bytes] = []
    queued: list[tuple[str, ...]] | None = None
    for args in AOF_SCRIPT:
        reply = parse(conn.call(*args))
        if args[0] == "MULTI":
            queued = []
        elif args[0] == "EXEC":
            assert isinstance(reply, list) and queued is not None
            pairs, queued = list(zip(queued, reply, strict=True)), None
        elif queued is not None:
            queued.append(args)
            continue
        else:
            pairs = [(args, reply)]
        for command, result in pairs:
            if command[0] == "SPOP":
                popped += result if isinstance(result, list) else [result]
    return popped


def hide_popped(commands: list[list[bytes]], popped: list[bytes]) -> list[list[bytes]]:
    """The log with each SREM of a member SPOP chose written ``SREM key ?``: chance chose
    it, so the two servers' members differ."""
    left = list(popped)
    out = []
    for argv in commands:
        if argv[0] == b"SREM" and len(argv) == 3 and argv[2] in left:
            left.remove(argv[2])
            argv = [*argv[:2], b"?"]
        out.append(argv)
    return out


def test_the_aof_logs_set_writes_as_redis_does(tmp_path):
    """SPOP as SREMs (several in MULTI/EXEC, not nested in a transaction's), SPOP of the
    whole set as DEL, the rest as sent and only when it changed something."""
    popped = []
    logs = logged_by_both(tmp_path, lambda conn: popped.append(run_script(conn)))
    ours, real = (hide_popped(log, chosen) for log, chosen in zip(logs, popped, strict=True))
    assert ours == real
    assert [b"DEL", b"w"] in ours and ours.count([b"MULTI"]) == 2


def test_aof_chunk_framing_still_parses(tmp_path):
    """SPOP's MULTI/EXEC block reaches the file inside one chunk."""
    with persistent(tmp_path) as r:
        r.sadd("s", *range(10))
        r.spop("s", 3)
    path = tmp_path / "appendonly.aof"
    with open(path, "rb") as file:
        chunks = [commands for _, commands in aof.read_chunks(file, path.stat().st_size)]
    block = chunks[-1]
    assert [argv[0] for argv in block] == [b"MULTI", b"SREM", b"SREM", b"SREM", b"EXEC"]


# --- random sequences ---------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "str"])
MEMBERS = st.sampled_from(["x", "y", "1", "2", "-3", "", "long" * 20])
COUNTS = st.integers(-3, 6).map(str) | st.sampled_from(["x", "9223372036854775808"])


class SetMachine(RuleBasedStateMachine):
    """Random set commands on a few keys (and one string key, "str"), sent to both servers;
    the random ones only where chance cannot make the servers differ (whole-set counts)."""

    diff: Diff

    @initialize()
    def start(self) -> None:
        self.diff.do("SET", "str", "string")

    @rule(cmd=st.sampled_from(["SADD", "SREM", "SMISMEMBER"]), key=KEYS, members=st.lists(
        MEMBERS, min_size=1, max_size=6))  # fmt: skip
    def members(self, cmd, key, members):
        self.diff.do(cmd, key, *members)

    @rule(cmd=st.sampled_from(["SCARD", "SMEMBERS", "TYPE"]), key=KEYS)
    def inspect(self, cmd, key):
        send(self.diff, cmd, key)

    @rule(key=KEYS, member=MEMBERS)
    def sismember(self, key, member):
        self.diff.do("SISMEMBER", key, member)

    @rule(source=KEYS, destination=KEYS, member=MEMBERS)
    def smove(self, source, destination, member):
        self.diff.do("SMOVE", source, destination, member)

    @rule(cmd=st.sampled_from(["SINTER", "SUNION", "SDIFF"]), keys=st.lists(
        KEYS, min_size=1, max_size=3))  # fmt: skip
    def algebra(self, cmd, keys):
        send(self.diff, cmd, *keys)

    @rule(cmd=st.sampled_from(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), destination=KEYS,
          keys=st.lists(KEYS, min_size=1, max_size=3))  # fmt: skip
    def store(self, cmd, destination, keys):
        self.diff.do(cmd, destination, *keys)

    @rule(keys=st.lists(KEYS, min_size=1, max_size=3), limit=st.none() | COUNTS)
    def sintercard(self, keys, limit):
        options = [] if limit is None else ["LIMIT", limit]
        self.diff.do("SINTERCARD", str(len(keys)), *keys, *options)

    @rule(cmd=st.sampled_from(["SPOP", "SRANDMEMBER"]), key=KEYS, count=COUNTS)
    def random_members(self, cmd, key, count):
        """Compared in full where chance picks nothing: an error, no members, or a count
        taking all of them; otherwise SRANDMEMBER's reply length only, and SPOP is not sent
        (the servers' sets would part)."""
        size = parse(self.diff.ours.call("SCARD", key))
        size = size if isinstance(size, int) else 0  # the string key: WRONGTYPE either way
        try:
            number = int(count)
        except ValueError:
            number = None
        if number is None or number >= 2**63 or number == 0 or size == 0 or number >= size or (
                cmd == "SPOP" and number < 0):  # fmt: skip
            do_unordered(self.diff, cmd, key, count)
        elif cmd == "SRANDMEMBER":
            ours, real = self.diff.both(cmd, key, count)
            assert header(ours) == header(real)


@pytest.mark.parametrize("protocol", [2, 3])
def test_random_set_commands_match_redis(resp_port, redis_port, protocol):
    run_on_both(SetMachine, resp_port, redis_port, protocol)
