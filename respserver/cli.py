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

from respserver.server import RunningServer, serve

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
        prog="respserver", description="A Redis-protocol server on Trio, with QUERY."
    )
    parser.add_argument("--port", type=int, default=6379, help="TCP port; 0 picks a free one")
    parser.add_argument(
        "--bind", default="127.0.0.1", help="address(es) to listen on, space-separated"
    )
    parser.add_argument("--databases", type=int, default=16, help="number of databases")
    parser.add_argument("--loglevel", choices=LOG_LEVELS, default="notice")
    parser.add_argument("--hz", type=int, default=10, help="active expiry cycles per second")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Every request allocates a few lists and tuples, so the default young-generation threshold
    # (700) ran a collection every few batches; measured with scripts/bench, a larger one cut
    # the CPU per pipelined HSET by about a fifth. Only the standalone server changes this
    # process-wide setting: an embedding application keeps its own.
    gc.set_threshold(50_000, 20, 20)
    logging.basicConfig(
        level=LOG_LEVELS[args.loglevel],
        format=f"{os.getpid()}:M %(asctime)s.%(msecs)03d %(mark)s %(message)s",
        datefmt="%d %b %Y %H:%M:%S",
        stream=sys.stdout,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_redis_mark)
    try:
        trio.run(partial(run, args))
    except KeyboardInterrupt:
        pass


async def run(args: argparse.Namespace) -> None:
    log = logging.getLogger("respserver")
    config = {"hz": str(args.hz), "loglevel": args.loglevel}
    async with trio.open_nursery() as nursery:
        server: RunningServer = await nursery.start(
            partial(serve, args.port, args.bind, args.databases, config)
        )
        log.info(
            "respserver ready to accept connections on %s:%d (pid %d)",
            server.host,
            server.port,
            os.getpid(),
        )
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                log.info("received %s, shutting down", signal.Signals(signum).name)
                server.stop()
                break
        log.info("respserver is now ready to exit, bye bye...")
