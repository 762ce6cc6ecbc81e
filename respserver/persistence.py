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

import contextlib
import gc
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from respserver import aof
from respserver.errors import CommandError
from respserver.keyspace import Database, now_ms

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
    also: bytearray | None = None  # during a rewrite: every chunk again, for the new file

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
        framed = aof.chunk(self.pending)
        if self.also is not None:
            self.also += framed
        data = memoryview(framed)
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


@dataclass
class Rewrite:
    """A background rewrite: the forked child writing ``temp``, and when it began."""

    pid: int
    temp: str
    started: float = field(default_factory=time.monotonic)


class Persistence:
    """The server's durability state; also a keyspace listener, for expiries."""

    def __init__(self, config: dict[str, str]) -> None:
        self.config = config
        self.aof: AppendOnlyFile | None = None
        self._exec: list[tuple[int, list[list[bytes]]]] | None = None  # fed inside EXEC
        self.rewrite: Rewrite | None = None
        self.base_size = 0  # the AOF's size after the last rewrite (or load): auto-rewrite's base
        self.rewrites = 0
        self.last_rewrite_ok = True
        self.last_rewrite_seconds = -1

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
        self.base_size = self.aof.size

    def configure(self, databases: list[Database]) -> None:
        """Apply ``appendonly`` after CONFIG SET: turning it on writes the data set to a fresh
        AOF (synchronously: the owner pauses for it), turning it off closes the file."""
        wanted = self.config["appendonly"] == "yes"
        if wanted and self.aof is None:
            _write_atomically(self.aof_path, aof.snapshot(_contents(databases), now_ms()))
            self.open_aof()
        elif not wanted and self.aof is not None:
            self.close()

    # -- rewriting --------------------------------------------------------------------------------

    def start_rewrite(self, databases: list[Database]) -> None:
        """BGREWRITEAOF: fork; the child writes the data set as it is now to a temporary file,
        while the parent keeps serving and keeps a copy of every chunk it logs meanwhile. The
        switch happens in ``cron`` once the child is done."""
        if self.rewrite is not None:
            raise CommandError("ERR Background append only file rewriting already in progress")
        if self.aof is not None:
            self.aof.write()  # what is fed so far is in the data the child sees: not in the copy
            self.aof.also = bytearray()
            self.aof.selected = -1  # the new file's next chunk must say its database
        temp = os.path.join(self.config["dir"], f"temp-rewriteaof-bg-{os.getpid()}.aof")
        contents = list(_contents(databases))
        pid = os.fork()
        if pid == 0:
            _child(temp, aof.snapshot(contents, now_ms()))
        self.rewrite = Rewrite(pid, temp)
        log.info("Background append only file rewriting started by pid %d", pid)

    def cron(self, databases: list[Database]) -> None:
        """The owner's periodic housekeeping: finish a rewrite whose child exited, or start one
        when the file grew past ``auto-aof-rewrite-percentage`` of its base size."""
        if self.rewrite is not None:
            pid, status = os.waitpid(self.rewrite.pid, os.WNOHANG)
            if pid:
                self._finish_rewrite(os.waitstatus_to_exitcode(status) == 0)
            return
        aof_file = self.aof
        percentage = int(self.config["auto-aof-rewrite-percentage"])
        if aof_file is None or not percentage:
            return
        base = self.base_size or 1
        big_enough = aof_file.size >= int(self.config["auto-aof-rewrite-min-size"])
        if big_enough and (aof_file.size - base) * 100 / base >= percentage:
            log.info("Starting automatic rewriting of AOF on %d%% growth", percentage)
            self.start_rewrite(databases)

    def _finish_rewrite(self, child_ok: bool) -> None:
        rewrite, self.rewrite = self.rewrite, None
        aof_file = self.aof
        copy = b"" if aof_file is None else aof_file.also
        if aof_file is not None:
            aof_file.also = None
        self.last_rewrite_seconds = int(time.monotonic() - rewrite.started)
        try:
            if not child_ok:
                raise OSError("the rewriting child failed")
            fd = os.open(rewrite.temp, os.O_WRONLY | os.O_APPEND)
            try:
                _write_all(fd, copy)  # what was logged while the child wrote
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(rewrite.temp, self.aof_path)  # atomic: the old file or the new, never half
            _fsync_directory(self.aof_path)
        except OSError as exc:
            self.last_rewrite_ok = False
            log.warning("Background AOF rewrite failed: %s", exc)
            with contextlib.suppress(OSError):
                os.unlink(rewrite.temp)
            return
        self.last_rewrite_ok = True
        self.rewrites += 1
        if aof_file is not None:
            replacement = AppendOnlyFile.open(self.aof_path)
            replacement.pending, replacement.selected = aof_file.pending, aof_file.selected
            os.close(aof_file.fd)
            self.aof = replacement
            self.base_size = replacement.size
        log.info("Background AOF rewrite finished successfully")

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


def _contents(databases: list[Database]) -> list[tuple[int, dict, dict]]:
    return [(db.index, db.data, db.expires) for db in databases if db.data]


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_chunks(fd: int, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        _write_all(fd, chunk)
    os.fsync(fd)


def _write_atomically(path: str, chunks: Iterable[bytes]) -> None:
    """Write a whole file next to ``path``, fsync it, then rename it over ``path``."""
    temp = f"{path}.temp-{os.getpid()}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _write_chunks(fd, chunks)
    finally:
        os.close(fd)
    os.replace(temp, path)
    _fsync_directory(path)


def _fsync_directory(path: str) -> None:
    """Make a rename durable: fsync the directory that holds ``path``."""
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _child(temp: str, chunks: Iterable[bytes]) -> None:
    """In the forked child: write the snapshot and leave at once, running no parent code (no
    Trio, no atexit); the collector stays off so that pages stay shared with the parent."""
    gc.disable()
    code = 1
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        _write_chunks(fd, chunks)
        os.close(fd)
        code = 0
    finally:
        os._exit(code)


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
