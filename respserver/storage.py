"""The workflow-instance store over any RESP server, with redis-py (sync and asyncio flavours).

An instance is a dict with a non-empty ``str`` field ``id``; it is stored as the hash
``<prefix><id>``. Encoding (the whole schema):

- a ``str`` value is stored as is; ``None`` values are omitted;
- any other value (int, float, bool, dict, list, tuple) is stored as JSON (so an int is its
  decimal, a bool ``true``/``false``), and its field name is listed in the companion field
  ``_json`` (a JSON array), which ``get`` uses to decode exactly those fields back.

Round-trip normalisations: tuples come back as lists, non-str dict keys inside nested values as
str (JSON's rules). Rejected with ValueError/TypeError: a field named ``_json``, non-str field
names, bytes and other non-JSON values, NaN and infinities.

Every operation is written once, as a generator of requests (a sans-IO core); ``InstanceStore``
and ``AsyncInstanceStore`` only differ in the driver that performs the requests.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import redis

JSON_FIELDS = "_json"
FILTERS = ("status", "status_in", "workflow", "workflow_version", "id")
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


@dataclass(frozen=True, slots=True)
class Request:
    """One round trip: ``call`` (one command), ``transaction`` (MULTI/EXEC), ``pipeline``
    (commands pipelined without a transaction) or ``scan`` (the hash keys matching a glob)."""

    kind: str
    commands: tuple[tuple[Any, ...], ...] = ()
    glob: str = ""


Steps = Generator[Request, Any, Any]


@dataclass(frozen=True, slots=True)
class Change:
    """What ``watch`` yields: an instance that entered the result set of its filters
    (``"enter"``, also for each instance in it when the watch starts), changed inside it
    (``"change"``) or left it (``"leave"``); ``instance`` is its record as read just after
    (None once it is deleted)."""

    event: str
    id: str
    instance: dict[str, Any] | None


def _text(value: Any) -> str:
    """A reply element as str, whether the client decodes responses or not."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _scalar(value: Any) -> str:
    """The stored form of a scalar (a field value or a filter operand)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return _json(value)
    raise TypeError(f"filter values must be str, int, float or bool, not {type(value).__name__}")


def encode(instance: dict[str, Any]) -> dict[str, str]:
    """The hash fields that store the instance (see the module docstring)."""
    if not isinstance(instance, dict):
        raise TypeError(f"an instance is a dict, not {type(instance).__name__}")
    if not isinstance(instance.get("id"), str) or not instance["id"]:
        raise ValueError("an instance needs a non-empty str 'id'")
    fields: dict[str, str] = {}
    json_fields: list[str] = []
    for name, value in instance.items():
        if not isinstance(name, str):
            raise TypeError(f"field names must be str, not {type(name).__name__}")
        if name == JSON_FIELDS:
            raise ValueError(f"the field name {JSON_FIELDS!r} is reserved")
        if value is None:
            continue
        if isinstance(value, str):
            fields[name] = value
            continue
        if isinstance(value, bytes):
            raise TypeError(f"field {name!r}: bytes values are not supported")
        try:
            fields[name] = _json(value)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"field {name!r}: {exc}") from None
        json_fields.append(name)
    if json_fields:
        fields[JSON_FIELDS] = _json(json_fields)
    return fields


def decode(raw: dict[Any, Any]) -> dict[str, Any]:
    """The instance a hash stores (its HGETALL reply, bytes or str)."""
    fields = {_text(k): _text(v) for k, v in raw.items()}
    json_fields = json.loads(fields.pop(JSON_FIELDS, "[]"))
    for name in json_fields:
        if name in fields:
            fields[name] = json.loads(fields[name])
    return fields


def conditions(filters: dict[str, Any]) -> list[tuple[str, frozenset[str]]] | None:
    """The filters as (field, accepted stored values) pairs, ANDed; None if nothing can match."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise TypeError(f"unknown filter(s) {', '.join(unknown)}; known: {', '.join(FILTERS)}")
    result = []
    for name, value in filters.items():
        if name == "status_in":
            if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                raise TypeError("status_in takes a list of statuses")
            accepted = frozenset(_scalar(v) for v in value)
            if not accepted:
                return None
            result.append(("status", accepted))
        else:
            result.append((name, frozenset([_scalar(value)])))
    return result


def where_args(conds: list[tuple[str, frozenset[str]]]) -> list[str]:
    """The QUERY WHERE clauses for the conditions."""
    args: list[str] = []
    for field, accepted in conds:
        if len(accepted) == 1:
            args += ["WHERE", field, "=", next(iter(accepted))]
        else:
            args += ["WHERE", field, "IN", str(len(accepted)), *sorted(accepted)]
    return args


def matches(record: dict[str, str], conds: list[tuple[str, frozenset[str]]]) -> bool:
    """Whether stored fields (undecoded, as str) satisfy every condition, as QUERY decides."""
    return all(record.get(field) in accepted for field, accepted in conds)


def _query_pairs(reply: Any) -> list[tuple[Any, Any]]:
    """QUERY's reply as (key, fields) pairs: a RESP3 map or a RESP2 array of [key, [f, v...]]."""
    if isinstance(reply, dict):
        return list(reply.items())
    pairs = []
    for key, flat in reply:
        if isinstance(flat, dict):
            pairs.append((key, flat))
        else:
            pairs.append((key, dict(zip(flat[::2], flat[1::2], strict=True))))
    return pairs


def _is_unknown_command(exc: redis.ResponseError) -> bool:
    message = str(exc).lower().removeprefix("err ")
    return message.startswith("unknown command")


def _refused(exc: redis.ResponseError) -> Exception:
    """What ``watch`` raises when QWATCH fails: a server without it cannot watch at all."""
    if _is_unknown_command(exc):
        return NotImplementedError("watch needs respserver's live queries (QWATCH)")
    return exc


class _Core:
    """The operations as request generators, shared by both flavours."""

    def __init__(self, client: Any, prefix: str = "instance:") -> None:
        self.client = client
        self.prefix = prefix
        self.has_query: bool | None = None  # None until the first query finds out

    def key(self, instance_id: str) -> str:
        return self.prefix + instance_id

    @property
    def glob(self) -> str:
        return _GLOB_SPECIAL.sub(r"\\\1", self.prefix) + "*"

    def _put(self, instance: dict[str, Any]) -> Steps:
        fields = encode(instance)
        key = self.key(instance["id"])
        flat = [item for pair in fields.items() for item in pair]
        yield Request("transaction", (("DEL", key), ("HSET", key, *flat)))

    def _get(self, instance_id: str) -> Steps:
        raw = yield Request("call", (("HGETALL", self.key(instance_id)),))
        return decode(raw) if raw else None

    def _delete(self, instance_id: str) -> Steps:
        yield Request("call", (("DEL", self.key(instance_id)),))

    def _query(self, filters: dict[str, Any]) -> Steps:
        conds = conditions(filters)
        if conds is None:
            return []
        if self.has_query is not False:
            try:
                reply = yield Request("call", (("QUERY", "MATCH", self.glob, *where_args(conds)),))
            except redis.ResponseError as exc:
                if not _is_unknown_command(exc):
                    raise
                self.has_query = False
            else:
                self.has_query = True
                return self._records(_query_pairs(reply), [])
        keys = yield Request("scan", glob=self.glob)
        hashes = yield Request("pipeline", tuple(("HGETALL", k) for k in keys))
        return self._records(zip(keys, hashes, strict=True), conds)

    def _watch_command(self, filters: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """A new channel, and the QWATCH (respserver's live query) that makes the changes to
        the records meeting the filters its messages."""
        conds = conditions(filters)
        if conds is None:
            raise ValueError("these filters match nothing: there is nothing to watch")
        channel = f"respserver:watch:{uuid.uuid4().hex}"
        return channel, ("QWATCH", channel, "MATCH", self.glob, *where_args(conds))

    def _watched(self, message: dict[str, Any]) -> tuple[str, str] | None:
        """A live query's message as (event, instance id), or None for any other message."""
        if message.get("type") != "message":
            return None
        event, key = _text(message["data"]).split(" ", 1)
        return event, key[len(self.prefix) :]

    def _change(self, event: str, instance_id: str, record: dict[str, Any] | None) -> Change:
        if record is not None and record.get("id") != instance_id:
            record = None  # another store's record, its prefix extending this one's
        return Change(event, instance_id, record)

    def _records(self, pairs: Iterable[tuple[Any, Any]], conds: list) -> list[dict[str, Any]]:
        """The decoded records (those meeting conds), ordered by key name bytewise (= by id)."""
        chosen = []
        for key, raw in pairs:
            text = {_text(k): _text(v) for k, v in raw.items()}
            # the id check skips another store's records when its prefix extends this one
            if text and text.get("id") == _text(key)[len(self.prefix) :] and matches(text, conds):
                chosen.append((_text(key).encode(), decode(text)))
        return [record for _, record in sorted(chosen, key=lambda pair: pair[0])]


class InstanceStore(_Core):
    """The store over a ``redis.Redis`` client."""

    def _perform(self, request: Request) -> Any:
        if request.kind == "call":
            return self.client.execute_command(*request.commands[0])
        if request.kind == "scan":
            return list(self.client.scan_iter(match=request.glob, count=1000, _type="hash"))
        with self.client.pipeline(transaction=request.kind == "transaction") as pipe:
            for command in request.commands:
                pipe.execute_command(*command)
            return pipe.execute()

    def _run(self, steps: Steps) -> Any:
        value, error = None, None
        while True:
            try:
                request = steps.throw(error) if error else steps.send(value)
            except StopIteration as stop:
                return stop.value
            try:
                value, error = self._perform(request), None
            except redis.ResponseError as exc:
                value, error = None, exc

    def put(self, instance: dict[str, Any]) -> None:
        """Insert or replace the whole record, atomically."""
        self._run(self._put(instance))

    def get(self, instance_id: str) -> dict[str, Any] | None:
        """The record, or None."""
        return self._run(self._get(instance_id))

    def delete(self, instance_id: str) -> None:
        """Remove the record, if any."""
        self._run(self._delete(instance_id))

    def query(self, **filters: Any) -> list[dict[str, Any]]:
        """The records meeting every filter, ordered by id."""
        return self._run(self._query(filters))

    def watch(self, **filters: Any) -> Iterator[Change]:
        """The changes to the records meeting the filters, as they happen, without polling:
        an ``enter`` for each record meeting them now (by id), then every ``enter``,
        ``change`` and ``leave`` in the order of the writes. It waits for the next change
        as long as it is iterated; leaving the loop ends the watch. Served by respserver's
        live queries (QWATCH); another server raises NotImplementedError::

            for change in store.watch(id="run-17", status_in=["completed", "failed"]):
                break  # the instance is completed or failed: change.instance says which
        """
        channel, qwatch = self._watch_command(filters)
        pubsub = self.client.pubsub()
        try:
            pubsub.subscribe(channel)  # first: no change is missed in between
            try:
                keys = self.client.execute_command(*qwatch)
            except redis.ResponseError as exc:
                raise _refused(exc) from exc
            for key in keys:
                instance_id = _text(key)[len(self.prefix) :]
                yield self._change("enter", instance_id, self.get(instance_id))
            for message in pubsub.listen():
                watched = self._watched(message)
                if watched is not None:
                    yield self._change(*watched, self.get(watched[1]))
        finally:
            pubsub.close()  # its last subscriber gone, the live query ends


class AsyncInstanceStore(_Core):
    """The store over a ``redis.asyncio.Redis`` client."""

    async def _perform(self, request: Request) -> Any:
        if request.kind == "call":
            return await self.client.execute_command(*request.commands[0])
        if request.kind == "scan":
            return [
                key
                async for key in self.client.scan_iter(match=request.glob, count=1000, _type="hash")
            ]
        async with self.client.pipeline(transaction=request.kind == "transaction") as pipe:
            for command in request.commands:
                pipe.execute_command(*command)
            return await pipe.execute()

    async def _run(self, steps: Steps) -> Any:
        value, error = None, None
        while True:
            try:
                request = steps.throw(error) if error else steps.send(value)
            except StopIteration as stop:
                return stop.value
            try:
                value, error = await self._perform(request), None
            except redis.ResponseError as exc:
                value, error = None, exc

    async def put(self, instance: dict[str, Any]) -> None:
        """Insert or replace the whole record, atomically."""
        await self._run(self._put(instance))

    async def get(self, instance_id: str) -> dict[str, Any] | None:
        """The record, or None."""
        return await self._run(self._get(instance_id))

    async def delete(self, instance_id: str) -> None:
        """Remove the record, if any."""
        await self._run(self._delete(instance_id))

    async def query(self, **filters: Any) -> list[dict[str, Any]]:
        """The records meeting every filter, ordered by id."""
        return await self._run(self._query(filters))

    async def watch(self, **filters: Any) -> AsyncIterator[Change]:
        """InstanceStore.watch, for asyncio: ``async for change in store.watch(...)``."""
        channel, qwatch = self._watch_command(filters)
        pubsub = self.client.pubsub()
        try:
            await pubsub.subscribe(channel)
            try:
                keys = await self.client.execute_command(*qwatch)
            except redis.ResponseError as exc:
                raise _refused(exc) from exc
            for key in keys:
                instance_id = _text(key)[len(self.prefix) :]
                yield self._change("enter", instance_id, await self.get(instance_id))
            async for message in pubsub.listen():
                watched = self._watched(message)
                if watched is not None:
                    yield self._change(*watched, await self.get(watched[1]))
        finally:
            await pubsub.aclose()
