"""Client-side caching: CLIENT TRACKING's table of which clients may hold which keys, and the
invalidation messages a change sends them, as Redis 7.0's tracking.c keeps them.

Default mode: after a read-only command of a tracking client, its keys are remembered for
that client (OPTIN: only when CLIENT CACHING yes came just before; OPTOUT: unless CLIENT CACHING
no did). A change to a remembered key (``key_changed``: this is a listener of every database)
sends each client that holds it one ``invalidate`` message naming the key, and forgets the key:
the client must read it again to hear of the next change. BCAST mode: a client names prefixes
instead (none: every key), and the keys changed under each prefix go to its clients in one
message per prefix, when the owner finishes its round (Redis's beforeSleep). FLUSHDB and
FLUSHALL invalidate everything: a null instead of keys.

Where a message goes: a RESP3 client gets a push (``>2 invalidate [keys]``); with REDIRECT, the
client named gets it instead, as a push if it speaks RESP3, else as a pub/sub message on
``__redis__:invalidate`` if it is subscribed (RESP2 has no pushes otherwise). An invalidation
of a key the running command's own client holds is sent after that command's reply (after
EXEC's whole reply), as Redis 7.0 defers it; NOLOOP leaves such keys out altogether.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from respserver.config import Config

if TYPE_CHECKING:
    from respserver.keyspace.database import Changes, Database

# A key's invalidation, sent as a message's payload: an array of one bulk string.
_INVALIDATE = b">2\r\n$10\r\ninvalidate\r\n"
_REDIRECTED_RESP2 = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
_NULLS = {2: b"$-1\r\n", 3: b"_\r\n"}  # everything invalid, in the tracking client's protocol


@dataclass(slots=True)
class Mode:
    """A tracking client's CLIENT TRACKING options, and its state."""

    redirect: int = 0  # the client id messages go to (0: this client)
    bcast: bool = False
    optin: bool = False
    optout: bool = False
    noloop: bool = False
    caching: bool = False  # CLIENT CACHING yes/no given for the next command
    broken: bool = False  # the redirect client has gone
    prefixes: dict[bytes, None] = field(default_factory=dict)  # BCAST's, in the order given


class Client(Protocol):
    """What tracking needs of a client (core/state.py's)."""

    id: int
    resp: int
    tracking: Mode | None
    subscriptions: int

    def push_encoded(self, resp2: bytes, resp3: bytes) -> None: ...


@dataclass(slots=True)
class _Prefix:
    """A BCAST prefix: its clients, and the keys under it changed since the last broadcast,
    each with the client that changed it last (NOLOOP leaves those out for that client)."""

    clients: dict[Client, None] = field(default_factory=dict)
    changed: dict[bytes, Client | None] = field(default_factory=dict)


class Tracking:
    """Every tracking client's remembered keys and prefixes; a listener of the databases while
    any client tracks."""

    def __init__(
        self,
        clients: dict[int, Client],
        listeners: list,
        changes: Changes,
        config: Config,
    ) -> None:
        self._clients = clients  # the server's, by id
        self._lookup = clients.get  # a client by id, or None once it has gone
        self._listeners = listeners  # the databases' (shared): joined while anyone tracks
        self._changes = changes  # its ``flushes`` count tells of FLUSHDB/FLUSHALL
        self.clients = 0  # how many clients track (INFO tracking_clients)
        self.table: dict[bytes, dict[int, None]] = {}  # key -> ids of clients holding it
        self.items = 0  # the table's (key, client) pairs (INFO tracking_total_items)
        self.prefixes: dict[bytes, _Prefix] = {}
        self.current: Client | None = None  # whose top-level command runs
        self._pending: list[bytes] = []  # payloads for ``current``, after its reply
        self._flushes = 0
        self._config = config  # tracking-table-max-keys (0: no limit)
        self._effort = 0  # rounds the table stayed over the limit

    # -- CLIENT TRACKING ---------------------------------------------------------------------

    def enable(self, client: Client, mode: Mode) -> None:
        """Start tracking (or change the options of a client that does)."""
        if client.tracking is None:
            self.clients += 1
            if self.clients == 1:
                self._listeners.append(self)
                self._flushes = self._changes.flushes
        else:
            mode.prefixes = {**client.tracking.prefixes, **mode.prefixes}
        client.tracking = mode
        if mode.bcast:
            for prefix in mode.prefixes or {b"": None}:
                mode.prefixes[prefix] = None
                self.prefixes.setdefault(prefix, _Prefix()).clients[client] = None

    def disable(self, client: Client) -> None:
        """Stop tracking: CLIENT TRACKING off, RESET, or the client gone. Its remembered keys
        are forgotten lazily, as Redis does (a message for a client not tracking is dropped)."""
        mode = client.tracking
        if mode is None:
            return
        for prefix in mode.prefixes:
            state = self.prefixes[prefix]
            state.clients.pop(client, None)
            if not state.clients:
                del self.prefixes[prefix]
        client.tracking = None
        self.clients -= 1
        if not self.clients:
            self._listeners.remove(self)
            self.table.clear()
            self.items = 0

    def overlapping(self, client: Client, prefixes: list[bytes]) -> tuple[bytes, bytes, bool]:
        """The first pair of prefixes that would invalidate the same key: (given, other, whether
        the other is one the client has already), or empty."""
        mine = client.tracking.prefixes if client.tracking is not None else {}
        for i, prefix in enumerate(prefixes):
            for existing in mine:
                if _overlap(prefix, existing):
                    return prefix, existing, True
            for other in prefixes[i + 1 :]:
                if _overlap(prefix, other):
                    return prefix, other, False
        return b"", b"", False

    # -- around each command (core/dispatch.call) ------------------------------------------

    def begin(self, client: Client) -> bool:
        """A command of ``client`` starts; True if it is a top-level one (not inside EXEC)."""
        if self.current is not None:
            return False
        self.current = client
        limit = self._config.tracking_table_max_keys
        if limit and len(self.table) > limit:
            self._shrink(limit)
        return True

    def remember(self, client: Client, keys: list[bytes]) -> None:
        """After a read-only command of a tracking client: it may now cache these keys."""
        mode = client.tracking
        if mode.bcast or (mode.optin and not mode.caching) or (mode.optout and mode.caching):
            return
        for key in keys:
            holders = self.table.get(key)
            if holders is None:
                holders = self.table[key] = {}
            if client.id not in holders:
                holders[client.id] = None
                self.items += 1

    def end(self, client: Client, keeps_caching: bool) -> None:
        """The top-level command of ``client`` has its reply: the invalidations it caused for
        itself follow it. CLIENT CACHING's choice lasts for one command (or one transaction)
        unless this was a CLIENT command or a MULTI is open (``keeps_caching``)."""
        if self._flushes != self._changes.flushes:
            self._flushes = self._changes.flushes
            self._flushed()
        self.current = None
        if self._pending:
            pending, self._pending = self._pending, []
            if client.tracking is not None:
                for payload in pending:
                    self._send(client, payload)
        if client.tracking is not None and not keeps_caching:
            client.tracking.caching = False

    # -- changes -----------------------------------------------------------------------------

    def key_changed(self, db: Database, key: bytes) -> None:
        """Redis's trackingInvalidateKey: told by the databases of every change."""
        if self.prefixes:
            for prefix, state in self.prefixes.items():
                if key.startswith(prefix):
                    state.changed[key] = self.current
        self._invalidate(key)

    def db_reset(self, db: Database) -> None:
        """A database emptied or swapped: FLUSHDB/FLUSHALL are told apart by the flush count,
        at the end of the command (SWAPDB invalidates nothing, as in Redis)."""

    def broadcast(self) -> None:
        """BCAST: the keys changed under each prefix since the last time, to its clients (the
        owner calls this once per round, as Redis does before it sleeps)."""
        for prefix in sorted(self.prefixes):
            state = self.prefixes[prefix]
            if not state.changed:
                continue
            changed, state.changed = state.changed, {}
            keys = sorted(changed)
            payload = _array(keys)
            for client in list(state.clients):
                if client.tracking.noloop:
                    own = [key for key in keys if changed[key] is not client]
                    if own:
                        self._send(client, _array(own))
                else:
                    self._send(client, payload)

    def _invalidate(self, key: bytes) -> None:
        holders = self.table.pop(key, None)
        if holders is None:
            return
        self.items -= len(holders)
        for client_id in holders:
            target = self._lookup(client_id)
            if target is None or target.tracking is None or target.tracking.bcast:
                continue
            if target is self.current:
                if not target.tracking.noloop:
                    self._pending.append(_array((key,)))
            else:
                self._send(target, _array((key,)))

    def _flushed(self) -> None:
        """Redis's trackingInvalidateKeysOnFlush: every tracking client hears that all keys
        changed, and the table starts empty."""
        for client in list(self._clients.values()):
            if client.tracking is None:
                continue
            payload = _NULLS[client.resp]
            if client is self.current:
                self._pending.append(payload)
            else:
                self._send(client, payload)
        self.table.clear()
        self.items = 0

    def _shrink(self, limit: int) -> None:
        """Over tracking-table-max-keys: forget random keys, telling their holders as if the
        keys changed, with more effort each time the table is still over (Redis's
        trackingLimitUsedSlots)."""
        effort = 100 * (self._effort + 1)
        keys = random.sample(list(self.table), min(effort, len(self.table)))
        for key in keys:
            self._invalidate(key)
            if len(self.table) <= limit:
                self._effort = 0
                return
        self._effort += 1

    def _send(self, client: Client, payload: bytes) -> None:
        """Redis's sendTrackingMessage: to the client, or where it redirects; a redirect to a
        client gone marks it broken and tells the client (RESP3)."""
        mode = client.tracking
        target = client
        if mode.redirect:
            target = self._lookup(mode.redirect)
            if target is None:
                mode.broken = True
                if client.resp == 3:
                    frame = b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % mode.redirect
                    client.push_encoded(frame, frame)
                return
        if target.resp == 3:
            frame = _INVALIDATE + payload
        elif mode.redirect and target.subscriptions:
            frame = _REDIRECTED_RESP2 + payload
        else:
            return  # RESP2 without a subscribed redirect: nowhere to say it
        target.push_encoded(frame, frame)


def _array(keys: list[bytes] | tuple[bytes, ...]) -> bytes:
    return b"*%d\r\n" % len(keys) + b"".join(b"$%d\r\n%s\r\n" % (len(k), k) for k in keys)


def _overlap(a: bytes, b: bytes) -> bool:
    return a.startswith(b) or b.startswith(a)
