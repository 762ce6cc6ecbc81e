"""Durability, as the table owner sees it: the append-only file it writes and replays.

The owner calls ``feed`` for every write command that changed something (in the deterministic
form its handler chose, see ``Client.propagate_as``) and for every key that expired, so the log
holds the writes in the order they were applied. After each round of batches it calls ``flush``,
which writes them as one chunk (respserver/aof.py) *before* the replies leave; under
``appendfsync always`` it then waits for fsync before delivering. A MULTI/EXEC block is fed
between ``begin_exec`` and ``end_exec`` and written wrapped in MULTI ... EXEC, inside one chunk,
so a crash keeps all of it or none.

Nothing here runs Trio: the owner and ``respserver.server`` decide when to call what.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from respserver import aof
from respserver.keyspace import Database

log = logging.getLogger("respserver")

_MULTI, _EXEC = [b"MULTI"], [b"EXEC"]


@dataclass
class AppendOnlyFile:
    """The open AOF: its descriptor, what waits to be written, and what is not yet fsynced."""

    path: str
    fd: int
    size: int
    pending: bytearray = field(default_factory=bytearray)
    selected: int = -1  # the database the file's last SELECT chose
    unsynced: bool = False  # written since the last fsync

    @classmethod
    def open(cls, path: str) -> AppendOnlyFile:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return cls(path, fd, os.fstat(fd).st_size)

    def feed(self, db: int, commands: list[list[bytes]]) -> None:
        if db != self.selected:
            aof.encode_commands(self.pending, [[b"SELECT", b"%d" % db]])
            self.selected = db
        aof.encode_commands(self.pending, commands)

    def write(self) -> bool:
        """Write what is pending as one chunk; True if anything was written."""
        if not self.pending:
            return False
        data = memoryview(aof.chunk(self.pending))
        self.pending = bytearray()
        self.size += len(data)
        while data:
            data = data[os.write(self.fd, data) :]
        self.unsynced = True
        return True

    def fsync(self) -> None:
        os.fsync(self.fd)
        self.unsynced = False

    def close(self) -> None:
        self.write()
        self.fsync()
        os.close(self.fd)


class Persistence:
    """The server's durability state; also a keyspace listener, for expiries."""

    def __init__(self, config: dict[str, str]) -> None:
        self.config = config
        self.aof: AppendOnlyFile | None = None
        self._exec: list[tuple[int, list[list[bytes]]]] | None = None  # fed inside EXEC

    # -- the path of a write --------------------------------------------------------------------

    def feed(self, db: int, commands: list[list[bytes]]) -> None:
        """Log ``commands``, run on database ``db``; a no-op with the AOF off."""
        if self.aof is None:
            return
        if self._exec is not None:
            self._exec.append((db, commands))
        else:
            self.aof.feed(db, commands)

    def begin_exec(self) -> None:
        if self.aof is not None:
            self._exec = []

    def end_exec(self) -> None:
        fed, self._exec = self._exec, None
        if fed and self.aof is not None:
            self.aof.feed(self.aof.selected if self.aof.selected >= 0 else fed[0][0], [_MULTI])
            for db, commands in fed:
                self.aof.feed(db, commands)
            self.aof.feed(self.aof.selected, [_EXEC])

    def flush(self) -> bool:
        """Write what was fed since the last flush; True if ``appendfsync always`` now wants an
        fsync before the replies may leave."""
        aof_file = self.aof
        if aof_file is None or not aof_file.write():
            return False
        return self.config["appendfsync"] == "always"

    # -- keyspace listener ----------------------------------------------------------------------

    def key_changed(self, db: Database, key: bytes) -> None:
        pass  # the log records commands, fed by the owner

    def db_reset(self, db: Database) -> None:
        pass

    def key_expired(self, db: Database, key: bytes) -> None:
        """Redis propagates an expiry as a DEL, so a replay never depends on the clock."""
        self.feed(db.index, [[b"DEL", key]])

    # -- opening and closing ----------------------------------------------------------------------

    @property
    def aof_path(self) -> str:
        return os.path.join(self.config["dir"], self.config["appendfilename"])

    def open_aof(self) -> None:
        self.aof = AppendOnlyFile.open(self.aof_path)

    def handle_to_sync(self) -> int | None:
        """Under ``appendfsync everysec``, when something was written since the last fsync: a
        duplicate of the AOF's descriptor, for a worker thread to fsync and close (the owner may
        meanwhile replace the file; syncing the old one is then harmless)."""
        aof_file = self.aof
        if aof_file is None or not aof_file.unsynced or self.config["appendfsync"] != "everysec":
            return None
        aof_file.unsynced = False
        return os.dup(aof_file.fd)

    def close(self) -> None:
        """Write and fsync everything (shutdown)."""
        if self.aof is not None:
            self.aof.close()
            self.aof = None


class LoadError(Exception):
    """The data set cannot be loaded: the server must not start."""


@dataclass
class LoadProgress:
    """What a load has done so far, for the log lines and INFO."""

    path: str
    size: int
    commands: int = 0
    offset: int = 0
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        percent = 100 * self.offset / self.size if self.size else 100
        return (
            f"Loading {self.path}: {self.commands} commands, {percent:.0f}%, "
            f"{self.commands / elapsed:.0f} commands/s"
        )


def replay_aof(
    path: str, apply: Callable[[list[bytes]], None], truncated_ok: bool
) -> Iterator[LoadProgress]:
    """Apply every command of the AOF at ``path``, yielding after each chunk so the caller can
    serve other clients and log progress. A torn tail is cut off the file with a warning, as
    Redis's ``aof-load-truncated yes`` does; other damage raises LoadError naming the offset."""
    progress = LoadProgress(path, os.path.getsize(path))
    with open(path, "rb") as file:
        try:
            for item in aof.read_chunks(file, progress.size):
                if isinstance(item, aof.Truncated):
                    _torn(path, item, truncated_ok)
                    break
                progress.offset, commands = item
                for argv in commands:
                    apply(argv)
                progress.commands += len(commands)
                yield progress
        except aof.AofError as exc:
            raise LoadError(
                f"Bad file format reading the append only file {path} at offset {exc.offset}"
                f" ({exc.reason}): make a backup of it, then repair it with"
                f" 'respserver check-aof --fix {path}'"
            ) from None


def _torn(path: str, where: aof.Truncated, truncated_ok: bool) -> None:
    if not truncated_ok:
        raise LoadError(
            f"Unexpected end of file reading the append only file {path} at offset"
            f" {where.offset} ({where.reason}). You can: 1) make a backup of it, then repair it"
            f" with 'respserver check-aof --fix {path}'; 2) set 'aof-load-truncated yes'."
        )
    log.warning("!!! Warning: short read while loading the AOF file %s!!!", path)
    log.warning("!!! Truncating the AOF at offset %d (%s) !!!", where.offset, where.reason)
    os.truncate(path, where.offset)
    log.warning("AOF loaded anyway because aof-load-truncated is enabled")
