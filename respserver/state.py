"""What the table owner keeps besides the data: its clients, configuration and counters."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from respserver.config import apply_directives, output_buffer_limits
from respserver.index import Indexes
from respserver.keyspace import Database, Listener
from respserver.persistence import Persistence

log = logging.getLogger("respserver")

VERSION = "7.0.15"  # the Redis version whose behaviour respserver follows, as INFO and HELLO report


def default_config() -> dict[str, str]:
    """CONFIG parameters that exist here, with Redis's defaults (CONFIG GET shows these)."""
    return {
        "bind": "127.0.0.1",
        "port": "6379",
        "databases": "16",
        "loglevel": "notice",
        "save": "",
        "appendonly": "no",
        "appendfsync": "everysec",
        "aof-load-truncated": "yes",
        "auto-aof-rewrite-percentage": "100",
        "auto-aof-rewrite-min-size": str(64 * 1024 * 1024),
        "dir": os.getcwd(),
        "dbfilename": "dump.rdb",
        "appendfilename": "appendonly.aof",
        "appenddirname": "appendonlydir",
        "maxclients": "10000",
        "maxmemory": "0",
        "maxmemory-policy": "noeviction",
        "maxmemory-eviction-tenacity": "10",
        "maxmemory-clients": "0",
        "timeout": "0",
        "tcp-keepalive": "300",
        "requirepass": "",
        "protected-mode": "yes",
        "proto-max-bulk-len": str(512 * 1024 * 1024),
        "client-query-buffer-limit": str(1024 * 1024 * 1024),
        "hz": "10",
        "busy-reply-threshold": "5000",
        "slowlog-log-slower-than": "10000",
        "slowlog-max-len": "128",
        "latency-monitor-threshold": "0",
        "notify-keyspace-events": "",
        "hash-max-listpack-entries": "512",
        "hash-max-listpack-value": "64",
        "zset-max-listpack-entries": "128",
        "zset-max-listpack-value": "64",
        "set-max-intset-entries": "512",
        "list-max-listpack-size": "-2",
        "activerehashing": "yes",
        "daemonize": "no",
        "io-threads": "1",
        "cluster-enabled": "no",
        "replica-read-only": "yes",
        "maxmemory-samples": "5",
        "lazyfree-lazy-user-del": "no",
        "tcp-backlog": "511",
        "unixsocket": "",
        "unixsocketperm": "0",
        "client-output-buffer-limit": (
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        ),
        "query-indexes": "yes",  # respserver's own: "no" makes QUERY scan and drop its indexes
    }


@dataclass(eq=False)
class Client:
    """One connection as the owner sees it: its session state. Only the owner changes it."""

    server: Server
    id: int
    addr: str
    laddr: str
    fd: int = -1
    db: Database = field(init=False)
    resp: int = 2
    name: bytes = b""
    lib_name: bytes = b""
    lib_ver: bytes = b""
    created: float = field(default_factory=time.time)
    last_interaction: float = field(default_factory=time.time)
    last_command: str = "NULL"
    multi: list[list[bytes]] | None = None  # commands queued since MULTI
    multi_failed: bool = False  # a command was refused while queuing: EXEC aborts
    watched: list[tuple[Database, bytes]] = field(default_factory=list)
    dirty_cas: bool = False  # a watched key changed: EXEC fails
    closing: bool = False  # set by QUIT/CLIENT KILL: the transport closes after the reply
    kill: Callable[[], None] = lambda: None  # transport's hook to end the connection now
    # What the AOF logs for the running command instead of its own arguments, when those
    # depend on the clock or on chance (set by the handler through propagate_as).
    rewritten: list[list[bytes]] | None = None
    loader: bool = False  # replays a data set: runs while the server is loading
    authenticated: bool = True  # False until AUTH when requirepass is set (new_client decides)
    over_soft_limit_since: float | None = None  # output past the soft limit since then
    pending_output: int = 0  # reply bytes the transport holds, not yet sent (it keeps this)

    def __post_init__(self) -> None:
        self.db = self.server.databases[0]

    def over_output_limit(self, pending: int) -> bool:
        """Redis's checkClientOutputBufferLimits for a normal client holding ``pending`` bytes
        of replies: past the hard limit, or past the soft one for longer than its seconds.
        Closes the client when so."""
        hard, soft, seconds = self.server.output_limits
        if soft and pending > soft:
            now = time.monotonic()
            if self.over_soft_limit_since is None:
                self.over_soft_limit_since = now
            over = now - self.over_soft_limit_since > seconds
        else:
            self.over_soft_limit_since = None
            over = False
        if over or (hard and pending > hard):
            log.warning(
                "Client id=%d addr=%s closed for overcoming of output buffer limits.",
                self.id,
                self.addr,
            )
            self.closing = True
            self.kill()
            return True
        return False

    def propagate_as(self, *commands: list[bytes]) -> None:
        """Log ``commands`` for this write instead of its arguments: the deterministic form
        (absolute expiry times, resulting values) that replays to the same state."""
        self.rewritten = list(commands)

    def unwatch(self) -> None:
        for db, key in self.watched:
            clients = db.watchers.get(key)
            if clients is not None:
                clients.discard(self)
                if not clients:
                    del db.watchers[key]
        self.watched = []
        self.dirty_cas = False


@dataclass(slots=True)
class CommandStats:
    calls: int = 0
    nsec: int = 0  # summed in ns: most commands take under a microsecond
    rejected_calls: int = 0
    failed_calls: int = 0

    @property
    def usec(self) -> int:
        return self.nsec // 1000


class Server:
    """Everything the owner task holds: databases, clients, configuration, statistics."""

    def __init__(self, databases: int = 16, config: dict[str, str] | None = None) -> None:
        self.config = default_config()
        # Checked and normalised as redis-server checks its start-up directives ("20kb").
        apply_directives(self.config, list((config or {}).items()))
        self.config["databases"] = str(databases)
        self.derive_from_config()
        self.indexes = Indexes()  # QUERY's equality indexes, kept current as a listener
        self.persistence = Persistence(self)  # AOF and snapshots; told of expiries
        self.listeners: list[Listener] = [self.indexes]
        self.loading = False  # a data set is loading: most commands get -LOADING
        self.stop: Callable[[], None] = lambda: None  # ends serving (SHUTDOWN); set by serve
        expired = self.persistence.key_expired
        self.databases = [Database(i, self.listeners, expired) for i in range(databases)]
        self.clients: dict[int, Client] = {}
        self._next_client_id = 1
        self.started = time.time()
        self.run_id = os.urandom(20).hex()
        self.commandstats: dict[str, CommandStats] = {}
        self.total_connections = 0
        self.rejected_connections = 0
        self.keyspace_hits = 0
        self.keyspace_misses = 0
        self.net_input_bytes = 0
        self.net_output_bytes = 0
        self.dirty = 0  # writes since start (Redis's server.dirty)
        self.last_save = int(time.time())

    def derive_from_config(self) -> None:
        """Parse once what the per-batch path reads from ``config``: the normal class's (hard,
        soft, soft seconds) of client-output-buffer-limit, and whether any limit is set."""
        limits = output_buffer_limits(self.config["client-output-buffer-limit"])["normal"]
        self.output_limits, self.output_limited = limits, any(limits[:2])

    def config_changed(self) -> None:
        """After CONFIG SET: re-derive, and let persistence follow ``appendonly``."""
        self.derive_from_config()
        self.persistence.configure()

    def new_client(self, addr: str, laddr: str, fd: int = -1) -> Client:
        client = Client(self, self._next_client_id, addr, laddr, fd)
        client.authenticated = not self.config["requirepass"]
        self._next_client_id += 1
        self.clients[client.id] = client
        self.total_connections += 1
        return client

    def drop_client(self, client: Client) -> None:
        client.unwatch()
        self.clients.pop(client.id, None)

    def cron(self) -> None:
        """The owner's periodic job (``hz`` times a second), as Redis's serverCron."""
        for db in self.databases:
            if db.expires:
                db.expire_cycle()
        self.persistence.cron()
        self.close_idle_clients()
        if self.output_limited:
            for client in list(self.clients.values()):
                if client.pending_output:  # the soft limit's time runs while nothing is read
                    client.over_output_limit(client.pending_output)

    def close_idle_clients(self) -> None:
        """``timeout``: close a client that sent nothing for that many seconds."""
        timeout = int(self.config["timeout"])
        if timeout:
            idle_since = time.time() - timeout
            for client in list(self.clients.values()):
                if client.last_interaction < idle_since:
                    client.kill()

    @property
    def total_commands(self) -> int:
        return sum(stats.calls for stats in self.commandstats.values())

    @property
    def expired_keys(self) -> int:
        return sum(db.expired_count for db in self.databases)
