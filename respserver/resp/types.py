"""Replies as handlers return them. Python values map to RESP types: bytes -> bulk, int ->
integer, None -> null, list/tuple -> array, dict -> map, float -> double, bool -> boolean; the
classes below mark the rest. A handler returns these and never writes wire bytes itself."""

from __future__ import annotations


class SimpleString(bytes):
    """A status reply: ``+OK``."""


class Encoded(bytes):
    """A reply already in wire form, appended as it is: EXEC encodes each reply as its command
    runs, so later commands of the transaction cannot change what an earlier one saw."""


class Verbatim(bytes):
    """A RESP3 verbatim string (``=``, format ``txt``); a bulk string in RESP2."""


class RespSet(list):
    """A RESP3 set (``~``); an array in RESP2."""


class Push(list):
    """A RESP3 push (``>``); an array in RESP2."""


class Replies(list):
    """Several replies to one command, written one after the other (SUBSCRIBE confirms each
    channel; PUBLISH to oneself: the message, then the count)."""


class NullArray:
    """The RESP2 null array (``*-1``), e.g. EXEC after a failed WATCH; ``_`` in RESP3."""

    __slots__ = ()


NULL_ARRAY = NullArray()
OK = SimpleString(b"OK")
QUEUED = SimpleString(b"QUEUED")
PONG = SimpleString(b"PONG")
