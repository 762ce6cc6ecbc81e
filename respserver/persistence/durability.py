"""Durability, as the table owner sees it: the append-only file it writes and replays.

The owner calls ``feed`` for every write command that changed something (in the deterministic
form its handler chose, see ``Client.propagate_as``) and for every key that expired, so the log
holds the writes in the order they were applied. After each round of batches it calls ``flush``,
which writes them as one chunk (respserver/aof.py) *before* the replies leave; under
``appendfsync always`` it then waits for fsync before delivering. A MULTI/EXEC block is fed
between ``begin_exec`` and ``end_exec`` and written wrapped in MULTI ... EXEC, inside one chunk,
so a crash keeps all of it or none.

Nothing here runs Trio: the runtime (the owner task, ``runtime.server``) decides when to call what.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import BinaryIO, Protocol

from respserver.config import Config
from respserver.errors import (
    BGSAVE_CHILD_ACTIVE,
    BGSAVE_ERROR,
    BGSAVE_IN_PROGRESS,
    REWRITE_IN_PROGRESS,
    SAVE_FAILED,
    CommandError,
    aof_write_error,
)
from respserver.keyspace.database import Database, now_ms
from respserver.persistence import aof, rdb

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
        """Write what is pending as one chunk; True if anything was written. On an error
        (OSError: a full disk) what was written of the chunk is cut off again, as Redis cuts a
        short write, and everything stays pending for the next try."""
        if not self.pending:
            return False
        framed = aof.chunk(self.pending)
        data = memoryview(framed)
        try:
            while data:
                data = data[os.write(self.fd, data) :]
        except OSError:
            with contextlib.suppress(OSError):  # else the next load finds a torn chunk
                os.ftruncate(self.fd, self.size)
            raise
        if self.also is not None:
            self.also += framed
        self.pending = bytearray()
        self.size += len(framed)
        self.unsynced = True
        return True

    def fsync(self) -> None:
        os.fsync(self.fd)
        self.unsynced = False

    def close(self) -> None:
        """Write what is pending, fsync and close; the file is closed even when the disk fails
        (the error is raised after)."""
        try:
            self.write()
            self.fsync()
        finally:
            os.close(self.fd)


@dataclass
class Child:
    """A forked child at work: an AOF rewrite ("aof") or a snapshot ("rdb")."""

    kind: str
    pid: int
    temp: str
    dirty: int  # server.dirty at the fork: a snapshot saves the changes counted so far
    started: float = field(default_factory=time.monotonic)


class AOFWriteError(Exception):
    """Writing the AOF failed under ``appendfsync always``: the server stops, as Redis exits."""


class Dataset(Protocol):
    """What persistence needs of the server it keeps: the configuration, the databases, the
    count of changes since the last save (Redis's dirty), when that save was, and where to say
    that the disk fails us (MISCONF)."""

    config: Config
    databases: list[Database]
    dirty: int
    last_save: int
    disk_error: str | None


class Persistence:
    """The server's durability state (the AOF, snapshots, the child doing either in the
    background); each database tells it of expiries (``key_expired``)."""

    def __init__(self, server: Dataset) -> None:
        self.server = server
        self.config = server.config
        self.aof: AppendOnlyFile | None = None
        self._exec: list[tuple[int, list[list[bytes]]]] | None = None  # fed inside EXEC
        self.child: Child | None = None
        self.scheduled: set[str] = set()  # kinds of child waiting for the running one
        self.base_size = 0  # the AOF's size after the last rewrite (or load): auto-rewrite's base
        self.rewrites = 0
        self.last_rewrite_ok = True
        self.last_rewrite_seconds = -1
        self.saves = 0
        self.last_save_ok = True
        self.last_save_attempt = 0.0
        self.last_bgsave_seconds = -1
        self.save_on_exit: bool | None = None  # SHUTDOWN SAVE / NOSAVE; None: if save rules
        self.write_error: str | None = None  # why the last AOF write failed, until one works

    # -- the path of a write --------------------------------------------------------------------

    def feed(self, db: int, commands: list[list[bytes]]) -> None:
        """Log ``commands``, run on database ``db``; a no-op with the AOF off. A write logged
        as several commands (SPOP with a count: an SREM per member) is wrapped in MULTI/EXEC
        outside a transaction, as Redis 7.0 propagates it."""
        if self.aof is None:
            return
        if self._exec is not None:
            self._exec.append((db, commands))
        elif len(commands) > 1:
            self.aof.feed(db, [_MULTI, *commands, _EXEC])
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
        fsync before the replies may leave. A failed write, as Redis's flushAppendOnlyFile:
        under ``always`` it stops the server (AOFWriteError: nothing unlogged is acknowledged);
        otherwise what failed stays pending, is tried again each round and by the cron, and
        writes are refused (MISCONF) until a write succeeds."""
        aof_file = self.aof
        if aof_file is None:
            return False
        try:
            if not aof_file.write():
                return False
        except OSError as exc:
            if self.config.appendfsync == "always":
                log.warning(
                    "Can't recover from AOF write error when the AOF fsync policy is 'always'."
                    " Exiting..."
                )
                raise AOFWriteError(exc) from exc
            if self.write_error is None:
                log.warning("Error writing to the AOF file: %s", exc.strerror)
            self.write_error = exc.strerror or str(exc)
            self.check_disk()
            return False
        if self.write_error is not None:
            log.warning("AOF write error looks solved, Redis can write again.")
            self.write_error = None
            self.check_disk()
        return self.config.appendfsync == "always"

    def key_expired(self, db: Database, key: bytes) -> None:
        """Redis propagates an expiry as a DEL, so a replay never depends on the clock."""
        self.feed(db.index, [[b"DEL", key]])

    # -- files ------------------------------------------------------------------------------------

    @property
    def aof_path(self) -> str:
        return os.path.join(self.config.dir, self.config.appendfilename)

    @property
    def rdb_path(self) -> str:
        return os.path.join(self.config.dir, self.config.dbfilename)

    def open_aof(self) -> None:
        self.aof = AppendOnlyFile.open(self.aof_path)
        self.base_size = self.aof.size

    def configure(self) -> None:
        """Apply ``appendonly`` after CONFIG SET: turning it on writes the data set to a fresh
        AOF (synchronously: the owner pauses for it), turning it off closes the file."""
        wanted = self.config.appendonly
        if wanted and self.aof is None:
            _write_atomically(self.aof_path, self._aof_snapshot())
            self.open_aof()
        elif not wanted and self.aof is not None:
            self._close_aof()
        self.check_disk()

    def _close_aof(self) -> None:
        aof_file, self.aof, self.write_error = self.aof, None, None
        try:
            aof_file.close()
        except OSError as exc:
            log.warning("Error writing to the AOF file while closing it: %s", exc.strerror)

    def _contents(self) -> list[tuple[int, dict, dict]]:
        return [(db.index, db.data, db.expires) for db in self.server.databases if db.data]

    def _aof_snapshot(self) -> Callable[[BinaryIO], None]:
        chunks = aof.snapshot(self._contents(), now_ms())
        return lambda file: file.writelines(chunks)

    def _rdb_snapshot(self) -> Callable[[BinaryIO], None]:
        contents = self._contents()
        return lambda file: rdb.write_rdb(file, contents)

    # -- snapshots --------------------------------------------------------------------------------

    def save(self) -> None:
        """SAVE: write the snapshot now, in the owner (everything waits, as with Redis)."""
        if self.child is not None and self.child.kind == "rdb":
            raise CommandError(BGSAVE_IN_PROGRESS)
        self.last_save_attempt = time.time()
        try:
            _write_atomically(self.rdb_path, self._rdb_snapshot())
        except OSError as exc:  # as Redis: a failed SAVE leaves the bgsave status as it was
            log.warning("Failed saving the DB: %s", exc)
            raise CommandError(SAVE_FAILED) from None
        self._saved(self.server.dirty)
        log.info("DB saved on disk")

    def _saved(self, dirty: int) -> None:
        self.last_save_ok = True
        self.saves += 1
        self.server.last_save = int(time.time())
        self.server.dirty -= dirty
        self.check_disk()

    def check_disk(self) -> None:
        """Redis's writeCommandsDeniedByDiskError, kept in ``server.disk_error``: while the
        last background save failed, there are save rules and stop-writes-on-bgsave-error is
        yes, writes are refused with MISCONF, until a save succeeds or the rules go."""
        config = self.config
        failing = (
            not self.last_save_ok
            and config.save.strip() != ""
            and config.stop_writes_on_bgsave_error
        )
        if failing:
            self.server.disk_error = BGSAVE_ERROR
        elif self.write_error is not None and self.aof is not None:
            self.server.disk_error = aof_write_error(self.write_error)
        else:
            self.server.disk_error = None

    def start_bgsave(self, schedule: bool = False) -> str:
        """BGSAVE: a forked child writes the snapshot to a temporary file and renames it into
        place; the parent keeps serving. Returns the status line to reply."""
        if self.child is not None:
            if self.child.kind == "rdb":
                raise CommandError(BGSAVE_IN_PROGRESS)
            if not schedule:
                raise CommandError(BGSAVE_CHILD_ACTIVE)
            self.scheduled.add("rdb")
            return "Background saving scheduled"
        self.last_save_attempt = time.time()
        temp = os.path.join(self.config.dir, f"temp-{os.getpid()}.rdb")
        write = self._rdb_snapshot()
        self._fork("rdb", temp, partial(_write_atomically, self.rdb_path, write, temp))
        return "Background saving started"

    # -- rewriting --------------------------------------------------------------------------------

    def start_rewrite(self) -> str:
        """BGREWRITEAOF: fork; the child writes the data set as it is now to a temporary file,
        while the parent keeps serving and keeps a copy of every chunk it logs meanwhile. The
        switch happens in ``cron`` once the child is done. Returns the status line to reply."""
        if self.child is not None:
            if self.child.kind == "aof":
                raise CommandError(REWRITE_IN_PROGRESS)
            self.scheduled.add("aof")
            return "Background append only file rewriting scheduled"
        if self.aof is not None:
            self.aof.write()  # what is fed so far is in the data the child sees: not in the copy
            self.aof.also = bytearray()
            self.aof.selected = -1  # the new file's next chunk must say its database
        temp = os.path.join(self.config.dir, f"temp-rewriteaof-bg-{os.getpid()}.aof")
        self._fork("aof", temp, partial(_write_file, temp, self._aof_snapshot()))
        return "Background append only file rewriting started"

    def _fork(self, kind: str, temp: str, work: Callable[[], None]) -> None:
        pid = os.fork()
        if pid == 0:
            _child(work)
        self.child = Child(kind, pid, temp, self.server.dirty)
        what = "saving" if kind == "rdb" else "append only file rewriting"
        log.info("Background %s started by pid %d", what, pid)

    # -- the periodic job -------------------------------------------------------------------------

    def cron(self) -> None:
        """The owner's periodic housekeeping: try again an AOF write that failed; finish the
        child's work when it exited; else start what was scheduled, a snapshot a ``save`` rule
        calls for, or an AOF rewrite when the file grew past ``auto-aof-rewrite-percentage`` of
        its base size."""
        if self.write_error is not None:
            self.flush()
        if self.child is not None:
            pid, status = os.waitpid(self.child.pid, os.WNOHANG)
            if pid:
                child, self.child = self.child, None
                ok = os.waitstatus_to_exitcode(status) == 0
                (self._finish_rewrite if child.kind == "aof" else self._finish_bgsave)(child, ok)
            return
        if self.scheduled:
            kind = self.scheduled.pop()
            self.start_bgsave() if kind == "rdb" else self.start_rewrite()
        elif self._save_rule_due():
            self.start_bgsave()
        elif self._rewrite_due():
            log.info("Starting automatic rewriting of AOF on growth")
            self.start_rewrite()

    def _save_rule_due(self) -> bool:
        numbers = [int(n) for n in self.config.save.split()]
        now = time.time()
        if not self.last_save_ok and now - self.last_save_attempt < 5:
            return False  # Redis's CONFIG_BGSAVE_RETRY_DELAY after a failed save
        return any(
            self.server.dirty >= changes and now - self.server.last_save >= seconds
            for seconds, changes in zip(numbers[::2], numbers[1::2], strict=True)
        )

    def _rewrite_due(self) -> bool:
        aof_file = self.aof
        percentage = self.config.auto_aof_rewrite_percentage
        if aof_file is None or not percentage:
            return False
        base = self.base_size or 1
        big_enough = aof_file.size >= self.config.auto_aof_rewrite_min_size
        return big_enough and (aof_file.size - base) * 100 / base >= percentage

    def _finish_bgsave(self, child: Child, ok: bool) -> None:
        self.last_bgsave_seconds = int(time.monotonic() - child.started)
        if ok:
            self._saved(child.dirty)
            log.info("Background saving terminated with success")
        else:
            self.last_save_ok = False
            self.check_disk()
            log.warning("Background saving error")
            with contextlib.suppress(OSError):
                os.unlink(child.temp)

    def _finish_rewrite(self, child: Child, ok: bool) -> None:
        aof_file = self.aof
        copy = b"" if aof_file is None else aof_file.also
        if aof_file is not None:
            aof_file.also = None
        self.last_rewrite_seconds = int(time.monotonic() - child.started)
        try:
            if not ok:
                raise OSError("the rewriting child failed")
            fd = os.open(child.temp, os.O_WRONLY | os.O_APPEND)
            try:
                _write_all(fd, copy)  # what was logged while the child wrote
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(child.temp, self.aof_path)  # atomic: the old file or the new, never half
            _fsync_directory(self.aof_path)
        except OSError as exc:
            self.last_rewrite_ok = False
            log.warning("Background AOF rewrite failed: %s", exc)
            with contextlib.suppress(OSError):
                os.unlink(child.temp)
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
        if aof_file is None or not aof_file.unsynced or self.config.appendfsync != "everysec":
            return None
        aof_file.unsynced = False
        return os.dup(aof_file.fd)

    def close(self) -> None:
        """Shutting down: save a snapshot if SHUTDOWN SAVE asked for one, or save rules are set
        and SHUTDOWN NOSAVE did not refuse it (as Redis does); write and fsync the AOF."""
        if self.save_on_exit or (self.save_on_exit is None and self.config.save):
            with contextlib.suppress(CommandError):
                self.save()
        if self.aof is not None:
            self._close_aof()


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_file(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Write a whole file with ``write`` and fsync it."""
    with open(path, "wb") as file:
        write(file)
        file.flush()
        os.fsync(file.fileno())


def _write_atomically(path: str, write: Callable[[BinaryIO], None], temp: str = "") -> None:
    """Write a whole file next to ``path``, fsync it, then rename it over ``path``: a crash
    leaves the old file or the new one."""
    temp = temp or f"{path}.temp-{os.getpid()}"
    _write_file(temp, write)
    os.replace(temp, path)
    _fsync_directory(path)


def _fsync_directory(path: str) -> None:
    """Make a rename durable: fsync the directory that holds ``path``."""
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _child(work: Callable[[], None]) -> None:
    """In a forked child: do ``work`` and leave at once, running no parent code (no Trio, no
    atexit); the collector stays off so that pages stay shared with the parent."""
    gc.disable()
    code = 1
    try:
        work()
        code = 0
    finally:
        os._exit(code)


class LoadError(Exception):
    """The data set cannot be loaded: the server must not start."""


def read_snapshot(
    path: str, file: BinaryIO, progress: Callable[[int], None]
) -> list[tuple[int, dict, dict]]:
    """The databases of the RDB ``file`` (at ``path``), once all of it, checksum included, is
    verified; keys already past their time to live are left out, as Redis leaves them.
    ``progress`` hears the keys read so far (from the worker thread this runs in)."""
    try:
        return rdb.load_rdb(file, now_ms=now_ms(), progress=progress)
    except rdb.RDBError as exc:
        raise LoadError(f"Bad RDB file {path}: {exc}") from None


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
