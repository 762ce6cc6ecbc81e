"""The text of INFO: Redis 7.0's sections and field names, filled from the server's state.

Fields respserver has no counterpart for (forks, replication, defragmentation...) keep the
values an idle stand-alone Redis shows, so tools that parse them find every field they expect.
"""

from __future__ import annotations

import hashlib
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterable

from respserver.config import VERSION
from respserver.core.state import Server
from respserver.registry import COMMANDS
from respserver.security.eviction import BASELINE

DEFAULT_SECTIONS = (
    "server clients memory persistence stats replication cpu module_list errorstats cluster "
    "keyspace"
).split()
# Every section in the order Redis prints them; "modules" is module_list's other name.
ALL_SECTIONS = (
    "server clients memory persistence stats replication cpu module_list commandstats "
    "errorstats latencystats cluster keyspace"
).split()
# respserver's own sections: printed after Redis's, in "default", "all" and "everything" too.
OWN_SECTIONS = ["query"]
_TITLES = {"module_list": "Modules", "cpu": "CPU"}


def render(server: Server, args: Iterable[bytes] = ()) -> bytes:
    """INFO's reply text for the section arguments ``args`` (none: the default sections)."""
    wanted = _sections(args)
    parts = []
    for name in ALL_SECTIONS + OWN_SECTIONS:
        if name in wanted:
            title = _TITLES.get(name, name.capitalize())
            lines = "".join(f"{k}:{v}\r\n" for k, v in _SECTIONS[name](server))
            parts.append(f"# {title}\r\n{lines}")
    return "\r\n".join(parts).encode()


def _sections(args: Iterable[bytes]) -> set[str]:
    """Which sections the arguments name, as Redis's genInfoSectionDict reads them."""
    names = [arg.decode("utf-8", "replace").lower() for arg in args] or ["default"]
    wanted = set()
    for name in names:
        if name == "default":
            wanted.update(DEFAULT_SECTIONS + OWN_SECTIONS)
        elif name in ("all", "everything"):
            wanted.update(ALL_SECTIONS + OWN_SECTIONS)
        elif name == "modules":
            wanted.add("module_list")
        else:
            wanted.add(name)
    return wanted


Fields = Iterable[tuple[str, object]]


def _server(server: Server) -> Fields:
    now = time.time()
    uptime = int(now - server.started)
    uname = platform.uname()
    yield from (
        ("redis_version", server.config.redis_version),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", hashlib.sha1(VERSION.encode()).hexdigest()[:15]),
        ("redis_mode", "standalone"),
        ("os", f"{uname.system} {uname.release} {uname.machine}"),
        ("arch_bits", 64 if sys.maxsize > 2**32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll" if sys.platform == "linux" else "kqueue"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("process_id", os.getpid()),
        ("process_supervised", "no"),
        ("run_id", server.run_id),
        ("tcp_port", server.config.port),
        ("server_time_usec", time.time_ns() // 1000),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", server.config.hz),
        ("configured_hz", server.config.hz),
        ("lru_clock", int(now) & (2**24 - 1)),
        ("executable", sys.executable),
        ("config_file", ""),
        ("io_threads_active", 0),
    )


def _clients(server: Server) -> Fields:
    yield from (
        ("connected_clients", len(server.clients)),
        ("cluster_connections", 0),
        ("maxclients", server.config.maxclients),
        ("client_recent_max_input_buffer", 0),
        ("client_recent_max_output_buffer", 0),
        ("blocked_clients", len(server.blocking.clients)),
        ("tracking_clients", server.tracking.clients),
        ("clients_in_timeout_table", server.blocking.with_timeout),
    )


def _memory(server: Server) -> Fields:
    # used_memory is respserver's estimate of the data set (security/eviction.py), the figure
    # maxmemory is checked against; the process's resident size is used_memory_rss.
    memory = server.memory
    used = memory.used_memory()
    peak = memory.peak
    rss = _resident_bytes()
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    maxmemory = server.maxmemory
    dataset = used - BASELINE
    yield from (
        ("used_memory", used),
        ("used_memory_human", human_bytes(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", human_bytes(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", human_bytes(peak)),
        ("used_memory_peak_perc", f"{100 * used / peak:.2f}%"),
        ("used_memory_startup", BASELINE),
        ("used_memory_dataset", dataset),
        ("total_system_memory", total),
        ("total_system_memory_human", human_bytes(total)),
        ("maxmemory", maxmemory),
        ("maxmemory_human", human_bytes(maxmemory)),
        ("maxmemory_policy", server.config.maxmemory_policy),
        ("mem_fragmentation_ratio", "1.00"),
        ("mem_allocator", "libc"),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
    )


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak is the best figure there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def human_bytes(n: int) -> str:
    """Redis's bytesToHuman: 1023B, 1.00K, 1.50M ..."""
    for power, unit in enumerate("KMGTP", start=1):
        if n < 1024 ** (power + 1):
            return f"{n / 1024**power:.2f}{unit}" if n >= 1024 else f"{n}B"
    return f"{n}B"


def _persistence(server: Server) -> Fields:
    persistence = server.persistence
    aof = 1 if persistence.aof is not None else 0
    child = persistence.child
    rewrite = child if child is not None and child.kind == "aof" else None
    bgsave = child if child is not None and child.kind == "rdb" else None
    yield from (
        ("loading", int(server.loading)),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", server.dirty),
        ("rdb_bgsave_in_progress", int(bgsave is not None)),
        ("rdb_last_save_time", server.last_save),
        ("rdb_last_bgsave_status", "ok" if persistence.last_save_ok else "err"),
        ("rdb_last_bgsave_time_sec", persistence.last_bgsave_seconds),
        (
            "rdb_current_bgsave_time_sec",
            -1 if bgsave is None else int(time.monotonic() - bgsave.started),
        ),
        ("rdb_saves", persistence.saves),
        ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", 0),
        ("rdb_last_load_keys_loaded", 0),
        ("aof_enabled", aof),
        ("aof_rewrite_in_progress", int(rewrite is not None)),
        ("aof_rewrite_scheduled", int("aof" in persistence.scheduled)),
        ("aof_last_rewrite_time_sec", persistence.last_rewrite_seconds),
        (
            "aof_current_rewrite_time_sec",
            -1 if rewrite is None else int(time.monotonic() - rewrite.started),
        ),
        ("aof_last_bgrewrite_status", "ok" if persistence.last_rewrite_ok else "err"),
        ("aof_rewrites", persistence.rewrites),
        ("aof_rewrites_consecutive_failures", 0),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    )
    if persistence.aof is not None:
        yield from (
            ("aof_current_size", persistence.aof.size),
            ("aof_base_size", persistence.base_size),
            ("aof_pending_rewrite", 0),
            ("aof_buffer_length", len(persistence.aof.pending)),
            ("aof_pending_bio_fsync", 0),
            ("aof_delayed_fsync", 0),
        )


def _rates(server: Server) -> tuple[int, float, float]:
    """Commands, input and output per second since the previous INFO (what `redis-cli --stat`
    and monitoring tools poll); the sample is kept on the server."""
    now = time.monotonic()
    counters = (server.total_commands, server.net_input_bytes, server.net_output_bytes)
    previous = server.info_sample
    if previous is None or any(c < p for c, p in zip(counters, previous[1], strict=True)):
        rates = (0, 0.0, 0.0)  # a first sample, or counters reset by CONFIG RESETSTAT
    elif now - previous[0] < 0.1:
        return previous[2]  # too short an interval to measure: repeat the last figures
    else:
        elapsed = now - previous[0]
        ops, read, written = (c - p for c, p in zip(counters, previous[1], strict=True))
        rates = (round(ops / elapsed), read / elapsed / 1024, written / elapsed / 1024)
    server.info_sample = (now, counters, rates)
    return rates


def _stats(server: Server) -> Fields:
    ops, input_kbps, output_kbps = _rates(server)
    errors = sum(s.failed_calls + s.rejected_calls for s in server.commandstats.values())
    exceeded_total, exceeded_now = server.memory.exceeded_seconds()
    yield from (
        ("total_connections_received", server.total_connections),
        ("total_commands_processed", server.total_commands),
        ("instantaneous_ops_per_sec", ops),
        ("total_net_input_bytes", server.net_input_bytes),
        ("total_net_output_bytes", server.net_output_bytes),
        ("total_net_repl_input_bytes", 0),
        ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", f"{input_kbps:.2f}"),
        ("instantaneous_output_kbps", f"{output_kbps:.2f}"),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", server.rejected_connections),
        ("sync_full", 0),
        ("sync_partial_ok", 0),
        ("sync_partial_err", 0),
        ("expired_keys", server.expired_keys),
        ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", 0),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", server.memory.evicted),
        ("evicted_clients", 0),
        ("total_eviction_exceeded_time", int(exceeded_total * 1000)),
        ("current_eviction_exceeded_time", int(exceeded_now * 1000)),
        ("keyspace_hits", server.keyspace_hits),
        ("keyspace_misses", server.keyspace_misses),
        ("pubsub_channels", len(server.pubsub.channels)),
        ("pubsub_patterns", len(server.pubsub.patterns)),
        ("pubsubshard_channels", len(server.pubsub.shard_channels)),
        ("latest_fork_usec", 0),
        ("total_forks", 0),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", len(server.tracking.table)),
        ("tracking_total_items", server.tracking.items),
        ("tracking_total_prefixes", len(server.tracking.prefixes)),
        ("unexpected_error_replies", 0),
        ("total_error_replies", errors),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", 0),
        ("total_writes_processed", 0),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", 0),
        ("reply_buffer_expands", 0),
    )


def _replication(server: Server) -> Fields:
    yield from (
        ("role", "master"),
        ("connected_slaves", 0),
        ("master_failover_state", "no-failover"),
        ("master_replid", hashlib.sha1(server.run_id.encode()).hexdigest()),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", 0),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", 1048576),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    )


def _cpu(server: Server) -> Fields:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    thread = resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF))
    yield from (
        ("used_cpu_sys", f"{own.ru_stime:.6f}"),
        ("used_cpu_user", f"{own.ru_utime:.6f}"),
        ("used_cpu_sys_children", f"{children.ru_stime:.6f}"),
        ("used_cpu_user_children", f"{children.ru_utime:.6f}"),
        ("used_cpu_sys_main_thread", f"{thread.ru_stime:.6f}"),
        ("used_cpu_user_main_thread", f"{thread.ru_utime:.6f}"),
    )


def _commandstats(server: Server) -> Fields:
    for name, stats in server.commandstats.items():
        if name not in _command_names() or not (
            stats.calls or stats.failed_calls or stats.rejected_calls
        ):
            continue
        per_call = stats.usec / stats.calls if stats.calls else 0
        yield (
            f"cmdstat_{name}",
            f"calls={stats.calls},usec={stats.usec},usec_per_call={per_call:.2f},"
            f"rejected_calls={stats.rejected_calls},failed_calls={stats.failed_calls}",
        )


def _command_names() -> set[str]:
    names = set()
    for spec in COMMANDS.values():
        names.add(spec.name)
        names.update(sub.name for sub in spec.subcommands.values())
    return names


def _keyspace(server: Server) -> Fields:
    now_ms = time.time_ns() // 1_000_000
    for db in server.databases:
        if db.data or db.expires:
            remaining = [when - now_ms for when in db.expires.values() if when > now_ms]
            avg_ttl = sum(remaining) // len(remaining) if remaining else 0
            yield (
                f"db{db.index}",
                f"keys={len(db.data)},expires={len(db.expires)},avg_ttl={avg_ttl}",
            )


def _query(server: Server) -> Fields:
    indexes = server.indexes
    yield from (
        ("query_index_served", indexes.served),
        ("query_scan_served", indexes.scanned),
        ("query_keys_examined", indexes.examined),
    )
    for number, kind, field, index in indexes.every():
        # Entries are keys indexed; bytes are approximate (see approximate_bytes).
        yield (
            f"index_{number}_{kind}_{_field_name(field)}",
            f"entries={len(index)},bytes={index.approximate_bytes()}",
        )


_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def _field_name(field: bytes) -> str:
    """A field name safe on an INFO line: other bytes than letters, digits, _ - . as \\xHH."""
    return "".join(chr(b) if b in _PLAIN else f"\\x{b:02x}" for b in field)


def _nothing(server: Server) -> Fields:
    # No modules; error and latency breakdowns are not collected (Redis's counters have no
    # counterpart here), so these sections are present but empty.
    return ()


_SECTIONS: dict[str, Callable[[Server], Fields]] = {
    "server": _server,
    "clients": _clients,
    "memory": _memory,
    "persistence": _persistence,
    "stats": _stats,
    "replication": _replication,
    "cpu": _cpu,
    "module_list": _nothing,
    "commandstats": _commandstats,
    "errorstats": _nothing,
    "latencystats": _nothing,
    "cluster": lambda server: (("cluster_enabled", 0),),
    "keyspace": _keyspace,
    "query": _query,
}
