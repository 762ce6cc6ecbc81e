"""Server commands against redis-server: the COMMAND family, INFO, CONFIG, DBSIZE, FLUSHDB,
FLUSHALL, SWAPDB, TIME, LASTSAVE. Values that legitimately differ (run ids, ports, uptime,
memory) are checked by shape; everything else byte for byte."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

import respserver.commands  # noqa: F401  (registers every command)
from respserver.config import defaults as default_config
from respserver.registry import COMMANDS
from tests.conftest import parse
from tests.helpers.respshape import NUMBER, bulk_text, elements, info_sections, is_subsequence

pytestmark = pytest.mark.differential


def all_names() -> set[str]:
    return {s.name for spec in COMMANDS.values() for s in (spec, *spec.subcommands.values())}


# --- COMMAND -------------------------------------------------------------------------------------


def test_command_errors_and_help(diff):
    for args in [
        ("COMMAND", "FOO"),
        ("COMMAND", "COUNT", "x"),
        ("COMMAND", "HELP"),
        ("COMMAND", "HELP", "x"),
        ("COMMAND", "INFO", "nosuchcommand"),
        ("COMMAND", "DOCS", "nosuchcommand"),
        ("COMMAND", "DOCS", "nosuch|thing"),
        ("COMMAND", "INFO", "config|", "config|get|x", "|get"),
        ("COMMAND", "DOCS", "config|", "echo|x"),
        ("COMMAND", "LIST", "FILTERBY"),
        ("COMMAND", "LIST", "FOO"),
        ("COMMAND", "LIST", "FILTERBY", "foo", "bar"),
        ("COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"),
        ("COMMAND", "LIST", "FILTERBY", "MODULE", "x"),
        ("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuchcategory"),
        ("COMMAND", "GETKEYS"),
        ("COMMAND", "GETKEYS", "ping"),
        ("COMMAND", "GETKEYS", "nosuch", "a"),
        ("COMMAND", "GETKEYS", "ping", "a"),
        ("COMMAND", "GETKEYS", "client", "kill"),
        ("COMMAND", "GETKEYS", "client", "foo", "x"),
        ("COMMAND", "GETKEYS", "config", "get", "a"),
        ("COMMAND", "GETKEYSANDFLAGS", "echo", "a"),
        ("COMMAND", "GETKEYSANDFLAGS", "nosuch", "a"),
    ]:
        diff.do(*args)


def test_plain_command_lists_every_command(diff):
    raw = diff.ours.call("COMMAND")
    infos = elements(raw)
    assert len(infos) == len(COMMANDS)
    assert all(len(elements(info)) == 10 for info in infos)
    assert diff.ours.call("COMMAND", "INFO") == raw  # INFO with no name: the same
    real = elements(diff.real.call("COMMAND"))
    assert all(len(elements(info)) == 10 for info in real)


def test_command_count(diff):
    assert diff.ours.call("COMMAND", "COUNT") == b":%d\r\n" % len(COMMANDS)
    assert re.fullmatch(rb":[0-9]+\r\n", diff.real.call("COMMAND", "COUNT"))


def test_command_info_is_case_insensitive_and_keeps_order(diff):
    raw = diff.ours.call("COMMAND", "INFO", "ECHO", "nosuch", "Client|Kill")
    echo, missing, kill = elements(raw)
    assert echo.startswith(b"*10\r\n$4\r\necho\r\n")
    assert missing == (b"_\r\n" if diff.protocol == 3 else b"$-1\r\n")
    assert kill.startswith(b"*10\r\n$11\r\nclient|kill\r\n")


def test_container_info_lists_its_subcommands(diff):
    for name in ("client", "config", "command"):
        (ours,) = elements(diff.ours.call("COMMAND", "INFO", name))
        (real,) = elements(diff.real.call("COMMAND", "INFO", name))
        our_subs = {parse(sub)[0] for sub in elements(elements(ours)[9])}
        real_subs = {parse(sub)[0] for sub in elements(elements(real)[9])}
        assert our_subs - {b"client|setinfo"} <= real_subs
        declared = COMMANDS[name.encode()].subcommands.values()
        assert our_subs == {spec.name.encode() for spec in declared}
    (echo,) = elements(diff.ours.call("COMMAND", "INFO", "echo"))
    assert elements(echo)[9] == (b"~0\r\n" if diff.protocol == 3 else b"*0\r\n")


def test_command_docs_shapes(diff):
    # PING's documentation is the same byte for byte, arguments included.
    diff.do("COMMAND", "DOCS", "ping")
    diff.do("COMMAND", "DOCS", "echo", "nosuch", "ping")
    ours = parse(diff.ours.call("COMMAND", "DOCS"))
    docs = ours if isinstance(ours, dict) else dict(zip(ours[::2], ours[1::2], strict=True))
    assert set(docs) == {spec.name.encode() for spec in COMMANDS.values()}
    client = parse(diff.ours.call("COMMAND", "DOCS", "client"))
    assert b"subcommands" in (client[b"client"] if diff.protocol == 3 else client[1])


def _history(raw: bytes) -> bytes | None:
    (_, docs) = elements(raw)
    items = elements(docs)
    fields = dict(zip(items[::2], items[1::2], strict=True))
    return fields.get(b"$7\r\nhistory\r\n")


def test_declared_history_matches_redis(diff):
    for name in sorted(all_names()):
        spec = COMMANDS.get(name.split("|")[0].encode())
        if "|" in name:
            spec = spec.subcommands[name.split("|")[1].encode()]
        if spec.history:
            ours = _history(diff.ours.call("COMMAND", "DOCS", name))
            assert ours == _history(diff.real.call("COMMAND", "DOCS", name)), name


def test_command_list(diff):
    names = parse(diff.ours.call("COMMAND", "LIST"))
    assert sorted(names) == sorted(n.encode() for n in all_names())
    for filters in [("PATTERN", "cl*"), ("pattern", "C?ONFIG*"), ("ACLCAT", "connection")]:
        ours = set(parse(diff.ours.call("COMMAND", "LIST", "FILTERBY", *filters)))
        real = set(parse(diff.real.call("COMMAND", "LIST", "FILTERBY", *filters)))
        # The same selection of the commands both servers have; CLIENT SETINFO is 7.2's.
        assert ours - {b"client|setinfo"} == {n.encode() for n in all_names()} & real, filters
    assert b"client|setinfo" in parse(
        diff.ours.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "cl*")
    )


def test_redis_py_parses_command(resp_port):
    for protocol in (2, 3):
        r = redis.Redis(port=resp_port, protocol=protocol, decode_responses=True)
        table = r.command()
        assert table["echo"]["arity"] == 2
        assert set(table["client"]["flags"]) == set()
        assert table["command"]["arity"] == -1
        assert r.command_count() == len(COMMANDS)
        r.close()


def test_redis_cli_prints_command_docs_like_redis(resp_port, redis_port):
    def cli(port: int, *args: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert cli(resp_port, "COMMAND", "DOCS", "ping") == cli(redis_port, "COMMAND", "DOCS", "ping")
    docs = cli(resp_port, "COMMAND", "DOCS", "client").splitlines()
    assert docs[:3] == ["client", "summary", "A container for client connection commands"]
    assert cli(resp_port, "INFO", "server").startswith("# Server\nredis_version:7.0.15\n")
    assert cli(resp_port, "CONFIG", "GET", "save") == cli(redis_port, "CONFIG", "GET", "save")


def cli_hints(port: int, lines: list[str]) -> list[str | None]:
    """The grey hint an interactive redis-cli shows after each of ``lines`` is typed: it builds
    them from the COMMAND DOCS reply it asks for at start."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: redis-cli on a terminal (and never back into pytest)
        try:
            os.execvp("redis-cli", ["redis-cli", "-p", str(port)])
        finally:
            os._exit(127)
    out = b""

    def settle(until: bytes = b"") -> None:
        """Read until ``until`` has been seen and the terminal then stays quiet a moment."""
        nonlocal out
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], 0.1)[0]:
                if until in out:
                    return
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            out += chunk
            for _ in range(chunk.count(b"\x1b[6n")):  # linenoise asks where the cursor is
                os.write(fd, b"\x1b[1;200R")

    found = []
    try:
        settle(until=b"> ")
        for line in lines:
            out = b""
            os.write(fd, line.encode())
            settle(until=b"\x1b[0m")
            shown = re.findall(rb"\x1b\[0;90;49m(.*?)\x1b\[0m", out)
            found.append(shown[-1].decode() if shown else None)
            os.write(fd, b"\x15")  # ctrl-U: clear the line
            settle()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    return found


def test_interactive_redis_cli_hints_match_redis(resp_port, redis_port):
    typed = ["hello ", "client list ", "config set ", "command list ", "info ", "flushall "]
    ours = cli_hints(resp_port, typed)
    assert ours == cli_hints(redis_port, typed)
    assert all(ours) and ours[0] == "[protover [AUTH username password] [SETNAME clientname]]"


# --- DBSIZE, FLUSHDB, FLUSHALL, SWAPDB -----------------------------------------------------------


def _fill(diff, *dbs: int) -> None:
    for db in dbs:
        diff.do("SELECT", str(db))
        for i in range(db + 1):
            diff.do("SET", f"k{i}", "v")
    diff.do("SELECT", "0")


def _sizes(diff) -> None:
    for db in (0, 1, 2, 15):
        diff.do("SELECT", str(db))
        diff.do("DBSIZE")
    diff.do("SELECT", "0")


def test_dbsize(diff):
    diff.do("DBSIZE")
    _fill(diff, 0, 2)
    _sizes(diff)
    diff.do("DBSIZE", "x")


def test_flushdb_and_flushall(diff):
    for args in [("FLUSHDB", "foo"), ("FLUSHDB", "ASYNC", "SYNC"), ("FLUSHALL", "x")]:
        diff.do(*args)
    diff.do("FLUSHALL", "a", "b")
    _fill(diff, 0, 1, 2)
    diff.do("SELECT", "1")
    diff.do("FLUSHDB")
    _sizes(diff)
    _fill(diff, 1)
    diff.do("SELECT", "2")
    diff.do("flushdb", "async")
    _sizes(diff)
    diff.do("FLUSHALL", "SYNC")
    _sizes(diff)
    _fill(diff, 0, 2)
    diff.do("FLUSHALL", "ASYNC")
    _sizes(diff)


def test_swapdb(diff):
    for args in [
        ("0",),
        ("0", "1", "2"),
        ("0", "16"),
        ("-1", "0"),
        ("x", "1"),
        ("1", "x"),
        ("x", "y"),
        ("0", "-0"),
        ("2147483648", "1"),
        ("1", "99999999999999999999"),
        ("1", "1"),
    ]:
        diff.do("SWAPDB", *args)
    _fill(diff, 0, 2)
    diff.do("SWAPDB", "0", "1")
    _sizes(diff)
    diff.do("SELECT", "1")
    diff.do("GET", "k0")
    diff.do("SWAPDB", "1", "2")
    _sizes(diff)


def test_time_and_lastsave(diff):
    for args in [("TIME", "x"), ("LASTSAVE", "x")]:
        diff.do(*args)
    ours = parse(diff.ours.call("TIME"))
    seconds, micros = (int(x) for x in ours)
    assert abs(seconds + micros / 1e6 - time.time()) < 5 and 0 <= micros < 1_000_000
    assert all(re.fullmatch(rb"[0-9]+", x) for x in ours)
    assert elements(diff.ours.call("TIME"))[1].startswith(b"$")  # bulk strings, as Redis
    lastsave = parse(diff.ours.call("LASTSAVE"))
    assert isinstance(lastsave, int) and lastsave <= time.time()


# --- INFO ----------------------------------------------------------------------------------------


def _info(conn, *sections: str) -> dict[str, dict[str, str]]:
    return info_sections(bulk_text(conn.call("INFO", *sections)))


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("default",),
        ("all",),
        ("everything",),
        ("server", "clients"),
        ("KEYSPACE", "cluster"),
        ("keyspace", "keyspace"),
        ("modules",),
        ("commandstats", "default"),
        ("nosuch",),
    ],
)
def test_info_sections_and_fields_follow_redis(diff, args):
    ours, real = diff.both("INFO", *args)
    assert ours[:1] == real[:1] == (b"=" if diff.protocol == 3 else b"$")
    our_sections, real_sections = info_sections(bulk_text(ours)), info_sections(bulk_text(real))
    # Redis's sections in Redis's order; then respserver's own QUERY section where INFO
    # without a section, "default", "all" or "everything" asks for every section.
    every = {"default", "all", "everything"}
    own = ["Query"] if not args or every & {a.lower() for a in args} else []
    assert list(our_sections) == list(real_sections) + own
    for title, fields in our_sections.items():
        if title not in ("Commandstats", "Errorstats", "Latencystats", *own):
            assert is_subsequence(list(fields), list(real_sections[title])), title


HUMAN = re.compile(r"[0-9]+\.[0-9]{2}[KMGTP]|[0-9]+B")
REQUIRED = {
    "Server": "redis_version redis_mode os arch_bits process_id run_id tcp_port uptime_in_seconds "
    "uptime_in_days hz executable config_file",
    "Clients": "connected_clients blocked_clients maxclients",
    "Memory": "used_memory used_memory_human used_memory_rss maxmemory maxmemory_policy "
    "mem_allocator",
    "Stats": "total_connections_received total_commands_processed instantaneous_ops_per_sec "
    "total_net_input_bytes total_net_output_bytes rejected_connections expired_keys "
    "keyspace_hits keyspace_misses",
    "Persistence": "loading rdb_changes_since_last_save rdb_last_save_time aof_enabled",
}


def test_info_values(resp_server, diff):
    ours, real = _info(diff.ours, "everything"), _info(diff.real, "everything")
    for title, fields in REQUIRED.items():
        assert set(fields.split()) <= set(ours[title]), title
    same = {
        "Server": "redis_version redis_git_sha1 redis_mode arch_bits hz configured_hz config_file",
        "Clients": "maxclients blocked_clients",
        "Memory": "maxmemory maxmemory_human maxmemory_policy",
        "Persistence": "loading aof_enabled rdb_last_bgsave_status",
        "Replication": "role connected_slaves master_replid2 repl_backlog_size",
        "Cluster": "cluster_enabled",
    }
    for title, fields in same.items():
        for field in fields.split():
            assert ours[title][field] == real[title][field], field
    server = ours["Server"]
    assert server["tcp_port"] == str(resp_server.port)
    assert server["process_id"] == str(os.getpid())  # the test runs the server in-process
    assert re.fullmatch(r"[0-9a-f]{40}", server["run_id"])
    assert os.path.exists(server["executable"])
    assert int(server["uptime_in_days"]) == int(server["uptime_in_seconds"]) // 86400
    assert int(ours["Memory"]["used_memory"]) > 1_000_000
    for title in ("Stats", "Persistence", "CPU", "Memory"):
        for field, value in ours[title].items():
            if field.endswith("_human"):
                assert HUMAN.fullmatch(value), (field, value)
            elif field not in ("maxmemory_policy", "mem_allocator") and value != "ok":
                assert NUMBER.fullmatch(value), (field, value)
    listed = bulk_text(diff.ours.call("CLIENT", "LIST")).splitlines()
    assert ours["Clients"]["connected_clients"] == str(len(listed))


def test_info_keyspace(diff):
    diff.do("INFO", "keyspace")
    _fill(diff, 0, 3)
    diff.do("INFO", "keyspace")
    diff.do("SELECT", "3")
    diff.do("EXPIRE", "k1", "1000")
    ours = bulk_text(diff.ours.call("INFO", "keyspace"))
    real = bulk_text(diff.real.call("INFO", "keyspace"))
    pattern = r"db3:keys=4,expires=1,avg_ttl=[0-9]+"
    assert re.search(pattern, ours) and re.search(pattern, real)
    assert ours.splitlines()[:2] == real.splitlines()[:2]


STAT_LINE = re.compile(
    r"cmdstat_\S+:calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,failed_calls=\d+"
)


def _without_usec(text: str) -> set[str]:
    return {re.sub(r"usec=[0-9]+,usec_per_call=[0-9.]+,", "", line) for line in text.splitlines()}


def test_info_commandstats_and_stats_after_resetstat(diff):
    script = [
        ("CONFIG", "RESETSTAT"),
        ("PING",),
        ("PING", "x"),
        ("ECHO", "x"),
        ("SELECT", "x"),  # failed
        ("DBSIZE", "x"),  # rejected: arity
        ("CONFIG", "GET"),  # rejected: 'config|get'
        ("CLIENT", "SETNAME", "a b"),  # failed
        ("NOSUCHCOMMAND",),  # counted in total_error_replies only
    ]
    for args in script:
        diff.do(*args)
    ours = bulk_text(diff.ours.call("INFO", "commandstats"))
    real = bulk_text(diff.real.call("INFO", "commandstats"))
    assert _without_usec(ours) == _without_usec(real)
    assert "cmdstat_ping:calls=2," in ours
    for line in ours.splitlines()[1:]:
        assert STAT_LINE.fullmatch(line), line
    our_stats, real_stats = _info(diff.ours, "stats")["Stats"], _info(diff.real, "stats")["Stats"]
    for field in ("total_commands_processed", "total_error_replies", "total_connections_received"):
        assert our_stats[field] == real_stats[field], field


def test_info_ops_per_sec_is_measured(resp_port):
    r = redis.Redis(port=resp_port)
    r.info("stats")
    time.sleep(0.15)
    with r.pipeline(transaction=False) as pipe:
        for _ in range(300):
            pipe.echo("x")
        pipe.execute()
    stats = r.info("stats")
    assert stats["instantaneous_ops_per_sec"] > 0
    assert stats["total_net_input_bytes"] > 0 and stats["total_commands_processed"] >= 300
    assert r.info("server")["redis_version"] == "7.0.15"  # redis-py parses the text
    r.close()


# --- CONFIG --------------------------------------------------------------------------------------

# Parameters whose values differ between the two servers for reasons outside CONFIG: where
# they listen and run, and the test redis-server's --loglevel.
OWN_VALUES = {"port", "dir", "loglevel", "query-indexes", "redis-version"}  # the last two: ours


@contextlib.contextmanager
def restored(diff, *names: str) -> Iterator[None]:
    """Put the named parameters back on both servers however the block ends."""
    saved = {}
    for conn in (diff.ours, diff.real):
        values = parse(conn.call("CONFIG", "GET", *names))
        saved[conn] = (
            values
            if isinstance(values, dict)
            else dict(zip(values[::2], values[1::2], strict=True))
        )
    try:
        yield
    finally:
        for conn, values in saved.items():
            for name, value in values.items():
                assert conn.call("CONFIG", "SET", name, value) == b"+OK\r\n"


@pytest.mark.parametrize("name", sorted(set(default_config()) - OWN_VALUES))
def test_config_get_defaults_match_redis(diff, name):
    diff.do("CONFIG", "GET", name)


def test_config_get_patterns(diff):
    for args in [
        ("nosuch",),
        ("SAVE",),
        ("save", "SAVE"),
        ("\\save",),
        ("sav?",),
        ("[ab]ind",),
        ("lua-time-limit",),
        ("slave-read-only",),
        ("save", "appendonly", "nosuch"),
    ]:
        diff.do_sorted("CONFIG", "GET", *args)
    for pattern in ("maxmemory*", "MAXMEMORY*", "hash-max-*", "*max-*-entries*"):
        diff.do_sorted("CONFIG", "GET", pattern)
    diff.do_sorted("CONFIG", "GET", "maxmemory", "maxmemory*")
    diff.do("CONFIG", "GET")


def test_config_set_errors(diff):
    for args in [
        ("hz",),
        ("hz", "10", "maxclients"),
        ("nosuch", "1"),
        ("hz", "10", "nosuch", "1"),
        ("nosuch", "1", "databases", "3"),
        ("databases", "3", "nosuch", "1"),
        ("hz", "x", "databases", "3"),
        ("databases", "3"),
        ("daemonize", "yes"),
        ("io-threads", "2"),
        ("appendfilename", "x"),
        ("dir", "/tmp"),
        ("dbfilename", "x.rdb"),
        ("hz", "10", "hz", "20"),
        ("hz", "10", "HZ", "10"),
        ("Hz", "10", "hz", "x"),
        ("hz", "abc"),
        ("hz", "10abc"),
        ("hz", " 10"),
        ("hz", "+10"),
        ("hz", "010"),
        ("hz", "-1"),
        ("timeout", "-1"),
        ("maxclients", "0"),
        ("maxmemory-samples", "0"),
        ("maxmemory-eviction-tenacity", "101"),
        ("slowlog-log-slower-than", "-2"),
        ("slowlog-max-len", "-1"),
        ("hash-max-listpack-entries", "-1"),
        ("proto-max-bulk-len", "1"),
        ("busy-reply-threshold", "-5"),
        ("lua-time-limit", "-5"),
        ("maxmemory", "x"),
        ("maxmemory", "-1"),
        ("maxmemory", "1.5gb"),
        ("maxmemory", "10tb"),
        ("appendonly", "maybe"),
        ("replica-read-only", "1"),
        ("loglevel", "foo"),
        ("appendfsync", "foo"),
        ("maxmemory-policy", "foo"),
        ("save", "900"),
        ("save", "x 1"),
        ("save", "  100   5  "),
        ("save", "-1 5"),
        ("save", "0 5"),
        ("save", "1.5 5"),
        ("notify-keyspace-events", "foo"),
    ]:
        diff.do("CONFIG", "SET", *args)


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("hz", ["20", "1000", "0", "500", "10"]),
        ("maxmemory", ["10mb", "5K", "1GB", "0b", "mb", "100", "0"]),
        ("maxclients", ["100", "4294967295", "10000"]),
        ("timeout", ["2147483647", "0"]),
        ("appendfsync", ["ALWAYS", "no", "everysec"]),
        ("maxmemory-policy", ["ALLKEYS-LRU", "volatile-ttl", "noeviction"]),
        ("save", ["900 1", "+5 10", "3600 1 300 100", ""]),
        ("notify-keyspace-events", ["KEA", "Ex", "gA", "An", "Kgn$", "m", ""]),
        ("lazyfree-lazy-user-del", ["Yes", "NO", "no"]),
        ("slave-read-only", ["no", "yes"]),
        ("hash-max-ziplist-entries", ["1024", "512"]),
        ("lua-time-limit", ["100", "5000"]),
        ("slowlog-log-slower-than", ["-1", "10000"]),
        ("list-max-listpack-size", ["-5", "100", "-2"]),
    ],
)
def test_config_set_then_get(diff, name, values):
    with restored(diff, name):
        for value in values:
            diff.do("CONFIG", "SET", name, value)
            diff.do("CONFIG", "GET", name)
    if name in ("lua-time-limit", "hash-max-ziplist-entries", "slave-read-only"):
        with restored(diff, name):
            diff.do("CONFIG", "SET", name, values[0])
            diff.do_sorted(
                "CONFIG", "GET", "busy-reply-threshold", "hash-max-*-entries", "replica-read-only"
            )


def test_config_set_several_is_all_or_nothing(diff):
    with restored(diff, "hz", "maxclients", "timeout"):
        diff.do("CONFIG", "SET", "hz", "20", "maxclients", "100")
        diff.do_sorted("CONFIG", "GET", "hz", "maxclients")
        diff.do("CONFIG", "SET", "hz", "30", "timeout", "-1")
        diff.do_sorted("CONFIG", "GET", "hz", "timeout")


def test_config_set_refuses_what_respserver_fixes_at_start(resp_port):
    # Redis rebinds on CONFIG SET port/bind; respserver cannot, and says so.
    r = redis.Redis(port=resp_port)
    for name, value in (("port", "1"), ("bind", "0.0.0.0")):
        with pytest.raises(redis.ResponseError) as refused:
            r.config_set(name, value)
        assert str(refused.value) == (
            f"CONFIG SET failed (possibly related to argument '{name}') - "
            "can't set immutable config"
        )
    r.close()


def test_config_other_subcommands(diff):
    for args in [
        ("CONFIG",),
        ("CONFIG", "FOO"),
        ("CONFIG", "HELP"),
        ("CONFIG", "HELP", "x"),
        ("CONFIG", "RESETSTAT"),
        ("CONFIG", "RESETSTAT", "x"),
        ("CONFIG", "REWRITE"),
        ("CONFIG", "REWRITE", "x"),
    ]:
        diff.do(*args)


def test_config_resetstat_zeroes_counters(resp_port):
    conn = redis.Redis(port=resp_port)
    conn.echo("counted")
    conn.config_resetstat()
    stats = conn.info("stats")
    assert stats["total_connections_received"] == 0
    assert stats["total_commands_processed"] == 1  # CONFIG RESETSTAT itself
    assert set(conn.info("commandstats")) == {"cmdstat_config|resetstat", "cmdstat_info"}
    conn.close()
