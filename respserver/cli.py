"""``respserver`` on the command line, with the option names redis-server uses."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from functools import partial

import trio

from respserver.config import apply_directives
from respserver.persistence import aof
from respserver.persistence.durability import AOFWriteError, LoadError
from respserver.resp.parser import ProtocolError, split_inline
from respserver.runtime.server import RunningServer, serve
from respserver.security.tls import FAILED_AT_START, TLSConfigError

# redis-server's --loglevel names mapped onto logging's levels.
LOG_LEVELS = {
    "debug": logging.DEBUG,
    "verbose": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
    "nothing": logging.CRITICAL + 1,
}


# The character redis-server's log lines carry for each level.
MARKS = {logging.DEBUG: ".", logging.INFO: "*", logging.WARNING: "#", logging.ERROR: "#"}


def _redis_mark(record: logging.LogRecord) -> bool:
    record.mark = MARKS.get(record.levelno, "#")
    return True


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="respserver",
        allow_abbrev=False,
        description="A Redis-protocol server on Trio, with QUERY. Any other configuration"
        " parameter is given as redis-server takes it: --appendonly yes --dir /data ...",
    )
    parser.add_argument("--port", type=int, help="TCP port (6379); 0 picks a free one")
    parser.add_argument("--bind", help="address(es) to listen on, space-separated (127.0.0.1)")
    parser.add_argument("--databases", type=int, help="number of databases (16)")
    parser.add_argument("--loglevel", choices=LOG_LEVELS)
    parser.add_argument("--hz", type=int, help="active expiry cycles per second (10)")
    argv = sys.argv[1:] if argv is None else argv
    config_file = argv[0] if argv and not argv[0].startswith("-") else None
    args, rest = parser.parse_known_args(argv[1:] if config_file else argv)
    args.config_file = config_file
    args.directives = _directives(parser, rest)
    return args


def configuration(args: argparse.Namespace) -> dict[str, str]:
    """The configuration to start with: the file's directives (if a file was given), then the
    command line's, later ones winning, as redis-server reads them. Raises ValueError."""
    config = {"port": "6379", "bind": "127.0.0.1", "databases": "16"}
    if args.config_file:
        directives = read_config_file(args.config_file)
        # ``user`` lines declare ACL users; the server creates them when it starts.
        users = [value for name, value in directives if name == "user"]
        apply_directives(config, [d for d in directives if d[0] != "user"])
        if users:
            config["user"] = "\n".join(users)
    flags = [
        (name, getattr(args, name)) for name in ("port", "bind", "databases", "loglevel", "hz")
    ]
    apply_directives(config, [(name, str(value)) for name, value in flags if value is not None])
    apply_directives(config, args.directives)
    for name in ("port", "databases", "tls-port"):
        if not config.get(name, "0").isdigit():
            raise ValueError(f"'{name} \"{config[name]}\"': argument must be a number")
    return config


def read_config_file(path: str) -> list[tuple[str, str]]:
    """A redis.conf-style file's directives: one per line, split as Redis splits them (quotes,
    escapes), ``#`` comments; several ``save`` lines add up, as in Redis."""
    directives: list[tuple[str, str]] = []
    saves: list[str] = []
    with open(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            line = raw.strip()
            if not line or line.startswith(b"#"):
                continue
            try:
                words = [w.decode("utf-8", "surrogateescape") for w in split_inline(line)]
            except ProtocolError:
                raise ValueError(
                    f"{path}, line {number}: Unbalanced quotes in configuration line"
                ) from None
            name, values = words[0].lower(), words[1:]
            if not values:
                shown = line.decode(errors="replace")
                raise ValueError(
                    f"{path}, line {number}: '{shown}': Bad directive or wrong number of arguments"
                )
            if name == "save":
                saves = [] if values == [""] else [*saves, *values]
                directives.append(("save", " ".join(saves)))
            else:
                directives.append((name, " ".join(values)))
    return directives


def _directives(parser: argparse.ArgumentParser, rest: list[str]) -> list[tuple[str, str]]:
    """``--name value ...`` pairs, the values of one name joined by spaces (``--save 900 1``),
    as redis-server reads its command line."""
    directives: list[tuple[str, list[str]]] = []
    for word in rest:
        if word.startswith("--"):
            directives.append((word[2:], []))
        elif directives:
            directives[-1][1].append(word)
        else:
            parser.error(f"unexpected argument {word!r}")
    return [(name, " ".join(values)) for name, values in directives]


def check_aof(argv: list[str]) -> int:
    """``respserver check-aof [--fix] FILE``, like redis-check-aof: report the first damage and,
    with ``--fix``, cut the file there (what follows the damage is lost)."""
    parser = argparse.ArgumentParser(prog="respserver check-aof")
    parser.add_argument("--fix", action="store_true", help="truncate the file at the damage")
    parser.add_argument("file")
    args = parser.parse_args(argv)
    size = os.path.getsize(args.file)
    with open(args.file, "rb") as file:
        valid, problem = aof.check(file, size)
    if problem is None:
        print(f"AOF analyzed: filename={args.file}, size={size}, ok_up_to={valid}, diff=0")
        print("AOF is valid")
        return 0
    print(f"0x{valid:x}: {problem}")
    print(f"AOF analyzed: filename={args.file}, size={size}, ok_up_to={valid}, diff={size - valid}")
    if not args.fix:
        print("AOF is not valid. Use the --fix option to try fixing it.")
        return 1
    os.truncate(args.file, valid)
    print("Successfully truncated AOF")
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check-aof"]:
        raise SystemExit(check_aof(argv[1:]))
    args = parse_args(argv)
    try:
        config = configuration(args)
    except (OSError, ValueError) as exc:
        print(f"*** FATAL CONFIG ERROR *** {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    # Every request allocates a few lists and tuples, so the default young-generation threshold
    # (700) ran a collection every few batches; measured with scripts/bench, a larger one cut
    # the CPU per pipelined HSET by about a fifth. Only the standalone server changes this
    # process-wide setting: an embedding application keeps its own.
    gc.set_threshold(50_000, 20, 20)
    logging.basicConfig(
        level=LOG_LEVELS[config.get("loglevel", "notice")],
        format=f"{os.getpid()}:M %(asctime)s.%(msecs)03d %(mark)s %(message)s",
        datefmt="%d %b %Y %H:%M:%S",
        stream=sys.stdout,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_redis_mark)
    try:
        trio.run(partial(run, config))
    except* AOFWriteError:
        raise SystemExit(1) from None  # logged where it happened, as Redis logs it
    except* (LoadError, TLSConfigError) as group:
        for exc in _leaves(group):
            logging.getLogger("respserver").error("%s", exc)
            if isinstance(exc, TLSConfigError):
                logging.getLogger("respserver").error("%s", FAILED_AT_START)
        raise SystemExit(1) from None
    except* KeyboardInterrupt:
        pass


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    return [
        leaf
        for exc in group.exceptions
        for leaf in (_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    ]


async def run(config: dict[str, str]) -> None:
    log = logging.getLogger("respserver")
    port, bind, databases = int(config["port"]), config["bind"], int(config["databases"])
    tls_port = int(config.get("tls-port", "0"))
    # Redis's --port 0 means no plain port; here it picks a free one, unless TLS is served.
    plain_port = None if port == 0 and tls_port else port
    if not os.path.isdir(config.get("dir", ".")):
        log.error("Can't chdir to '%s': No such file or directory", config["dir"])
        raise SystemExit(1)
    async with trio.open_nursery() as nursery:

        async def serve_until_stopped(task_status: trio.TaskStatus[RunningServer]) -> None:
            await serve(plain_port, bind, databases, config, task_status=task_status)
            nursery.cancel_scope.cancel()  # stopped by SHUTDOWN: stop waiting for signals

        server: RunningServer = await nursery.start(serve_until_stopped)
        ports = [f"{server.host}:{server.port}"] if server.port else []
        ports += [f"{server.host}:{server.tls_port} (TLS)"] if server.tls_port else []
        where = ", ".join(ports) or config["unixsocket"]
        log.info("respserver ready to accept connections on %s (pid %d)", where, os.getpid())
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                log.info("received %s, shutting down", signal.Signals(signum).name)
                server.stop()
                break
    log.info("respserver is now ready to exit, bye bye...")
