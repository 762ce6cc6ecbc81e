"""What the table owner keeps besides the data: its clients, configuration and counters."""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from respserver.config import Config, apply_directives, defaults, output_buffer_limits
from respserver.core.blocking import Block, Blocking
from respserver.core.pubsub import PubSub
from respserver.core.tracking import Mode, Tracking
from respserver.keyspace import events
from respserver.keyspace.database import Changes, Database, Listener
from respserver.persistence.durability import LoadError, Persistence
from respserver.query.index import Indexes
from respserver.query.live import LiveQueries
from respserver.resp.encoder import encode_into
from respserver.resp.types import Encoded, Push, Replies
from respserver.security.acl import User, Users
from respserver.security.eviction import Memory

log = logging.getLogger("respserver")

USERS_AND_ACLFILE = (
    "Configuring Redis with users defined in redis.conf and at the same setting an ACL file"
    " path is invalid. This setup is very likely to lead to configuration errors and security"
    " holes, please define either an ACL file or declare users directly in your redis.conf,"
    " but not both."
)
# Redis's PROTO_REPLY_CHUNK_BYTES: the size of the blocks its output buffers are made of.
REPLY_BLOCK = 16 * 1024


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
    # The flags of the commands queued (Redis's mstate.cmd_flags): EXEC's OOM and MISCONF checks.
    queued_flags: set[str] = field(default_factory=set)
    multi_failed: bool = False  # a command was refused while queuing: EXEC aborts
    watched: list[tuple[Database, bytes]] = field(default_factory=list)
    dirty_cas: bool = False  # a watched key changed: EXEC fails
    blocked: Block | None = None  # waiting on keys (BLPOP...): core/blocking.py
    deny_blocking: bool = False  # running EXEC's queue: a blocking command must not wait
    closing: bool = False  # set by QUIT/CLIENT KILL: the transport closes after the reply
    kill: Callable[[], None] = lambda: None  # transport's hook to end the connection now
    # What the AOF logs for the running command instead of its own arguments, when those
    # depend on the clock or on chance (set by the handler through propagate_as).
    rewritten: list[list[bytes]] | None = None
    loader: bool = False  # replays a data set: runs while the server is loading
    user: User = field(init=False)  # whom the connection acts as: ``default`` until AUTH
    authenticated: bool = True  # False until AUTH while the default user needs a password
    over_soft_limit_since: float | None = None  # output past the soft limit since then
    # What the transport holds for this client, kept current through ``buffers``: reply bytes
    # not yet sent (its output buffer) and bytes of a request not yet complete (query buffer).
    pending_output: int = 0
    query_buffer: int = 0
    # Pub/sub (core/pubsub.py): what this client listens to, in subscription order, and how
    # many subscriptions that is over channels and patterns (shard channels apart).
    channels: dict[bytes, None] = field(default_factory=dict)
    patterns: dict[bytes, None] = field(default_factory=dict)
    shard_channels: dict[bytes, None] = field(default_factory=dict)
    # The three modes that change how commands run, behind properties that keep ``plain``:
    # subscriptions over the three namespaces (nonzero puts a RESP2 client in subscriber
    # mode), MONITOR (sees every command; may not touch the keyspace), and CLIENT REPLY's
    # None (replies), "off", "skip next" (set by SKIP) or "skip" (this command).
    _subscriptions: int = 0
    _monitor: bool = False
    _reply_mode: str | None = None
    _tracking: Mode | None = None  # CLIENT TRACKING on: its options (core/tracking.py)
    # None of those: the dispatcher's fast path and plain reply encoding apply (one look).
    plain: bool = True
    no_evict: bool = False  # CLIENT NO-EVICT ON: shown only (no maxmemory-clients here)
    # Messages encoded for this client and not yet handed to its transport, and the
    # transport's hook that takes them (the owner calls it in order with the replies).
    pushes: bytearray = field(default_factory=bytearray)
    push_out: Callable[[bytearray, bool], None] = lambda data, done: None

    def __post_init__(self) -> None:
        self.db = self.server.databases[0]
        self.user = self.server.users.default

    def buffers(self, query: int, output: int) -> None:
        """The transport's report of this client's buffers (bytes held of an incomplete
        request, of unsent replies): kept in the server's total, which counts in used_memory
        and against maxmemory, as Redis counts client buffers."""
        server = self.server
        if self.id in server.clients:  # not once dropped: its buffers left the total then
            server.client_buffers += query - self.query_buffer + output - self.pending_output
        self.query_buffer, self.pending_output = query, output
        if server.maxmemory and output:
            server.check_memory = True  # the next command sees whether memory is over

    @property
    def subscriptions(self) -> int:
        return self._subscriptions

    @subscriptions.setter
    def subscriptions(self, count: int) -> None:
        self._subscriptions = count
        self._settle()

    @property
    def monitor(self) -> bool:
        return self._monitor

    @monitor.setter
    def monitor(self, on: bool) -> None:
        self._monitor = on
        self._settle()

    @property
    def tracking(self) -> Mode | None:
        return self._tracking

    @tracking.setter
    def tracking(self, mode: Mode | None) -> None:
        self._tracking = mode
        self._settle()

    @property
    def reply_mode(self) -> str | None:
        return self._reply_mode

    @reply_mode.setter
    def reply_mode(self, mode: str | None) -> None:
        self._reply_mode = mode
        self._settle()

    def _settle(self) -> None:
        self.plain = not (
            self._subscriptions
            or self._monitor
            or self._reply_mode is not None
            or self._tracking is not None
        )

    def reply_unplainly(self, out: bytearray, reply: object) -> None:
        """A reply for a client not ``plain``: encoded, or under CLIENT REPLY OFF or SKIP only
        its pub/sub messages; then its own MONITOR line, which Redis writes after it."""
        if self._reply_mode is None:
            encode_into(out, reply, self.resp == 3)
        else:
            self.reply_quietly(out, reply)
        if self.pushes:
            out += self.take_pushes()

    def push_encoded(self, resp2: bytes, resp3: bytes) -> None:
        """Queue a message for this client, encoded for either protocol: a pub/sub message (a
        RESP3 push, an array in RESP2) or a MONITOR line, encoded once for all receivers. The
        owner hands it to the transport after the command."""
        if not self.pushes:
            self.server.pushed.append(self)
        self.pushes += resp3 if self.resp == 3 else resp2

    def reply_quietly(self, out: bytearray, reply: object) -> None:
        """A reply under CLIENT REPLY OFF or SKIP: only its pub/sub messages (a subscription's
        confirmation, a message to itself) go out; then SKIP's state moves on, as Redis's
        commandProcessed moves it."""
        if type(reply) is Replies:
            pushes = [part for part in reply if type(part) in (Push, Encoded)]
            encode_into(out, Replies(pushes), self.resp == 3)
        self.pushes.clear()  # its own MONITOR line is a reply too
        if self.reply_mode == "skip":
            self.reply_mode = None
        elif self.reply_mode == "skip next":
            self.reply_mode = "skip"

    def take_pushes(self) -> bytearray:
        """The messages queued for this client, which now leave with its next reply."""
        pushes, self.pushes = self.pushes, bytearray()
        return pushes

    def describe(self, running: str = "") -> bytes:
        """This client's CLIENT LIST line, in Redis 7.2's format (7.0's plus lib-name and
        lib-ver). ``running`` names the command the client is running now, which Redis records
        before running it. qbuf is the incomplete request held, omem the unsent replies (in
        oll blocks of Redis's 16 KiB), multi-mem the commands queued since MULTI, tot-mem
        their sum; the rest are Redis internals with no counterpart here: they read 0."""
        now = time.time()
        multi_mem = sum(len(arg) for argv in self.multi for arg in argv) if self.multi else 0
        omem = self.pending_output
        tot_mem = self.query_buffer + omem + multi_mem
        fields = (
            f"id={self.id} addr={self.addr} laddr={self.laddr} fd={self.fd} "
            f"name={_text(self.name)} age={int(now - self.created)} "
            f"idle={int(now - self.last_interaction)} flags={self._flags()} db={self.db.index} "
            f"sub={len(self.channels)} psub={len(self.patterns)} ssub={len(self.shard_channels)} "
            f"multi={-1 if self.multi is None else len(self.multi)} "
            f"qbuf={self.query_buffer} qbuf-free=0 argv-mem=0 multi-mem={multi_mem} rbs=0 rbp=0 "
            f"obl=0 oll={-(-omem // REPLY_BLOCK)} omem={omem} tot-mem={tot_mem} "
            f"events=r cmd={running or self.last_command} user={_text(self.user.name)} "
            f"redir={self.tracking.redirect if self.tracking else -1} resp={self.resp} "
            f"lib-name={_text(self.lib_name)} lib-ver={_text(self.lib_ver)}"
        )
        return fields.encode()

    def _flags(self) -> str:
        flags = "O" if self.monitor else ""
        if self.subscriptions:
            flags += "P"
        if self.multi is not None:
            flags += "x"
        if self.blocked is not None:
            flags += "b"
        if self.tracking is not None:
            flags += "t"
            if self.tracking.broken:
                flags += "R"
            if self.tracking.bcast:
                flags += "B"
        if self.dirty_cas:
            flags += "d"
        if self.closing:
            flags += "c"
        if self.no_evict:
            flags += "e"
        return flags or "N"

    def log_denial(
        self,
        reason: str,
        obj: bytes,
        running: str,
        username: bytes | None = None,
        context: str = "",
    ) -> None:
        """Note in the ACL LOG what this client was refused: a command, a key or a login."""
        self.server.users.add_log(
            reason,
            context or ("toplevel" if self.multi is None else "multi"),
            obj,
            self.user.name if username is None else username,
            self.describe(running),
            self.server.config.acllog_max_len,
        )

    def reset_user(self) -> None:
        """Back to the ``default`` user, authenticated only if it needs no password, as a new
        connection (RESET; a deleted user's clients)."""
        self.user = self.server.users.default
        self.authenticated = self.server.users.default_open

    def over_output_limit(self, pending: int) -> bool:
        """Redis's checkClientOutputBufferLimits for a client holding ``pending`` bytes of
        replies (the pubsub class's limits once it subscribed, the normal class's before):
        past the hard limit, or past the soft one for longer than its seconds. Closes the
        client when so."""
        server = self.server
        hard, soft, seconds = server.pubsub_limits if self.subscriptions else server.output_limits
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
        self.config = defaults()
        # Every write through a database counts here (Redis's server.dirty): see ``dirty``.
        self.changes = Changes()
        self.changes.emit = self._notify
        given = dict(config or {})
        declared = given.pop("user", "")  # the configuration file's ``user`` lines
        # Checked and normalised as redis-server checks its start-up directives ("20kb").
        apply_directives(self.config, list(given.items()))
        self.config["databases"] = str(databases)
        self.users = Users()
        self.users.set_default_password(self.config.requirepass)
        self._requirepass = self.config.requirepass
        if declared:
            if self.config.aclfile:
                raise LoadError(USERS_AND_ACLFILE)
            try:
                for definition in declared.splitlines():
                    self.users.declare(definition.encode("utf-8", "surrogateescape"))
            except ValueError as exc:
                raise LoadError(f"{exc}\nCritical error while loading ACLs. Exiting.") from None
        if self.config.aclfile:
            try:
                self.users.replace(self.users.load_file(self.config.aclfile), lambda _: None)
            except ValueError as exc:
                raise LoadError(f"Aborting Redis startup because of ACL errors: {exc}") from None
        self.derive_from_config()
        self.indexes = Indexes()  # QUERY's equality indexes, kept current as a listener
        self.persistence = Persistence(self)  # AOF and snapshots; told of expiries
        self.listeners: list[Listener] = [self.indexes]
        self.loading = False  # a data set is loading: most commands get -LOADING
        # Why writes are refused while the disk fails us (MISCONF), or None; kept by persistence.
        self.disk_error: str | None = None
        self.stop: Callable[[], None] = lambda: None  # ends serving (SHUTDOWN); set by serve
        # CONFIG SET's apply steps, by parameter (config.set_many); set by what acts on them.
        self.config_appliers: dict[str, Callable[[Config], None]] = {}
        expired = self.persistence.key_expired
        self.databases = [
            Database(i, self.listeners, expired, self.changes) for i in range(databases)
        ]
        self.memory = Memory(self)  # maxmemory: the data set's estimated size, and eviction
        self.blocking = Blocking(self)  # clients blocked on keys
        self.pubsub = PubSub()
        # QWATCH's live queries (query/live.py): their messages go out as pub/sub messages,
        # each to the subscribers that may read its key; a channel nobody listens to ends its.
        self.live = LiveQueries(self.listeners, self._publish_about)
        self.pubsub.on_deserted = self.live.unwatch
        self.pushed: list[Client] = []  # clients with messages queued in ``pushes``
        self.monitors: dict[Client, None] = {}  # MONITOR clients, in the order they began
        # CLIENT PAUSE: until when (monotonic; 0: not paused), and whether only commands that
        # may change data are held (WRITE) or every command (ALL).
        self.paused_until = 0.0
        self.pause_writes_only = False
        self.memory.configure()
        self.clients: dict[int, Client] = {}
        self.tracking = Tracking(self.clients, self.listeners, self.changes, self.config)
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
        self.client_buffers = 0  # the clients' query and output buffers, in bytes
        self.last_save = int(time.time())
        # HSCAN's walks over big hashes, by (database, key), least recently used first.
        self.hscan_snapshots: OrderedDict = OrderedDict()
        # INFO's rates are measured between successive INFO calls: (time, counters, rates).
        self.info_sample: tuple | None = None

    def derive_from_config(self) -> None:
        """Parse once what the per-batch path reads from ``config``: the normal class's (hard,
        soft, soft seconds) of client-output-buffer-limit, and whether any limit is set;
        maxmemory, and whether it is set."""
        classes = output_buffer_limits(self.config.client_output_buffer_limit)
        limits, self.pubsub_limits = classes["normal"], classes["pubsub"]
        self.output_limits, self.output_limited = limits, any(limits[:2])
        self.maxmemory = self.config.maxmemory
        self.changes.events = events.flags_of(self.config.notify_keyspace_events)
        # Whether the next command passes the maxmemory check (core.dispatch.execute): set here and
        # whenever a write takes memory over maxmemory, cleared by eviction once under it.
        self.check_memory = self.maxmemory > 0

    def _publish_about(self, channel: bytes, message: bytes, key: bytes) -> None:
        self.pubsub.publish(channel, message, about=key)

    def _notify(self, db: int, event: bytes, key: bytes) -> None:
        """Publish a keyspace event on its channels (keyspace/events.py)."""
        for channel, message in events.channels(self.changes.events, db, event, key):
            self.pubsub.publish(channel, message)

    def config_changed(self) -> None:
        """After CONFIG SET: re-derive, let persistence follow ``appendonly``, and give a new
        ``requirepass`` to the default user (as its only password)."""
        if self.config.requirepass != self._requirepass:
            self._requirepass = self.config.requirepass
            self.users.set_default_password(self._requirepass)
        self.derive_from_config()
        self.memory.configure()
        self.persistence.configure()

    def pause(self, until: float, writes_only: bool) -> None:
        """CLIENT PAUSE: hold commands until ``until``; a pause already running keeps the
        later end and the stricter mode, as Redis combines them."""
        if self.paused_until and time.monotonic() < self.paused_until:
            until = max(until, self.paused_until)
            writes_only = writes_only and self.pause_writes_only
        self.paused_until, self.pause_writes_only = until, writes_only

    def unpause(self) -> None:
        """CLIENT UNPAUSE: the held commands run now, in the order they came."""
        self.paused_until = 0.0
        self.blocking.resume_postponed()

    def new_client(self, addr: str, laddr: str, fd: int = -1) -> Client:
        client = Client(self, self._next_client_id, addr, laddr, fd)
        client.authenticated = self.users.default_open
        self._next_client_id += 1
        self.clients[client.id] = client
        self.total_connections += 1
        return client

    def disconnect(self, client: Client, caller: Client) -> None:
        """Close a client's connection: at once, or after this reply when it is the caller."""
        client.closing = True
        if client is not caller:
            self.drop_client(client)
            client.kill()

    def drop_client(self, client: Client) -> None:
        client.unwatch()
        self.blocking.unblock(client)
        self.pubsub.drop(client)
        self.tracking.disable(client)
        self.monitors.pop(client, None)
        client.buffers(0, 0)  # out of the total while still counted as a client
        self.clients.pop(client.id, None)

    def cron(self) -> None:
        """The owner's periodic job (``hz`` times a second), as Redis's serverCron."""
        for db in self.databases:
            if db.expires:
                db.expire_cycle()
        self.persistence.cron()
        if self.maxmemory:
            self.memory.cron()
        self.close_idle_clients()
        if self.output_limited or self.pubsub.has_subscribers():
            for client in list(self.clients.values()):
                if client.pending_output:  # the soft limit's time runs while nothing is read
                    client.over_output_limit(client.pending_output)

    def close_idle_clients(self) -> None:
        """``timeout``: close a client that sent nothing for that many seconds."""
        timeout = self.config.timeout
        if timeout:
            idle_since = time.time() - timeout
            for client in list(self.clients.values()):
                if client.last_interaction < idle_since:
                    client.kill()

    @property
    def dirty(self) -> int:
        """Changes since the last save (Redis's server.dirty), counted by the databases' write
        API: a handler cannot change data without it counting."""
        return self.changes.dirty

    @dirty.setter
    def dirty(self, value: int) -> None:
        self.changes.dirty = value

    @property
    def total_commands(self) -> int:
        return sum(stats.calls for stats in self.commandstats.values())

    @property
    def expired_keys(self) -> int:
        return sum(db.expired_count for db in self.databases)


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")
