"""CONFIG parameters: one declaration each (``PARAMS``: how a value is checked and normalised,
with Redis 7.0's error texts, its default, whether CONFIG SET may change it, what it reads as).

Values live in ``Server.config``, a ``Config``: the strings CONFIG GET shows, and typed
attributes (``config.maxclients``) for the code that acts on them. ``set_many`` applies CONFIG
SET's rules: every name is checked before any value, nothing changes unless everything is
valid, and the first problem is the one reported.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from respserver.errors import SYNTAX, CommandError, config_set_failed, config_set_unknown
from respserver.numbers import to_int

log = logging.getLogger("respserver")

INT_MAX, LONG_MAX, UINT_MAX, ULLONG_MAX = 2**31 - 1, 2**63 - 1, 2**32 - 1, 2**64 - 1

# Old names Redis still accepts (and CONFIG GET patterns still match).
ALIASES = {
    "lua-time-limit": "busy-reply-threshold",
    "hash-max-ziplist-entries": "hash-max-listpack-entries",
    "hash-max-ziplist-value": "hash-max-listpack-value",
    "zset-max-ziplist-entries": "zset-max-listpack-entries",
    "zset-max-ziplist-value": "zset-max-listpack-value",
    "list-max-ziplist-size": "list-max-listpack-size",
    "slave-read-only": "replica-read-only",
}


class InvalidValue(Exception):
    """A value the parameter refuses; the message is Redis's reason text."""


@dataclass(frozen=True)
class Param:
    """One parameter: how a value is checked (``normalise`` returns what CONFIG GET will show,
    or raises InvalidValue with Redis's reason), its default, and what it reads as from
    ``Config``'s attributes (``kind``: int, bool for yes/no, or str)."""

    normalise: Callable[[bytes], str] | None  # None: CONFIG SET refuses the parameter
    refusal: str = "can't set immutable config"
    # For a value that updates part of the current one: (current, value) -> the new value.
    merge: Callable[[str, bytes], str] | None = None
    kind: type = str
    default: str | None = ""  # None: decided at start (dir: the working directory)
    # How CONFIG GET shows a stored value, where that hides part of it (None: as stored).
    shown: Callable[[str], str] | None = None

    def apply(self, current: str, value: bytes) -> str:
        return self.merge(current, value) if self.merge else self.normalise(value)


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def _integer(low: int, high: int, memory: bool = False, *, default: str) -> Param:
    def normalise(value: bytes) -> str:
        number = _memory(value) if memory else _strict_int(value)
        if not low <= number <= high:
            raise InvalidValue(f"argument must be between {low} and {high} inclusive")
        return str(number)

    return Param(normalise, kind=int, default=default)


def _strict_int(value: bytes) -> int:
    try:
        return to_int(value)
    except CommandError:
        raise InvalidValue("argument couldn't be parsed into an integer") from None


_MEMORY = re.compile(rb"([0-9]*)(|b|k|kb|m|mb|g|gb)", re.IGNORECASE)
_UNITS = {b"": 1, b"b": 1, b"k": 1000, b"kb": 1024, b"m": 10**6, b"mb": 1024**2}
_UNITS |= {b"g": 10**9, b"gb": 1024**3}


def _memory(value: bytes) -> int:
    """Redis's memtoull: digits and an optional unit (1k = 1000, 1kb = 1024)."""
    match = _MEMORY.fullmatch(value)
    if match is None:
        raise InvalidValue("argument must be a memory value")
    # strtoull saturates rather than failing on too many digits.
    number = min(int(match[1] or b"0"), ULLONG_MAX) * _UNITS[match[2].lower()]
    if number > ULLONG_MAX:
        raise InvalidValue("argument must be a memory value")
    return number


def _boolean(value: bytes) -> str:
    if value.lower() not in (b"yes", b"no"):
        raise InvalidValue("argument must be 'yes' or 'no'")
    return value.lower().decode()


def _enum(*choices: str, default: str) -> Param:
    def normalise(value: bytes) -> str:
        choice = _text(value).lower()
        if choice not in choices:
            raise InvalidValue(f"argument(s) must be one of the following: {', '.join(choices)}")
        return choice

    return Param(normalise, default=default)


_SAVE_NUMBER = re.compile(rb"[ \t\n\v\f\r]*[-+]?[0-9]+")


def _save(value: bytes) -> str:
    """``seconds changes [seconds changes ...]``, split on single spaces as Redis splits it."""
    parts = value.split(b" ") if value else []
    numbers = [int(p) if _SAVE_NUMBER.fullmatch(p) else None for p in parts]
    if len(parts) % 2 or any(
        n is None or n < (1 if i % 2 == 0 else 0) for i, n in enumerate(numbers)
    ):
        raise InvalidValue("Invalid save parameters")
    return " ".join(str(n) for n in numbers)


_EVENT_CLASSES = "g$lshzxetd"  # what 'A' stands for, in the order Redis prints classes


def _keyspace_events(value: bytes) -> str:
    """Event class letters, canonicalised as Redis's keyspaceEventsFlagsToString does; 'n'
    is kept after 'A' (it is in force), which ``_events_shown`` hides as Redis prints it."""
    chosen = set()
    for char in _text(value):
        if char not in "A" + _EVENT_CLASSES + "nKEm":
            raise InvalidValue("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
        chosen.update(_EVENT_CLASSES if char == "A" else char)
    if chosen >= set(_EVENT_CLASSES):
        classes = "An" if "n" in chosen else "A"
    else:
        classes = "".join(c for c in _EVENT_CLASSES + "n" if c in chosen)
    return classes + "".join(c for c in "KEm" if c in chosen)


def _events_shown(classes: str) -> str:
    """Redis prints 'A' alone for all classes, 'n' (new keys) dropped though it is in force."""
    return classes.replace("An", "A")


_HZ = _integer(0, INT_MAX, default="10")


def _hz(value: bytes) -> str:
    # Redis accepts any int and clamps what it runs at (and shows) to 1..500.
    return str(min(max(int(_HZ.normalise(value)), 1), 500))


_BUFFER_CLASSES = {"normal": "normal", "slave": "slave", "replica": "slave", "pubsub": "pubsub"}


def _output_buffer_limit(current: str, value: bytes) -> str:
    """``class hard soft soft-seconds ...``: the classes given replace theirs in ``current``."""
    words = _text(value).split()
    if len(words) % 4:
        raise InvalidValue("Wrong number of arguments in buffer limit configuration.")
    limits = dict(output_buffer_limits(current))
    for i in range(0, len(words), 4):
        name = _BUFFER_CLASSES.get(words[i].lower())
        if name is None:
            raise InvalidValue("Invalid client class specified in buffer limit configuration.")
        try:
            hard, soft = (_memory(w.encode()) for w in words[i + 1 : i + 3])
            seconds = int(words[i + 3])
        except (InvalidValue, ValueError):
            raise InvalidValue(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            ) from None
        if seconds < 0:
            raise InvalidValue(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            )
        limits[name] = (hard, soft, seconds)
    return " ".join(f"{name} {h} {s} {t}" for name, (h, s, t) in limits.items())


@functools.lru_cache(maxsize=16)
def output_buffer_limits(text: str) -> dict[str, tuple[int, int, int]]:
    """The ``client-output-buffer-limit`` value as {class: (hard, soft, soft seconds)}: read
    once per batch, so cached (callers must not change it)."""
    words = text.split()
    return {
        words[i]: (int(words[i + 1]), int(words[i + 2]), int(words[i + 3]))
        for i in range(0, len(words), 4)
    }


STRING = Param(_text)


def _fixed(default: str, kind: type = str) -> Param:
    """Fixed at start: CONFIG SET refuses it."""
    return Param(None, kind=kind, default=default)


def _protected(default: str | None) -> Param:
    return Param(None, "can't set protected config", default=default)


def _yes_no(default: str) -> Param:
    return Param(_boolean, kind=bool, default=default)


def _string(default: str) -> Param:
    return Param(_text, default=default)


# The Redis version whose behaviour respserver follows, which RDB files name; what HELLO and INFO
# report is ``redis-version`` (this by default).
VERSION = "7.0.15"

PARAMS: dict[str, Param] = {
    # Listening and process layout are fixed when the server starts (Redis can rebind a port
    # at run time; respserver cannot).
    "bind": _fixed("127.0.0.1"),
    "port": _fixed("6379", int),
    "databases": _fixed("16", int),
    "daemonize": _fixed("no", bool),
    "io-threads": _fixed("1", int),
    "cluster-enabled": _fixed("no", bool),
    "tcp-backlog": _fixed("511", int),
    "unixsocket": _fixed(""),
    "unixsocketperm": _fixed("0"),
    "tls-port": _fixed("0", int),
    "aclfile": _fixed(""),
    "appendfilename": _fixed("appendonly.aof"),
    "appenddirname": _fixed("appendonlydir"),
    "dir": _protected(None),  # the working directory at start
    "dbfilename": _protected("dump.rdb"),
    "loglevel": _enum("debug", "verbose", "notice", "warning", default="notice"),
    "save": Param(_save, default=""),
    "stop-writes-on-bgsave-error": _yes_no("yes"),
    "appendonly": _yes_no("no"),
    "appendfsync": _enum("everysec", "always", "no", default="everysec"),
    "aof-load-truncated": _yes_no("yes"),
    "auto-aof-rewrite-percentage": _integer(0, INT_MAX, default="100"),
    "auto-aof-rewrite-min-size": _integer(0, LONG_MAX, memory=True, default="67108864"),
    "maxclients": _integer(1, UINT_MAX, default="10000"),
    "maxmemory": _integer(0, ULLONG_MAX, memory=True, default="0"),
    "maxmemory-policy": _enum(
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "noeviction",
        default="noeviction",
    ),
    "maxmemory-samples": _integer(1, INT_MAX, default="5"),
    "maxmemory-eviction-tenacity": _integer(0, 100, default="10"),
    "lfu-log-factor": _integer(0, INT_MAX, default="10"),
    "lfu-decay-time": _integer(0, INT_MAX, default="1"),
    "maxmemory-clients": _integer(0, ULLONG_MAX, memory=True, default="0"),
    "timeout": _integer(0, INT_MAX, default="0"),
    "tcp-keepalive": _integer(0, INT_MAX, default="300"),
    "requirepass": _string(""),
    "protected-mode": _yes_no("yes"),
    "proto-max-bulk-len": _integer(1024 * 1024, LONG_MAX, memory=True, default="536870912"),
    "client-query-buffer-limit": _integer(1024 * 1024, LONG_MAX, memory=True, default="1073741824"),
    "hz": Param(_hz, kind=int, default="10"),
    "busy-reply-threshold": _integer(0, LONG_MAX, default="5000"),
    "slowlog-log-slower-than": _integer(-1, LONG_MAX, default="10000"),
    "slowlog-max-len": _integer(0, LONG_MAX, default="128"),
    "latency-monitor-threshold": _integer(0, LONG_MAX, default="0"),
    "notify-keyspace-events": Param(_keyspace_events, default="", shown=_events_shown),
    "hash-max-listpack-entries": _integer(0, LONG_MAX, default="512"),
    "hash-max-listpack-value": _integer(0, LONG_MAX, default="64"),
    "zset-max-listpack-entries": _integer(0, LONG_MAX, default="128"),
    "zset-max-listpack-value": _integer(0, LONG_MAX, default="64"),
    "set-max-intset-entries": _integer(0, LONG_MAX, default="512"),
    "hll-sparse-max-bytes": _integer(0, LONG_MAX, memory=True, default="3000"),
    "tracking-table-max-keys": _integer(0, LONG_MAX, default="1000000"),
    # respserver's own: the version HELLO and INFO report, for clients that gate a feature on
    # it (redis-py's and Jedis's client-side caches want 7.4); the behaviour stays 7.0's.
    "redis-version": _string(VERSION),
    "stream-node-max-bytes": _integer(0, LONG_MAX, memory=True, default="4096"),
    "stream-node-max-entries": _integer(0, LONG_MAX, default="100"),
    "list-max-listpack-size": _integer(-(2**31), INT_MAX, default="-2"),
    "replica-read-only": _yes_no("yes"),
    "lazyfree-lazy-user-del": _yes_no("no"),
    "activerehashing": _yes_no("yes"),
    "query-indexes": _yes_no("yes"),
    "tls-cert-file": _string(""),
    "tls-key-file": _string(""),
    "tls-key-file-pass": _string(""),
    "tls-ca-cert-file": _string(""),
    "tls-ca-cert-dir": _string(""),
    "tls-auth-clients": _enum("no", "yes", "optional", default="yes"),
    "tls-protocols": _string(""),
    "tls-ciphers": _string(""),
    "tls-ciphersuites": _string(""),
    "tls-prefer-server-ciphers": _yes_no("no"),
    "acllog-max-len": _integer(0, LONG_MAX, default="128"),
    "client-output-buffer-limit": Param(
        _text,
        merge=_output_buffer_limit,
        default="normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    ),
}


class Config(dict[str, str]):
    """The configuration: each parameter's value as CONFIG GET shows it (``config["maxclients"]``
    is ``"10000"``), and as an attribute of its kind (``config.maxclients`` is ``10000``,
    ``config.appendonly`` is False, ``config.maxmemory_policy`` is ``"noeviction"``), dashes
    written as underscores."""

    def __getattr__(self, attribute: str) -> object:
        name = attribute.replace("_", "-")
        param = PARAMS.get(name)
        if param is None:
            raise AttributeError(f"no configuration parameter {name!r}")
        value = self[name]
        if param.kind is bool:
            return value == "yes"
        return param.kind(value)


def defaults() -> Config:
    """Every parameter at its default, as redis-server starts."""
    return Config(
        (name, os.getcwd() if param.default is None else param.default)
        for name, param in PARAMS.items()
    )


def shown(config: dict[str, str], param: str) -> str:
    """What CONFIG GET shows of a parameter's value."""
    show = PARAMS[param].shown
    return config[param] if show is None else show(config[param])


def canonical(name: bytes) -> str | None:
    """The parameter ``name`` refers to (case-insensitive, aliases resolved), or None."""
    text = _text(name).lower()
    text = ALIASES.get(text, text)
    return text if text in PARAMS else None


def names() -> list[str]:
    """Every name CONFIG GET patterns match: parameters and their aliases."""
    return [*PARAMS, *ALIASES]


# What CONFIG SET runs after checking the values and before storing them, for the parameters
# a running server acts on (Redis's apply functions): given the configuration as it would be,
# it takes effect or raises InvalidValue, and then nothing is stored.
Applier = Callable[["Config"], None]


def set_many(
    config: dict[str, str], args: tuple[bytes, ...], appliers: dict[str, Applier] | None = None
) -> None:
    """CONFIG SET ``name value [name value ...]``: all or nothing, raising Redis's error.
    ``appliers`` maps a parameter to its apply step; one shared by several runs once."""
    if len(args) % 2:
        raise CommandError(SYNTAX)
    chosen: dict[str, tuple[str, bytes]] = {}  # parameter -> (name as looked up, value)
    for name, value in zip(args[::2], args[1::2], strict=True):
        param = canonical(name)
        if param is None:
            raise config_set_unknown(_text(name))
        reason = PARAMS[param].refusal if PARAMS[param].normalise is None else None
        if reason is None and param in chosen:
            reason = "duplicate parameter"
        if reason is not None:
            raise CommandError(_failed(_text(name), reason))
        chosen[param] = (_text(name).lower(), value)
    updates = {}
    for param, (name, value) in chosen.items():
        try:
            updates[param] = PARAMS[param].apply(config[param], value)
        except InvalidValue as exc:
            raise CommandError(_failed(name, str(exc))) from None
    applied: list[Applier] = []
    for param in chosen:
        apply = (appliers or {}).get(param)
        if apply is None or apply in applied:
            continue
        applied.append(apply)
        try:
            apply(Config({**config, **updates}))
        except InvalidValue as exc:
            log.warning(
                "Failed applying new configuration. Possibly related to new %s setting."
                " Restoring previous settings.",
                param,
            )
            raise CommandError(_failed(param, str(exc))) from None
    config.update(updates)


def _failed(name: str, reason: str) -> str:
    return config_set_failed(name, reason)


def apply_directives(config: dict[str, str], directives: list[tuple[str, str]]) -> None:
    """redis-server's start-up directives (``--appendonly yes``): any parameter, immutable ones
    included, checked as CONFIG SET checks values. Raises ValueError with Redis's wording."""
    for name, value in directives:
        param = canonical(name.encode())
        if param is None:
            raise ValueError(f"'{name} \"{value}\"': Bad directive or wrong number of arguments")
        spec = PARAMS[param] if PARAMS[param].normalise else STRING
        try:
            config[param] = spec.apply(config.get(param, ""), value.encode())
        except InvalidValue as exc:
            raise ValueError(f"'{name} \"{value}\"': {exc}") from None
