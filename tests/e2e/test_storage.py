"""The instance store (respserver/storage.py) on respserver (QUERY) and on redis-server (the
SCAN fallback): the same tests on both backends, each under its own key prefix. This is an
application's use of the adapter, end to end: an e2e test, though it runs on redis-server too."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from respserver.storage import AsyncInstanceStore, InstanceStore

_prefixes = itertools.count()


def unique_prefix() -> str:
    return f"test-storage:{uuid.uuid4().hex[:8]}:{next(_prefixes)}:"


def cleanup(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=prefix.replace("*", r"\*") + "*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["respserver", "redis"])
def backend(request: pytest.FixtureRequest) -> tuple[str, int]:
    port = request.getfixturevalue("resp_port" if request.param == "respserver" else "redis_port")
    return request.param, port


@pytest.fixture(params=[(2, False), (3, True), (2, True), (3, False)], ids=lambda p: f"{p}")
def client(request: pytest.FixtureRequest, backend: tuple[str, int]) -> Iterator[redis.Redis]:
    protocol, decode = request.param
    with redis.Redis(port=backend[1], protocol=protocol, decode_responses=decode) as r:
        yield r


@pytest.fixture
def store(client: redis.Redis, backend: tuple[str, int]) -> Iterator[InstanceStore]:
    s = InstanceStore(client, prefix=unique_prefix())
    yield s
    # the path taken: QUERY on respserver, the SCAN fallback on redis-server (None: no query ran)
    assert s.has_query in (None, backend[0] == "respserver")
    cleanup(client, s.prefix)


INSTANCES = [
    {"id": "i1", "status": "running", "workflow": "Checkout", "workflow_version": 2},
    {"id": "i2", "status": "done", "workflow": "Checkout", "workflow_version": 1},
    {"id": "i3", "status": "failed", "workflow": "Refund", "workflow_version": 2},
    {"id": "i4", "status": "running", "workflow": "Refund", "workflow_version": 1},
    {"id": "i0", "status": "running", "workflow": "Checkout", "workflow_version": "2"},
]


def ids(records: list[dict]) -> list[str]:
    return [r["id"] for r in records]


def test_round_trip(store: InstanceStore) -> None:
    instance = {
        "id": "r1",
        "status": "running",
        "workflow_version": 7,
        "ratio": 0.5,
        "paused": False,
        "note": "ünïcode \n and 12",
        "numeric_text": "42",
        "context": {"cart": [{"sku": "A", "qty": 2}], "user": None, "flags": {"vip": True}},
        "history": [["start", 1], ["step", 2]],
        "empty": "",
        "dropped": None,
    }
    store.put(instance)
    expected = {k: v for k, v in instance.items() if v is not None}
    assert store.get("r1") == expected
    assert store.query(id="r1") == [expected]
    store.put({"id": "r2", "pair": (1, 2)})
    assert store.get("r2") == {"id": "r2", "pair": [1, 2]}  # tuples come back as lists


def test_put_replaces_the_whole_record(store: InstanceStore) -> None:
    store.put({"id": "x", "status": "running", "context": {"a": 1}, "extra": "e"})
    store.put({"id": "x", "status": "done", "context": "plain text now"})
    assert store.get("x") == {"id": "x", "status": "done", "context": "plain text now"}


def test_get_missing_and_delete_idempotent(store: InstanceStore) -> None:
    assert store.get("nope") is None
    store.put({"id": "d", "status": "running"})
    store.delete("d")
    assert store.get("d") is None
    store.delete("d")
    store.delete("never-there")
    assert store.query() == []


def test_filters(store: InstanceStore) -> None:
    for instance in INSTANCES:
        store.put(instance)
    assert ids(store.query()) == ["i0", "i1", "i2", "i3", "i4"]
    assert ids(store.query(status="running")) == ["i0", "i1", "i4"]
    assert ids(store.query(status_in=["done", "failed"])) == ["i2", "i3"]
    assert ids(store.query(status_in=("done",))) == ["i2"]
    assert store.query(status_in=[]) == []
    assert ids(store.query(workflow="Checkout")) == ["i0", "i1", "i2"]
    # the stored string is compared: 2 and "2" are both stored as 2
    assert ids(store.query(workflow_version=2)) == ["i0", "i1", "i3"]
    assert ids(store.query(workflow_version="1")) == ["i2", "i4"]
    assert ids(store.query(id="i3")) == ["i3"]
    assert ids(store.query(status="running", workflow="Refund")) == ["i4"]
    assert ids(store.query(status_in=["running", "done"], workflow_version=1)) == ["i2", "i4"]
    assert store.query(status="running", workflow="Refund", workflow_version=2) == []
    assert store.query(status="nope") == []
    assert store.query(id="i1", workflow="Checkout") == [INSTANCES[0]]


def test_unknown_filter_and_bad_arguments(store: InstanceStore) -> None:
    with pytest.raises(TypeError, match="unknown filter.*colour"):
        store.query(colour="red")
    with pytest.raises(TypeError, match="status_in"):
        store.query(status_in="running")
    with pytest.raises(ValueError, match="id"):
        store.put({"status": "running"})
    with pytest.raises(ValueError, match="reserved"):
        store.put({"id": "z", "_json": "x"})
    with pytest.raises(TypeError, match="bytes"):
        store.put({"id": "z", "blob": b"x"})
    assert store.get("z") is None


def test_stores_with_different_prefixes_are_independent(
    store: InstanceStore, client: redis.Redis
) -> None:
    other = InstanceStore(client, prefix=store.prefix + "other*[")
    try:
        store.put({"id": "same", "status": "running"})
        other.put({"id": "same", "status": "done"})
        other.put({"id": "only-other", "status": "running"})
        assert store.get("same") == {"id": "same", "status": "running"}
        assert other.get("same") == {"id": "same", "status": "done"}
        assert ids(other.query(status="running")) == ["only-other"]
        other.delete("same")
        assert store.get("same") == {"id": "same", "status": "running"}
        assert store.get("only-other") is None
    finally:
        cleanup(client, other.prefix)
    other.put({"id": "again", "status": "running"})
    try:  # other's prefix extends store's: its keys match store's glob, but are not store's
        assert ids(store.query(status="running")) == ["same"]
        assert ids(store.query()) == ["same"]
    finally:
        cleanup(client, other.prefix)


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("decode", [False, True])
def test_asyncio_flavour(backend: tuple[str, int], protocol: int, decode: bool) -> None:
    name, port = backend
    prefix = unique_prefix()

    async def scenario() -> tuple[list, list, object, bool | None]:
        r = redis.asyncio.Redis(port=port, protocol=protocol, decode_responses=decode)
        try:
            s = AsyncInstanceStore(r, prefix=prefix)
            for instance in INSTANCES:
                await s.put(instance)
            await s.put({"id": "i1", "status": "done", "context": {"k": [1]}})
            await s.delete("i2")
            await s.delete("i2")
            running = await s.query(status="running")
            done = await s.query(status_in=["done", "failed"], id="i1")
            return running, done, await s.get("missing"), s.has_query
        finally:
            await r.aclose()

    try:
        running, done, missing, has_query = asyncio.run(scenario())
    finally:
        with redis.Redis(port=port) as r:
            cleanup(r, prefix)
    assert ids(running) == ["i0", "i4"]
    assert done == [{"id": "i1", "status": "done", "context": {"k": [1]}}]
    assert missing is None
    assert has_query is (name == "respserver")


FIELD_VALUES = st.sampled_from(["running", "done", "failed", "2", "Checkout", ""])
INSTANCE = st.fixed_dictionaries(
    {
        "status": st.one_of(st.none(), st.sampled_from(["running", "done", "failed"])),
        "workflow": st.one_of(st.none(), st.sampled_from(["Checkout", "Refund"])),
        "workflow_version": st.one_of(st.none(), st.integers(1, 3), st.sampled_from(["2"])),
        "context": st.one_of(
            st.none(),
            st.dictionaries(st.text(max_size=3), st.integers() | st.text(max_size=3), max_size=3),
        ),
    }
)
FILTER = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["running", "done", "failed"]),
        "status_in": st.lists(st.sampled_from(["running", "done", "failed", "x"]), max_size=3),
        "workflow": st.sampled_from(["Checkout", "Refund"]),
        "workflow_version": st.integers(1, 3) | st.sampled_from(["2", "3"]),
        "id": st.sampled_from(["a", "b", "c", "é", "zz"]),
    },
)


def python_filter(instances: list[dict], filters: dict) -> list[dict]:
    def stored(value: object) -> object:
        return value if isinstance(value, str) or value is None else str(value)

    def ok(inst: dict) -> bool:
        for name, value in filters.items():
            if name == "status_in":
                if inst.get("status") not in value:
                    return False
            elif stored(inst.get(name)) != stored(value):
                return False
        return True

    return sorted((i for i in instances if ok(i)), key=lambda i: i["id"].encode())


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.dictionaries(st.sampled_from(["a", "b", "c", "é", "zz", "a:b", "a*"]), INSTANCE),
    filters=st.lists(FILTER, min_size=1, max_size=3),
)
def test_property_both_backends_agree(
    resp_port: int, redis_port: int, records: dict, filters: list[dict]
) -> None:
    instances = [
        {"id": i, **{k: v for k, v in fields.items() if v is not None}}
        for i, fields in records.items()
    ]
    prefix = unique_prefix()
    clients = [redis.Redis(port=resp_port), redis.Redis(port=redis_port, decode_responses=True)]
    stores = [InstanceStore(c, prefix=prefix) for c in clients]
    try:
        for s in stores:
            for instance in instances:
                s.put(instance)
        for f in filters:
            expected = python_filter(instances, f)
            assert [s.query(**f) for s in stores] == [expected, expected], f
        everything = python_filter(instances, {})
        assert [s.query() for s in stores] == [everything, everything]
        assert [s.has_query for s in stores] == [True, False]
    finally:
        for c in clients:
            cleanup(c, prefix)
            c.close()


def _watching(client: redis.Redis) -> None:
    """Wait (bounded) until a watch has subscribed to its channel."""
    for _ in range(500):
        if client.execute_command("PUBSUB", "CHANNELS", "respserver:watch:*"):
            return
        time.sleep(0.01)
    raise AssertionError("the watch never subscribed")


def test_watch_waits_until_an_instance_is_completed_or_failed(
    store: InstanceStore, backend: tuple[str, int], client: redis.Redis
) -> None:
    if backend[0] == "redis":  # no live queries there: said at once, no polling instead
        with pytest.raises(NotImplementedError):
            next(store.watch(id="w1"))
        return
    store.put({"id": "w1", "status": "running", "workflow": "Checkout"})
    seen: list = []

    def wait() -> None:
        for change in store.watch(id="w1", status_in=["completed", "failed"]):
            seen.append(change)
            break

    waiter = threading.Thread(target=wait)
    waiter.start()
    _watching(client)
    store.put({"id": "w1", "status": "running", "workflow": "Checkout", "step": 2})
    store.put({"id": "w1", "status": "failed", "workflow": "Checkout", "step": 3})
    waiter.join(10)
    assert not waiter.is_alive()
    assert [(c.event, c.id, c.instance["status"], c.instance["step"]) for c in seen] == [
        ("enter", "w1", "failed", 3)
    ]


def test_watch_follows_the_result_set_with_asyncio(backend: tuple[str, int]) -> None:
    if backend[0] == "redis":
        return  # shown for the sync flavour above
    prefix = unique_prefix()

    async def scenario() -> list:
        async with redis.asyncio.Redis(port=backend[1], protocol=3) as client:
            store = AsyncInstanceStore(client, prefix=prefix)
            await store.put({"id": "a", "status": "failed"})
            changes = store.watch(status="failed")
            seen = [await anext(changes)]  # "a" is in the set already
            await store.put({"id": "c", "status": "done"})  # never in the set: no change
            for write in (
                store.put({"id": "b", "status": "failed"}),
                store.put({"id": "b", "status": "failed", "retries": 1}),
                store.put({"id": "a", "status": "done"}),
                store.delete("b"),
            ):
                await write
                seen.append(await asyncio.wait_for(anext(changes), 10))
            await changes.aclose()
            await client.delete(*[prefix + i for i in "abc"])
            return [(c.event, c.id, c.instance and c.instance.get("retries")) for c in seen]

    assert asyncio.run(scenario()) == [
        ("enter", "a", None),
        ("enter", "b", None),
        ("change", "b", 1),
        ("leave", "a", None),  # its record says why: status done
        ("leave", "b", None),  # deleted: no record
    ]
