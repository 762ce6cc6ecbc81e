"""Keyspace events (https://redis.io/docs/latest/develop/use/keyspace-notifications/): what a
write tells subscribers of ``__keyspace@<db>__:<key>`` and ``__keyevent@<db>__:<event>``.

A handler names the event of each change it makes, as Redis's notifyKeyspaceEvent calls do:
``db.notify(LIST, b"lpush", key)``; the database hands it on only when the class is one the
``notify-keyspace-events`` setting selects (``Changes.events``), so it costs a test otherwise.
The classes are Redis's NOTIFY_* bits, selected by the letters below.
"""

from __future__ import annotations

KEYSPACE = 1 << 0  # K
KEYEVENT = 1 << 1  # E
GENERIC = 1 << 2  # g: DEL, EXPIRE, RENAME... whatever the key's type
STRING = 1 << 3  # $
LIST = 1 << 4  # l
SET = 1 << 5  # s
HASH = 1 << 6  # h
ZSET = 1 << 7  # z
EXPIRED = 1 << 8  # x: a key removed because its time ran out
EVICTED = 1 << 9  # e: a key removed by maxmemory
STREAM = 1 << 10  # t
KEY_MISS = 1 << 11  # m: a read found no key (not part of A)
MODULE = 1 << 13  # d: nothing here emits it
NEW = 1 << 14  # n: a key created (not part of A)
ALL = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE

_LETTERS = {
    "K": KEYSPACE,
    "E": KEYEVENT,
    "g": GENERIC,
    "$": STRING,
    "l": LIST,
    "s": SET,
    "h": HASH,
    "z": ZSET,
    "x": EXPIRED,
    "e": EVICTED,
    "t": STREAM,
    "m": KEY_MISS,
    "d": MODULE,
    "n": NEW,
    "A": ALL,
}


def flags_of(classes: str) -> int:
    """The event classes a ``notify-keyspace-events`` value selects (checked by config.py);
    0 when it names no channel kind (K or E): then no event reaches anyone."""
    flags = 0
    for letter in classes:
        flags |= _LETTERS[letter]
    return flags if flags & (KEYSPACE | KEYEVENT) else 0


def channels(flags: int, db: int, event: bytes, key: bytes) -> list[tuple[bytes, bytes]]:
    """The (channel, message) pairs one event publishes, keyspace's first, as Redis sends."""
    published = []
    if flags & KEYSPACE:
        published.append((b"__keyspace@%d__:%s" % (db, key), event))
    if flags & KEYEVENT:
        published.append((b"__keyevent@%d__:%s" % (db, event), key))
    return published
