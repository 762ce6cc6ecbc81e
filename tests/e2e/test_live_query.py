"""Live queries (QWATCH/QUNWATCH, respserver's own) on respserver: the messages a subscriber of
the live query's channel receives as hashes enter, leave and change inside a QUERY's result
set, through redis-py's PubSub and raw connections; then a hypothesis test applying random
writes and checking each live query's messages against a brute-force recomputation of its
result set after every write."""

from __future__ import annotations

import hiredis
import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import RawConnection
from tests.helpers.clients import pack
from tests.helpers.query import PROPERTY, VALUES, conditions, datasets, holds, render

END = b"live:end"


@pytest.fixture
def r(resp_port: int):
    client = redis.Redis(port=resp_port)
    client.flushall()
    yield client
    client.close()


def _messages(pubsub: redis.client.PubSub, r: redis.Redis) -> list[str]:
    """The messages received on the live channels up to now (a sentinel marks the end)."""
    r.publish(END, "")
    received = []
    while True:
        message = pubsub.get_message(timeout=5)
        assert message is not None, "no sentinel"
        if message["type"] != "message":
            continue
        if message["channel"] == END:
            return received
        received.append(f"{message['channel'].decode()}: {message['data'].decode()}")


def test_a_hash_enters_changes_inside_and_leaves(r: redis.Redis):
    r.hset("order:1", mapping={"status": "failed", "n": "1"})
    pubsub = r.pubsub()
    pubsub.subscribe("failed", END)
    assert r.execute_command(
        "QWATCH", "failed", "MATCH", "order:*", "WHERE", "status", "=", "failed"
    ) == [b"order:1"]
    r.hset("order:2", "status", "open")  # not in the set
    r.hset("order:2", "status", "failed")
    r.hset("order:1", "n", "2")
    r.hset("order:1", "status", "done")
    r.hset("other:1", "status", "failed")  # MATCH leaves it out
    r.delete("order:2")
    r.hset("order:3", mapping={"status": "failed"})
    r.expire("order:3", 100)
    assert _messages(pubsub, r) == [
        "failed: enter order:2",
        "failed: change order:1",
        "failed: leave order:1",
        "failed: leave order:2",
        "failed: enter order:3",
        "failed: change order:3",
    ]
    r.flushdb()
    assert _messages(pubsub, r) == ["failed: leave order:3"]
    assert r.execute_command("QUNWATCH", "failed") == 1
    assert r.execute_command("QUNWATCH", "failed") == 0
    r.hset("order:4", "status", "failed")
    assert _messages(pubsub, r) == []
    pubsub.close()


def test_a_transaction_is_one_change(r: redis.Redis):
    r.hset("k", mapping={"status": "x", "n": "1"})
    pubsub = r.pubsub()
    pubsub.subscribe("x", END)
    r.execute_command("QWATCH", "x", "WHERE", "status", "=", "x")
    with r.pipeline() as pipe:  # how respserver.storage puts an instance: DEL, then HSET
        pipe.delete("k").hset("k", mapping={"status": "x", "n": "2"}).execute()
    with r.pipeline() as pipe:
        pipe.hset("k", "status", "y").hset("k", "status", "x").execute()  # out and back in
    with r.pipeline() as pipe:
        pipe.hset("j", "status", "x").delete("j").execute()  # in and out: nothing seen
    assert _messages(pubsub, r) == ["x: change k", "x: change k"]
    pubsub.close()


def test_ranges_in_and_several_live_queries(r: redis.Redis):
    pubsub = r.pubsub()
    pubsub.subscribe("big", "ab", END)
    assert (
        r.execute_command("QWATCH", "big", "WHERE", "n", ">=", "10", "WHERE", "n", "<", "100") == []
    )
    assert r.execute_command("QWATCH", "ab", "WHERE", "workflow", "IN", "2", "a", "b") == []
    r.hset("h", mapping={"n": "50", "workflow": "a"})
    r.hincrby("h", "n", 100)
    r.hset("h", "workflow", "c")
    assert _messages(pubsub, r) == [
        "big: enter h",
        "ab: enter h",
        "big: leave h",
        "ab: change h",
        "ab: leave h",
    ]
    pubsub.close()


def test_the_live_query_ends_with_its_last_subscriber(r: redis.Redis, resp_port: int):
    pubsub = r.pubsub()
    pubsub.subscribe("gone")
    r.execute_command("QWATCH", "gone", "WHERE", "status", "=", "x")
    pubsub.unsubscribe("gone")
    pubsub.get_message(timeout=5)
    pubsub.get_message(timeout=5)
    assert r.execute_command("QUNWATCH", "gone") == 0
    pubsub.close()


def test_errors(r: redis.Redis):
    with pytest.raises(redis.ResponseError, match="SUBSCRIBE to it first"):
        r.execute_command("QWATCH", "nobody", "WHERE", "status", "=", "x")
    pubsub = r.pubsub()
    pubsub.subscribe("ch")
    with pytest.raises(redis.ResponseError, match="only MATCH and WHERE"):
        r.execute_command("QWATCH", "ch", "WHERE", "status", "=", "x", "SORTBY", "n")
    with pytest.raises(redis.ResponseError, match="at least one WHERE"):
        r.execute_command("QWATCH", "ch", "MATCH", "x*", "MATCH", "y*")
    with pytest.raises(redis.ResponseError, match="unknown operator '~' in WHERE"):
        r.execute_command("QWATCH", "ch", "WHERE", "status", "~", "x")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("QWATCH", "ch", "WHERE", "status")
    pubsub.close()


def test_a_subscriber_sees_only_keys_its_user_may_read(r: redis.Redis, resp_port: int):
    r.acl_setuser(
        "reader",
        enabled=True,
        passwords=["+pw"],
        keys=["~mine:*"],
        channels=["*"],
        commands=["+@all"],
    )
    try:
        limited = redis.Redis(port=resp_port, username="reader", password="pw")
        pubsub = limited.pubsub()
        pubsub.subscribe("all", END)
        pubsub.get_message(timeout=5)
        pubsub.get_message(timeout=5)
        assert r.execute_command("QWATCH", "all", "WHERE", "status", "=", "x") == []
        r.hset("theirs:1", "status", "x")
        r.hset("mine:1", "status", "x")
        r.publish(END, "")
        seen = []
        while (message := pubsub.get_message(timeout=5)) and message["channel"] != END:
            seen.append(message["data"])
        assert seen == [b"enter mine:1"]
        pubsub.close()
        limited.close()
    finally:
        r.acl_deluser("reader")


# --- against brute force --------------------------------------------------------------------

KEYS = [f"h:{i}" for i in range(6)] + ["g:1"]
writes = st.one_of(
    st.tuples(
        st.just("HSET"),
        st.sampled_from(KEYS),
        st.sampled_from(list(VALUES)),
        st.sampled_from(sorted({v for vs in VALUES.values() for v in vs})),
    ),
    st.tuples(st.just("HDEL"), st.sampled_from(KEYS), st.sampled_from(list(VALUES))),
    st.tuples(st.just("DEL"), st.sampled_from(KEYS)),
    st.tuples(st.just("SET"), st.sampled_from(KEYS), st.just("a string")),
)
live_queries = st.lists(
    st.fixed_dictionaries(
        {
            "match": st.sampled_from([None, "h:*", "h:[0-2]"]),
            "where": st.lists(conditions, min_size=1, max_size=2),
        }
    ),
    min_size=1,
    max_size=3,
)


def _apply(model: dict, write: tuple) -> bool:
    """Apply a write to the model of the hashes; whether it changed the key (a write Redis
    signals: HSET always, HDEL and DEL only when something went, SET always)."""
    kind, key = write[0], write[1]
    if kind == "HSET":
        model.setdefault(key, {})[write[2]] = write[3]
        return True
    if kind == "HDEL":
        if key in model and write[2] in model[key]:
            del model[key][write[2]]
            if not model[key]:
                del model[key]
            return True
        return False
    if kind == "DEL":
        return model.pop(key, None) is not None or key in _strings
    model.pop(key, None)
    return True


_strings: set[str] = set()


def _members(model: dict, q: dict) -> set[str]:
    from fnmatch import fnmatchcase

    return {
        key
        for key, fields in model.items()
        if (not q["match"] or fnmatchcase(key, q["match"]))
        and all(holds(fields, *c) for c in q["where"])
    }


@PROPERTY
@given(data=datasets, queries=live_queries, script=st.lists(writes, max_size=25))
def test_messages_follow_the_result_sets_as_brute_force_recomputes_them(
    resp_port, data, queries, script
):
    writer, listener = RawConnection(resp_port), RawConnection(resp_port)
    try:
        writer.call("FLUSHALL")
        model = {key: dict(fields) for key, fields in data.items() if key in KEYS}
        for key, fields in model.items():
            writer.call("HSET", key, *[x for pair in fields.items() for x in pair])
        _strings.clear()
        channels = [f"live:{i}" for i in range(len(queries))]
        listener.send_raw(pack(("SUBSCRIBE", *channels, END)))
        reader = hiredis.Reader()
        frames = _frames(listener, reader, len(channels) + 1)
        assert all(frame[0] == b"subscribe" for frame in frames)
        sets = []
        for channel, q in zip(channels, queries, strict=True):
            args = [
                a
                for a in render({**q, "sortby": None, "limit": None, "returns": None, "mode": None})
            ]
            reply = hiredis.Reader()
            reply.feed(writer.call("QWATCH", channel, *args))
            members = _members(model, q)
            assert sorted(k.decode() for k in reply.gets()) == sorted(members, key=str.encode)
            sets.append(members)
        for step in script:
            before = [set(s) for s in sets]
            kind, key = step[0], step[1]
            was_string = key in _strings
            changed = _apply(model, step)
            if kind == "SET":
                _strings.add(key)
            elif kind == "HSET" and was_string:
                continue  # WRONGTYPE: skip it on both sides
            elif kind == "DEL":
                _strings.discard(key)
            if kind == "HDEL" and was_string:
                continue
            writer.call(*step)
            writer.call("PUBLISH", END, "")
            received = [
                f[1].decode() + " " + f[2].decode() for f in _frames_until_end(listener, reader)
            ]
            expected = []
            for channel, q, old in zip(channels, queries, before, strict=True):
                new = _members(model, q)
                sets[channels.index(channel)] = new
                if not changed:
                    continue
                if key in old and key in new:
                    expected.append(f"{channel} change {key}")
                elif key in new:
                    expected.append(f"{channel} enter {key}")
                elif key in old:
                    expected.append(f"{channel} leave {key}")
            assert sorted(received) == sorted(expected), step
            for channel in channels:  # per channel, the order of the writes
                assert [m for m in received if m.startswith(channel + " ")] == [
                    m for m in expected if m.startswith(channel + " ")
                ]
    finally:
        writer.call("FLUSHALL")
        writer.close()
        listener.close()


def _frames(conn: RawConnection, reader: hiredis.Reader, count: int) -> list:
    frames = []
    while len(frames) < count:
        frame = reader.gets()
        if frame is False:
            chunk = conn.sock.recv(65536)
            assert chunk, "closed"
            reader.feed(chunk)
            continue
        frames.append(frame)
    return frames


def _frames_until_end(conn: RawConnection, reader: hiredis.Reader) -> list:
    frames = []
    while True:
        (frame,) = _frames(conn, reader, 1)
        if frame[1] == END:
            return frames
        frames.append(frame)
