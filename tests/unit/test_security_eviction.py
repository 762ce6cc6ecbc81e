"""The memory estimate and eviction on their own (respserver/security/eviction.py), no
network: a server's state built in memory, what is tracked with and without maxmemory, the
tracked estimate against a full measure, and each eviction bounded. (Eviction on a running
respserver: tests/e2e/test_maxmemory.py; against redis-server:
tests/differential/test_maxmemory.py.)"""

from __future__ import annotations

import random

import pytest

from respserver.core.state import Server
from respserver.security.eviction import (
    BASELINE,
    BOOKKEEPING,
    FAIL,
    OK,
    RUNNING,
    VOLATILE_BOOKKEEPING,
    database_size,
)
from tests.helpers.eviction import room_for


def limited_server(**config: str) -> Server:
    return Server(config={"maxmemory": "1gb", **config})


def test_nothing_is_tracked_without_maxmemory() -> None:
    server = Server()
    db = server.databases[0]
    assert server.memory not in server.listeners and not server.check_memory
    assert "get" not in vars(db)  # the plain lookup: no access stamping
    server.config["maxmemory"], server.config["maxmemory-policy"] = str(2**30), "allkeys-lru"
    server.config_changed()
    assert server.memory in server.listeners and "get" in vars(db)
    server.config["maxmemory-policy"] = "allkeys-random"
    server.config_changed()
    assert "get" not in vars(db)  # a random policy needs no access times
    server.config["maxmemory"] = "0"
    server.config_changed()
    assert server.memory not in server.listeners and server.memory.tables is None


def test_tracked_estimate_equals_a_full_measure() -> None:
    server = limited_server()
    rng = random.Random(7)
    dbs = server.databases[:3]
    for _ in range(3000):
        db = rng.choice(dbs)
        key = b"k%d" % rng.randrange(200)
        action = rng.randrange(6)
        if action == 0:
            db.store(key, b"v" * rng.randrange(50))
        elif action == 1:
            fields = db.get(key)
            if type(fields) is not dict:
                fields = {}
            fields[b"f%d" % rng.randrange(6)] = b"w" * rng.randrange(30)
            db.store(key, fields) if db.get(key) is None else db.modified(key)
        elif action == 2:
            db.delete(key)
        elif action == 3 and db.exists(key):
            db.set_expire(key, 2**45)
        elif action == 4:
            db.persist(key)
        elif rng.random() < 0.02:
            dbs[0].swap_with(dbs[1]) if rng.random() < 0.5 else db.reset()
    keys = sum(len(db) for db in server.databases)
    volatile = sum(len(db.expires) for db in server.databases)
    bookkeeping = keys * BOOKKEEPING + volatile * VOLATILE_BOOKKEEPING
    expected = BASELINE + sum(database_size(db) for db in server.databases) + bookkeeping
    assert server.memory.used_memory() == expected
    for db in dbs:
        db.reset()
    assert server.memory.used_memory() == BASELINE


def test_a_big_hash_is_not_measured_on_every_change() -> None:
    server = limited_server()
    db, memory = server.databases[0], server.memory
    fields = {b"f%06d" % i: b"v" * 10 for i in range(100_000)}
    db.store(b"big", fields)
    memory.used_memory()
    measured, used = memory.fields_measured, memory.used
    for i in range(1000):
        fields[b"new%04d" % i] = b"v" * 10
        db.modified(b"big")
    assert memory.fields_measured == measured  # extrapolated: no pass over 100,000 fields
    per_field = (memory.used - used) / 1000
    assert per_field == pytest.approx(110 + 7 + 10, abs=2)  # FIELD_COST and the bytes
    db.delete(b"big")
    assert memory.used_memory() == BASELINE


def test_commands_are_checked_only_while_memory_may_be_over() -> None:
    server = limited_server(**{"maxmemory-policy": "allkeys-random"})
    db, memory = server.databases[0], server.memory
    assert server.check_memory  # a new limit: the next command goes through the check
    assert memory.perform() == OK and not server.check_memory
    db.store(b"small", b"x")
    assert not server.check_memory  # under the limit: commands take the plain path
    server.config["maxmemory"] = str(BASELINE + 1000)
    server.config_changed()
    assert server.check_memory and memory.perform() == OK and not server.check_memory
    db.store(b"big", b"x" * 2000)
    assert server.check_memory  # over: the next command evicts (or is refused)
    assert memory.perform() == OK and not server.check_memory
    assert memory.used_memory() <= server.maxmemory and memory.evicted >= 1


def test_tenacity_bounds_each_eviction_and_the_cron_finishes() -> None:
    server = limited_server(**{"maxmemory-policy": "allkeys-random"})
    db = server.databases[0]
    for i in range(2000):
        db.store(b"k%d" % i, b"x" * 100)
    server.config["maxmemory"] = str(room_for(100))
    server.config["maxmemory-eviction-tenacity"] = "0"
    server.config_changed()
    assert server.memory.running  # CONFIG SET below usage: the cron starts evicting
    assert server.memory.perform() == RUNNING  # 16 keys per call at tenacity 0
    assert len(db) == 2000 - 16
    for _ in range(100):  # each tick evicts for up to CRON_BUDGET
        server.cron()
    assert server.memory.used_memory() <= server.maxmemory and not server.memory.running
    assert server.memory.evicted == 2000 - len(db)
    server.config["maxmemory-policy"] = "noeviction"
    server.config["maxmemory"] = "1"
    server.config_changed()
    assert server.memory.perform() == FAIL
