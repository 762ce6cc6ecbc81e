"""Helpers of the persistence tests: a respserver with the AOF on in a directory, waiting
out LOADING, a whole data set read back (to compare before and after a restart, or with
redis-server), what the AOF logged, a write of every kind, and the error a start meets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import hiredis
import redis
import trio

from respserver import ServerThread
from respserver.persistence import aof
from respserver.persistence.durability import LoadError
from respserver.runtime.server import serve
from tests.conftest import RawConnection, redis_server_on


@contextmanager
def persistent(directory: Path, **config: str) -> Iterator[redis.Redis]:
    """A respserver with the AOF on in ``directory``; the client waits until loading ends."""
    settings = {"appendonly": "yes", "dir": str(directory), **config}
    with ServerThread(port=0, config=settings) as server:
        r = redis.Redis(port=server.port, protocol=2)
        wait_loaded(r)
        yield r
        r.close()


def wait_loaded(r: redis.Redis, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            r.ping()
            return
        except redis.exceptions.BusyLoadingError:
            assert time.monotonic() < deadline, "still loading"
            time.sleep(0.01)


def dump(port: int, databases: int = 16) -> dict:
    """Every key of every database: type, value and absolute expiry (PEXPIRETIME)."""
    found = {}
    for number in range(databases):
        r = redis.Redis(port=port, db=number, protocol=2)
        for key in r.scan_iter(count=1000):
            kind = r.type(key)
            if kind == b"string":
                value = r.get(key)
            elif kind == b"list":
                value = r.lrange(key, 0, -1)
            elif kind == b"set":
                value = r.smembers(key)
            elif kind == b"zset":
                value = r.zrange(key, 0, -1, withscores=True, score_cast_func=bytes)
            else:
                value = r.hgetall(key)
            found[(number, key)] = (kind, value, r.pexpiretime(key))
        r.close()
    return found


def port_of(r: redis.Redis) -> int:
    return r.connection_pool.connection_kwargs["port"]


def logged(directory: Path) -> list[list[bytes]]:
    path = directory / "appendonly.aof"
    with open(path, "rb") as file:
        items = list(aof.read_chunks(file, path.stat().st_size))
    return [argv for _, commands in items for argv in commands]


def redis_logged(directory: Path) -> list[list[bytes]]:
    """The commands of redis-server 7.0's incremental AOF file (in its appendonlydir)."""
    (path,) = (directory / "appendonlydir").glob("*.incr.aof")
    reader = hiredis.Reader()
    reader.feed(path.read_bytes())
    commands = []
    while (argv := reader.gets()) is not False:
        commands.append(argv)
    return commands


def logged_by_both(directory: Path, send: Callable[[RawConnection], object]) -> list[list]:
    """The AOF commands of respserver and of redis-server (appendfsync always) after
    ``send(conn)`` on a connection to each, in directories made under ``directory``."""
    logs = []
    for name in ("ours", "real"):
        (directory / name).mkdir()
    with persistent(directory / "ours") as r:
        conn = RawConnection(port_of(r))
        send(conn)
        conn.close()
    logs.append(logged(directory / "ours"))
    with redis_server_on(directory / "real", appendonly="yes", appendfsync="always") as port:
        conn = RawConnection(port)
        send(conn)
        conn.close()
        logs.append(redis_logged(directory / "real"))
    return logs


def every_kind_of_write(r: redis.Redis) -> None:
    r.set("s", "v")
    r.set("ex", "v", ex=100)
    r.set("px", "v", px=100_000, nx=True)
    r.execute_command("SETEX", "setex", 100, "v")
    r.execute_command("PSETEX", "psetex", 100_000, "v")
    r.set("ttl", "v")
    r.expire("ttl", 50)
    r.set("gone", "v")
    r.pexpire("gone", -1)  # in the past: deleted
    r.set("getex", "v")
    r.getex("getex", ex=70)
    r.set("persist", "v", ex=10)
    r.getex("persist", persist=True)
    r.set("getdel", "v")
    r.getdel("getdel")
    r.incrbyfloat("float", "1.1")
    r.incrbyfloat("float", "2e-3")
    r.hset("h", mapping={"a": "1", "b": "2"})
    r.hincrbyfloat("h", "f", "0.1")
    r.hincrby("h", "a", 5)
    r.hdel("h", "b")
    r.append("s", "w")
    r.incr("n")
    r.mset({"m1": "1", "m2": "2"})
    r.rename("m1", "renamed")
    r.copy("renamed", "copied")
    r.move("m2", 5)
    r.execute_command("SELECT", "3")  # on this connection only: the pool may hand out another
    r.swapdb(1, 2)
    db4 = redis.Redis(port=port_of(r), db=4, protocol=2)
    db4.hset("h4", "x", "y")
    db4.set("doomed", "v", px=1)
    time.sleep(0.01)
    assert db4.get("doomed") is None  # expired lazily: logged as DEL
    pipe = r.pipeline(transaction=True)
    pipe.set("t1", "1")
    pipe.incr("t1")
    pipe.hset("t2", "f", "v")
    pipe.execute()
    r.rpush("l", "a", "b", "c", "d", "e")
    r.lpush("l", "z", "1", "-2", "3.5", "x" * 70)
    r.lpop("l")
    r.rpop("l", 2)
    r.lset("l", 1, "set")
    r.linsert("l", "before", "a", "ins")
    r.lrem("l", 1, "z")
    r.ltrim("l", 0, 5)
    r.lmove("l", "l2", "LEFT", "RIGHT")
    r.rpoplpush("l", "l2")
    r.expire("l2", 100)
    r.rpush("long", *[b"%d" % i for i in range(300)])  # more than one AOF rewrite command
    r.rpush("emptied", "only")
    r.lpop("emptied")
    r.rpush("mpop", "a", "b", "c")
    r.execute_command("LMPOP", 2, "nolist", "mpop", "RIGHT", "COUNT", 2)  # logged as RPOP
    r.sadd("set", "a", "b", "c", "d", "1", "-2", "x" * 70)
    r.srem("set", "b", "absent")
    r.spop("set")  # logged as SREM
    r.spop("set", 2)  # logged as two SREMs in MULTI/EXEC
    r.sadd("ints", *range(300))  # more than one AOF rewrite command
    r.smove("ints", "moved", "7")
    r.smove("ints", "moved", "8")
    r.sadd("whole", "a", "b")
    r.spop("whole", 5)  # the whole set: logged as DEL
    r.sunionstore("union", "set", "moved")
    r.sinterstore("inter", "union", "moved")
    r.sdiffstore("diff", "moved", "set")
    r.expire("union", 100)
    r.zadd("z", {"a": 1, "b": 1.1, "c": -2.5, "d": float("inf"), "e": 1e-310, "x" * 70: 3})
    r.zadd("z", {"a": 5, "new": 0}, nx=True)
    r.zadd("z", {"a": 0.1}, gt=True, ch=True)
    r.zadd("z", {"b": 2}, incr=True)  # logged as sent
    r.zincrby("z", 0.2, "c")
    r.zrem("z", "e", "absent")
    r.zpopmin("z")
    r.zpopmax("z", 2)
    r.zadd("zbig", {b"m%d" % i: i / 3 for i in range(300)})  # more than one rewrite command
    r.zremrangebyscore("zbig", 10, "(20")
    r.zremrangebyrank("zbig", 0, 2)
    r.zadd("zlex", {"a": 0, "b": 0, "c": 0, "d": 0})
    r.zremrangebylex("zlex", "[b", "(d")
    r.execute_command("ZMPOP", 2, "nozset", "zlex", "MAX", "COUNT", 1)  # logged as ZPOPMAX
    r.zunionstore("zunion", {"z": 2, "zlex": 1}, aggregate="MAX")
    r.zinterstore("zinter", ["zbig", "zunion"])
    r.zdiffstore("zdiff", ["zbig", "z"])
    r.zrangestore("zrange", "zbig", 5, 30, byscore=True, offset=2, num=10)
    r.expire("zunion", 100)
    r.geoadd("geo", (13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"))
    r.geoadd("geo", (-122.27652, 37.805186, "Oakland"), ch=True)
    r.geosearchstore("near", "geo", longitude=15, latitude=37, radius=200, unit="km")
    r.execute_command("GEORADIUS", "geo", 15, 37, 300, "km", "STOREDIST", "dists")
    r.pfadd("hll", *[b"e%d" % i for i in range(50)])
    r.pfcount("hll")  # caches the count in the string: logged
    r.pfadd("hll2", *[b"f%d" % i for i in range(3000)])  # dense
    r.pfmerge("hllmerged", "hll", "hll2")
    r.expire("hll", 100)
    db4.close()


def load_error(directory: Path, **config: str) -> str | None:
    """Start a server on ``directory``'s AOF: the load error's text, or None if it loaded."""

    async def main() -> None:
        settings = {"appendonly": "yes", "dir": str(directory), **config}
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                running = await nursery.start(partial(serve, 0, config=settings))
                while running.state.persistence.aof is None:  # opened once loaded
                    await trio.sleep(0.01)
                running.stop()

    try:
        trio.run(main)
    except BaseExceptionGroup as group:
        errors, _ = group.split(LoadError)
        assert errors is not None, group
        while isinstance(errors, BaseExceptionGroup):
            errors = errors.exceptions[0]
        return str(errors)
    return None


def snapshotting(directory: Path, **config: str) -> ServerThread:
    return ServerThread(port=0, config={"dir": str(directory), **config})


def rewrite_done(r: redis.Redis, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while (info := r.info("persistence"))["aof_rewrite_in_progress"]:
        assert time.monotonic() < deadline, "the rewrite never finished"
        time.sleep(0.01)
    return info


def saved(r: redis.Redis, saves: int, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while (info := r.info("persistence"))["rdb_saves"] < saves or info["rdb_bgsave_in_progress"]:
        assert time.monotonic() < deadline, "no snapshot"
        time.sleep(0.01)
    return info
