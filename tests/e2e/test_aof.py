"""The append-only file on respserver alone: every acknowledged write survives a restart (and
a SIGKILL under ``appendfsync always``), in the deterministic form Redis logs; a torn tail is
dropped, damage elsewhere stops the start with the file and offset; check-aof, rewrites,
CONFIG SET appendonly and SHUTDOWN. (redis-server loading the file:
tests/differential/test_aof.py.)"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from respserver import ServerThread
from respserver.persistence import aof
from tests.conftest import RawConnection, free_port, wait_for_ping
from tests.helpers.persistence import (
    dump,
    every_kind_of_write,
    load_error,
    logged,
    persistent,
    port_of,
    rewrite_done,
    wait_loaded,
)

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_of_write_survives_a_restart(tmp_path):
    with persistent(tmp_path) as r:
        every_kind_of_write(r)
        before = dump(port_of(r))
    assert (0, b"gone") not in before and (4, b"doomed") not in before
    with persistent(tmp_path) as r:
        assert dump(port_of(r)) == before
    commands = logged(tmp_path)
    names = {argv[0].upper() for argv in commands}
    # time and chance never reach the log: absolute expiries and resulting values instead
    assert not names & {b"EXPIRE", b"PEXPIRE", b"SETEX", b"PSETEX", b"GETEX", b"GETDEL"}
    assert not names & {b"INCRBYFLOAT", b"HINCRBYFLOAT"}
    assert [b"SET", b"float", b"1.102", b"KEEPTTL"] in commands
    assert [b"HSET", b"h", b"f", b"0.1"] in commands
    assert [b"DEL", b"doomed"] in commands
    assert [b"ZPOPMAX", b"zlex", b"1"] in commands and b"ZMPOP" not in names
    assert all(argv[3] == b"PXAT" for argv in commands if argv[0] == b"SET" and len(argv) > 3
               and argv[3] != b"KEEPTTL")  # fmt: skip
    multi = commands.index([b"MULTI"])
    block = [argv for argv in commands[multi + 1 :] if argv[0] != b"SELECT"]
    assert block[:4] == [
        [b"SET", b"t1", b"1"],
        [b"INCRBY", b"t1", b"1"],  # what redis-py sends for incr
        [b"HSET", b"t2", b"f", b"v"],
        [b"EXEC"],
    ]


# --- random writes, then a restart ---------------------------------------------------------------

keys = st.sampled_from([b"a", b"b", b"c", b"h1", b"h2"])
values = st.sampled_from([b"", b"1", b"-2", b"x" * 70, b"3.5", b"\x00\xff"])
writes = st.one_of(
    st.tuples(st.just("SET"), keys, values),
    st.tuples(st.just("SET"), keys, values, st.just("EX"), st.integers(1, 1000).map(str)),
    st.tuples(st.just("HSET"), keys, values, values),
    st.tuples(st.just("HDEL"), keys, values),
    st.tuples(st.just("DEL"), keys),
    st.tuples(st.just("INCRBYFLOAT"), keys, st.sampled_from(["1.5", "-0.25", "1e2"])),
    st.tuples(st.just("HINCRBYFLOAT"), keys, values, st.sampled_from(["1.5", "2"])),
    # A time already past (the key goes at once) or far enough off not to run out between
    # the dump and the restart: a few milliseconds would race the test itself.
    st.tuples(
        st.just("PEXPIRE"),
        keys,
        st.one_of(st.integers(-5, 0), st.integers(60_000, 100_000)).map(str),
    ),
    st.tuples(st.just("PERSIST"), keys),
    st.tuples(st.sampled_from(["SADD", "SREM"]), keys, values, values),
    # Chance picks the members; logged as SREMs (in MULTI/EXEC when several) or DEL.
    st.tuples(st.just("SPOP"), keys, st.sampled_from(["1", "2", "5"])),
    st.tuples(st.just("SMOVE"), keys, keys, values),
    st.tuples(st.just("ZADD"), keys, st.sampled_from(["1", "-2.5", "inf", "0.1"]), values),
    st.tuples(st.sampled_from(["ZINCRBY"]), keys, st.sampled_from(["1.1", "-inf"]), values),
    st.tuples(st.sampled_from(["ZPOPMIN", "ZPOPMAX"]), keys, st.sampled_from(["1", "3"])),
    st.tuples(st.sampled_from(["ZUNIONSTORE", "ZINTERSTORE"]), keys, st.just("2"), keys, keys),
    st.tuples(st.sampled_from(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), keys, keys, keys),
    st.tuples(st.just("RENAME"), keys, keys),
    st.tuples(st.just("COPY"), keys, keys, st.just("DB"), st.sampled_from(["0", "1"])),
    st.tuples(st.just("MOVE"), keys, st.sampled_from(["0", "1"])),
    st.tuples(st.just("SELECT"), st.sampled_from(["0", "1"])),
    st.tuples(st.just("SWAPDB"), st.just("0"), st.just("1")),
    st.tuples(st.just("FLUSHDB")),
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ops=st.lists(writes, max_size=30), transaction=st.booleans(), by=st.sampled_from(["aof", "rdb"])
)
def test_random_writes_survive_a_restart(tmp_path_factory, ops, transaction, by):
    """Saved by the AOF or by SAVE (a snapshot), then loaded: the same data set."""
    directory = tmp_path_factory.mktemp("aof")
    appendonly = "yes" if by == "aof" else "no"
    with persistent(directory, appendonly=appendonly) as r:
        conn = r.connection_pool.get_connection()  # one connection: SELECT sticks
        if transaction:
            conn.send_command("MULTI")
            conn.read_response()
        for op in ops:
            conn.send_command(*op)
            try:
                conn.read_response()
            except redis.ResponseError:
                pass  # WRONGTYPE, no such key...: nothing logged, nothing changed
        if transaction:
            conn.send_command("EXEC")
            conn.read_response()
        r.connection_pool.release(conn)
        before = dump(port_of(r), databases=2)
        if by == "rdb":
            r.save()
    with persistent(directory, appendonly=appendonly) as r:
        assert dump(port_of(r), databases=2) == before


# --- damage ----------------------------------------------------------------------------------


def chunked_history(directory: Path, count: int = 12) -> tuple[list[int], list[dict]]:
    """Write ``count`` commands one round trip each (so one chunk each); return where each
    chunk ends and the data set after each command."""
    directory.mkdir(exist_ok=True)
    states = []
    with persistent(directory) as r:
        states.append(dump(port_of(r), databases=1))
        for i in range(count):
            if i % 3 == 2:
                r.hset(f"h{i % 5}", mapping={"i": str(i), "pad": "p" * i})
            else:
                r.set(f"k{i % 4}", "v" * i)
            states.append(dump(port_of(r), databases=1))
    path = directory / "appendonly.aof"
    with open(path, "rb") as file:
        ends = [end for end, _ in aof.read_chunks(file, path.stat().st_size)]
    assert len(ends) == count
    return ends, states


def test_torn_tail_is_dropped_and_the_rest_loads(tmp_path):
    ends, states = chunked_history(tmp_path / "history")
    original = (tmp_path / "history" / "appendonly.aof").read_bytes()
    rng = random.Random(7)
    cuts = sorted({0, 1, len(original) - 1, *(e + d for e in ends[:-1] for d in (-1, 0, 1)),
                   *rng.sample(range(len(original)), 10)})  # fmt: skip
    for cut in cuts:
        directory = tmp_path / f"cut{cut}"
        directory.mkdir()
        (directory / "appendonly.aof").write_bytes(original[:cut])
        whole = sum(1 for end in ends if end <= cut)
        with persistent(directory) as r:
            assert dump(port_of(r), databases=1) == states[whole], cut
        # the torn part was cut off the file, so new writes follow whole chunks
        assert (directory / "appendonly.aof").read_bytes() == original[: ([0] + ends)[whole]]


def test_damage_before_the_last_chunk_stops_the_start(tmp_path):
    ends, states = chunked_history(tmp_path / "history")
    original = (tmp_path / "history" / "appendonly.aof").read_bytes()
    rng = random.Random(11)
    for offset in rng.sample(range(ends[-2]), 12):
        directory = tmp_path / f"flip{offset}"
        directory.mkdir()
        damaged = bytearray(original)
        damaged[offset] ^= 1 << rng.randrange(8)
        (directory / "appendonly.aof").write_bytes(damaged)
        chunk_start = max([0] + [e for e in ends if e <= offset])
        message = load_error(directory)
        if message is None:
            # A flipped length digit can make a middle chunk run past the end of the file,
            # which reads as a torn tail: what came before it loads, nothing after it.
            with persistent(directory) as r:
                whole = sum(1 for end in ends if end <= chunk_start)
                assert dump(port_of(r), databases=1) == states[whole]
            continue
        assert f"at offset {chunk_start}" in message
        assert str(directory / "appendonly.aof") in message
        assert "respserver check-aof --fix" in message


def test_damage_in_the_last_chunk_is_a_torn_tail(tmp_path):
    """A flipped payload byte of the last chunk fails its checksum: dropped as a torn write.
    A damaged header is refused instead (the file may not be a respserver AOF at all)."""
    ends, states = chunked_history(tmp_path / "history")
    original = (tmp_path / "history" / "appendonly.aof").read_bytes()
    header_end = original.index(b"\n", ends[-2]) + 1
    for offset in range(ends[-2], len(original), 5):
        directory = tmp_path / f"flip{offset}"
        directory.mkdir()
        damaged = bytearray(original)
        damaged[offset] ^= 0x20
        (directory / "appendonly.aof").write_bytes(damaged)
        if offset >= header_end:
            with persistent(directory) as r:
                assert dump(port_of(r), databases=1) == states[-2], offset
        else:
            message = load_error(directory)
            if message is None:  # a length digit made larger: reads as cut short
                with persistent(directory) as r:
                    assert dump(port_of(r), databases=1) == states[-2], offset
            else:
                assert f"at offset {ends[-2]}" in message


def test_aof_load_truncated_no_refuses_a_torn_tail(tmp_path):
    ends, _ = chunked_history(tmp_path)
    path = tmp_path / "appendonly.aof"
    path.write_bytes(path.read_bytes()[: ends[-1] - 3])
    message = load_error(tmp_path, **{"aof-load-truncated": "no"})
    assert message is not None and f"at offset {ends[-2]}" in message
    assert "aof-load-truncated" in message


# --- loading ------------------------------------------------------------------------------------


def test_clients_get_loading_until_the_data_set_is_in(tmp_path):
    payload = bytearray()
    with open(tmp_path / "appendonly.aof", "wb") as file:
        for start in range(0, 150_000, 1000):
            payload.clear()
            aof.encode_commands(
                payload, [[b"SET", b"k%d" % i, b"v"] for i in range(start, start + 1000)]
            )
            file.write(aof.chunk(payload))
    with ServerThread(port=0, config={"appendonly": "yes", "dir": str(tmp_path)}) as server:
        # A raw connection: redis-py retries on LOADING (BusyLoadingError is a ConnectionError).
        conn = RawConnection(server.port)
        assert conn.call("GET", "k1") == b"-LOADING Redis is loading the dataset in memory\r\n"
        assert b"loading:1" in conn.call("INFO", "persistence")  # INFO runs while loading
        r = redis.Redis(port=server.port, protocol=2)
        wait_loaded(r)
        assert r.dbsize() == 150_000
        assert r.info("persistence")["loading"] == 0
        r.close()
        conn.close()


# --- crashes ------------------------------------------------------------------------------------


def start_process(directory: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "respserver", "--port", str(port), "--appendonly", "yes",
         "--appendfsync", "always", "--dir", str(directory), "--loglevel", "warning"],
        cwd=ROOT,
    )  # fmt: skip
    wait_for_ping(port, timeout=30)
    return proc


@pytest.mark.parametrize("during", [None, "BGREWRITEAOF", "BGSAVE"])
def test_sigkill_loses_no_acknowledged_write(tmp_path, during):
    """Writers record what was acknowledged; SIGKILL at a random moment (with ``during``, while
    that background job runs); after a restart every acknowledged write is there and every
    MULTI/EXEC is all there or not at all."""
    rng = random.Random(3)
    acked: dict[str, int] = {}
    pairs: dict[str, set[int]] = {}
    killed_during: list[int] = []
    for round_ in range(3):
        port = free_port()
        proc = start_process(tmp_path, port)
        if during and round_ == 0:  # enough data that the child takes a while
            bulk = redis.Redis(port=port, protocol=2).pipeline(transaction=False)
            for i in range(40_000):
                bulk.hset(f"bulk:{i}", mapping={"i": i, "pad": "p" * 150})
            bulk.execute()
        stop = threading.Event()

        def writer(name: str, port: int = port, stop: threading.Event = stop) -> None:
            r = redis.Redis(port=port, protocol=2, socket_timeout=5)
            i = 0
            try:
                while not stop.is_set():
                    acked[name] = r.incr(f"counter:{name}")
                    pipe = r.pipeline(transaction=True)
                    pipe.set(f"pair:{name}:{i}:a", i)
                    pipe.set(f"pair:{name}:{i}:b", i)
                    pipe.execute()
                    pairs.setdefault(name, set()).add(i)
                    i += 1
            except (redis.ConnectionError, redis.TimeoutError):
                pass  # the kill

        threads = [threading.Thread(target=writer, args=(f"w{round_}-{n}",)) for n in range(3)]
        for thread in threads:
            thread.start()
        if during:
            time.sleep(rng.uniform(0.05, 0.2))
            admin = redis.Redis(port=port, protocol=2)
            admin.execute_command(during)
            time.sleep(rng.uniform(0.0, 0.3))
            job = (
                "aof_rewrite_in_progress" if during == "BGREWRITEAOF" else "rdb_bgsave_in_progress"
            )
            killed_during.append(admin.info("persistence")[job])
        else:
            time.sleep(rng.uniform(0.3, 1.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        assert acked, "no write was acknowledged before the kill"
        port = free_port()
        proc = start_process(tmp_path, port)
        try:
            r = redis.Redis(port=port, protocol=2)
            if during:
                assert r.dbsize() > 40_000
            for name, value in acked.items():
                assert int(r.get(f"counter:{name}")) >= value
            for name, done in pairs.items():
                present = {k for k in r.scan_iter(f"pair:{name}:*", count=1000)}
                halves = {}
                for key in present:
                    _, _, i, half = key.decode().split(":")
                    halves.setdefault(int(i), set()).add(half)
                assert all(h == {"a", "b"} for h in halves.values()), "half a transaction"
                assert done <= set(halves), "an acknowledged transaction is missing"
            r.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    assert not during or any(killed_during), "no kill landed while the job ran"


def test_bad_directive_and_damaged_file_stop_the_cli(tmp_path):
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "respserver", "--port", "0", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    bad = run("--appendfsync", "sometimes")
    assert bad.returncode == 1
    assert "argument(s) must be one of the following: everysec, always, no" in bad.stderr
    assert run("--nosuch", "1").returncode == 1
    (tmp_path / "appendonly.aof").write_bytes(b"garbage that is not a chunk\r\n" * 3)
    damaged = run("--appendonly", "yes", "--dir", str(tmp_path))
    assert damaged.returncode == 1
    assert f"append only file {tmp_path / 'appendonly.aof'} at offset 0" in damaged.stdout


def test_check_aof_reports_and_fixes_damage(tmp_path):
    ends, states = chunked_history(tmp_path)
    path = tmp_path / "appendonly.aof"
    check = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "respserver", "check-aof", *args, str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    valid = check()
    assert valid.returncode == 0 and "AOF is valid" in valid.stdout
    damaged = bytearray(path.read_bytes())
    damaged[ends[4] + 30] ^= 0x01  # inside the sixth chunk's payload
    path.write_bytes(damaged)
    report = check()
    assert report.returncode == 1
    assert f"ok_up_to={ends[4]}, diff={len(damaged) - ends[4]}" in report.stdout
    assert "chunk checksum mismatch" in report.stdout
    assert load_error(tmp_path) is not None
    fixed = check("--fix")
    assert fixed.returncode == 0 and "Successfully truncated AOF" in fixed.stdout
    assert path.stat().st_size == ends[4]
    with persistent(tmp_path) as r:
        assert dump(port_of(r), databases=1) == states[5]


# --- rewriting ------------------------------------------------------------------------------


def test_bgrewriteaof_compacts_and_keeps_the_writes_made_meanwhile(tmp_path):
    with persistent(tmp_path) as r:
        pipe = r.pipeline(transaction=False)
        for round_ in range(5):
            for i in range(4000):
                pipe.hset(f"h{i}", mapping={"round": round_, "pad": "x" * 40})
            pipe.execute()
        r.set("ttl", "v", px=500_000)
        r.set("gone", "v", px=1)  # expired when the child writes: left out of the new file
        size = r.info("persistence")["aof_current_size"]
        conn = RawConnection(port_of(r))
        assert conn.call("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        conn.close()
        with pytest.raises(redis.ResponseError, match="already in progress"):
            r.bgrewriteaof()
        assert r.info("persistence")["aof_rewrite_in_progress"] == 1
        i = 0
        while r.info("persistence")["aof_rewrite_in_progress"]:  # writes during the rewrite
            r.set(f"during{i}", i)
            r.hset("h0", "during", i)
            i += 1
        info = rewrite_done(r)
        assert info["aof_rewrites"] == 1 and info["aof_last_bgrewrite_status"] == "ok"
        assert info["aof_current_size"] < size / 3
        assert info["aof_base_size"] <= info["aof_current_size"]
        r.set("after", "1")
        before = dump(port_of(r), databases=1)
    assert i > 0 and (0, b"during0") in before
    with persistent(tmp_path) as r:
        assert dump(port_of(r), databases=1) == before
    assert not list(tmp_path.glob("temp-*")), "the temporary file was renamed into place"


def test_rewrite_starts_by_itself_when_the_file_doubles(tmp_path):
    config = {"auto-aof-rewrite-min-size": "20kb", "auto-aof-rewrite-percentage": "100"}
    with persistent(tmp_path, **config) as r:
        deadline = time.monotonic() + 20
        i = 0
        while r.info("persistence")["aof_rewrites"] < 2:
            assert time.monotonic() < deadline, "no automatic rewrite"
            r.set(f"k{i % 50}", "v" * 100)  # overwrites: a rewrite shrinks the file
            i += 1
        info = rewrite_done(r)
        assert info["aof_current_size"] < 2 * max(info["aof_base_size"], 20 * 1024)
        before = dump(port_of(r), databases=1)
    with persistent(tmp_path) as r:
        assert dump(port_of(r), databases=1) == before


def test_config_set_appendonly_writes_the_data_set_then_logs(tmp_path):
    with ServerThread(port=0, config={"dir": str(tmp_path)}) as server:
        r = redis.Redis(port=server.port, protocol=2)
        r.hset("h", mapping={"a": "1"})
        r.set("s", "v", ex=1000)
        assert not (tmp_path / "appendonly.aof").exists()
        assert r.config_set("appendonly", "yes")
        assert r.info("persistence")["aof_enabled"] == 1
        r.set("after", "1")
        before = dump(server.port, databases=1)
        r.config_set("appendonly", "no")
        r.set("not-logged", "1")
        assert r.info("persistence")["aof_enabled"] == 0
        r.close()
    with persistent(tmp_path) as r:
        assert dump(port_of(r), databases=1) == before


def test_shutdown_flushes_and_exits(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "respserver", "--port", str(port), "--appendonly", "yes",
         "--appendfsync", "no", "--dir", str(tmp_path), "--loglevel", "warning"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for_ping(port, timeout=30)
    r = redis.Redis(port=port, protocol=2)
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="No shutdown in progress"):
        r.shutdown(abort=True)
    with pytest.raises(redis.ConnectionError):
        r.execute_command("SHUTDOWN", "NOSAVE")  # no reply: the connection closes
    assert proc.wait(timeout=10) == 0
    assert "User requested shutdown" in proc.stdout.read()
    with persistent(tmp_path) as r:
        assert r.get("k") == b"v"


# --- a disk that fails: writes refused until it works again, as Redis -------------------------


def _limited_server(directory: Path, fsync: str, limit: int) -> tuple[subprocess.Popen, int]:
    """respserver with the AOF on, in a process whose files may not grow past ``limit`` bytes
    (RLIMIT_FSIZE's soft limit: a write past it fails with EFBIG, as on a full disk, until the
    limit is raised)."""
    import resource

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "respserver", "--port", str(port), "--appendonly", "yes",
         "--appendfsync", fsync, "--dir", str(directory), "--loglevel", "warning",
         "--auto-aof-rewrite-percentage", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        preexec_fn=lambda: resource.setrlimit(
            resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY)
        ),
    )  # fmt: skip
    wait_for_ping(port, timeout=30)
    return proc, port


def _fill(r: redis.Redis) -> tuple[dict[str, bytes], redis.RedisError]:
    """SET until one fails; what was acknowledged, and the failure."""
    acknowledged = {}
    for i in range(1000):
        value = b"%d" % i * 100
        try:
            r.set(f"k{i}", value)
        except redis.RedisError as exc:
            return acknowledged, exc
        acknowledged[f"k{i}"] = value
    raise AssertionError("the AOF never failed to grow")


def test_a_failing_aof_write_refuses_writes_until_the_disk_works(tmp_path):
    import resource

    proc, port = _limited_server(tmp_path, "everysec", 64 * 1024)
    try:
        r = redis.Redis(port=port, protocol=2)
        acknowledged, failure = _fill(r)
        # The write that met the error was applied and answered (Redis answers it too); the
        # next one is refused, and so are PING and the other writes, while reads go on.
        assert isinstance(failure, redis.ResponseError)
        assert str(failure) == "MISCONF Errors writing to the AOF file: File too large"
        with pytest.raises(redis.ResponseError, match="^MISCONF Errors writing to the AOF"):
            r.ping()
        assert r.get("k0") == acknowledged["k0"]
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
        deadline = time.monotonic() + 10
        while True:  # the cron tries the pending write again, ten times a second
            try:
                assert r.set("after", "1")
                break
            except redis.ResponseError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        assert "AOF write error looks solved" in proc.stdout.read()
    finally:
        proc.kill()
    with persistent(tmp_path) as r:
        for key, value in acknowledged.items():
            assert r.get(key) == value, key
        assert r.get("after") == b"1"


def test_a_failing_aof_write_under_always_stops_the_server_unacknowledged(tmp_path):
    proc, port = _limited_server(tmp_path, "always", 64 * 1024)
    try:
        r = redis.Redis(port=port, protocol=2, retry_on_error=[])
        acknowledged, failure = _fill(r)
        assert isinstance(failure, redis.ConnectionError)  # no reply: the server stopped
        assert proc.wait(timeout=30) == 1
        assert "Can't recover from AOF write error" in proc.stdout.read()
    finally:
        proc.kill()
    with persistent(tmp_path) as r:  # the file loads (no torn chunk), with every write answered
        assert {key: r.get(key) for key in acknowledged} == acknowledged
