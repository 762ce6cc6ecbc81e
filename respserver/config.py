"""CONFIG parameters: how each value is checked and normalised, with Redis 7.0's error texts.

Values live in ``Server.config`` (defaults in ``state.default_config``) as the strings CONFIG GET
shows. ``set_many`` applies CONFIG SET's rules: every name is checked before any value, nothing
changes unless everything is valid, and the first problem is the one reported.
"""

from __future__ import annotations

import functools
import logging
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
    """How one parameter's value is parsed; ``normalise`` returns what CONFIG GET will show."""

    normalise: Callable[[bytes], str] | None  # None: CONFIG SET refuses the parameter
    refusal: str = "can't set immutable config"
    # For a value that updates part of the current one: (current, value) -> the new value.
    merge: Callable[[str, bytes], str] | None = None

    def apply(self, current: str, value: bytes) -> str:
        return self.merge(current, value) if self.merge else self.normalise(value)


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def _integer(low: int, high: int, memory: bool = False) -> Param:
    def normalise(value: bytes) -> str:
        number = _memory(value) if memory else _strict_int(value)
        if not low <= number <= high:
            raise InvalidValue(f"argument must be between {low} and {high} inclusive")
        return str(number)

    return Param(normalise)


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


def _enum(*choices: str) -> Param:
    def normalise(value: bytes) -> str:
        choice = _text(value).lower()
        if choice not in choices:
            raise InvalidValue(f"argument(s) must be one of the following: {', '.join(choices)}")
        return choice

    return Param(normalise)


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
    """Event class letters, canonicalised as Redis's keyspaceEventsFlagsToString does (which
    prints 'A' alone for all classes, dropping 'n')."""
    chosen = set()
    for char in _text(value):
        if char not in "A" + _EVENT_CLASSES + "nKEm":
            raise InvalidValue("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
        chosen.update(_EVENT_CLASSES if char == "A" else char)
    if chosen >= set(_EVENT_CLASSES):
        classes = "A"
    else:
        classes = "".join(c for c in _EVENT_CLASSES + "n" if c in chosen)
    return classes + "".join(c for c in "KEm" if c in chosen)


_HZ = _integer(0, INT_MAX)


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


IMMUTABLE = Param(None)
PROTECTED = Param(None, "can't set protected config")
STRING = Param(_text)
BOOLEAN = Param(_boolean)

PARAMS: dict[str, Param] = {
    # Listening and process layout are fixed when the server starts (Redis can rebind a port
    # at run time; respserver cannot).
    "bind": IMMUTABLE,
    "port": IMMUTABLE,
    "databases": IMMUTABLE,
    "daemonize": IMMUTABLE,
    "io-threads": IMMUTABLE,
    "cluster-enabled": IMMUTABLE,
    "tcp-backlog": IMMUTABLE,
    "unixsocket": IMMUTABLE,
    "unixsocketperm": IMMUTABLE,
    "tls-port": IMMUTABLE,
    "aclfile": IMMUTABLE,
    "appendfilename": IMMUTABLE,
    "appenddirname": IMMUTABLE,
    "dir": PROTECTED,
    "dbfilename": PROTECTED,
    "loglevel": _enum("debug", "verbose", "notice", "warning"),
    "save": Param(_save),
    "stop-writes-on-bgsave-error": BOOLEAN,
    "appendonly": BOOLEAN,
    "appendfsync": _enum("everysec", "always", "no"),
    "aof-load-truncated": BOOLEAN,
    "auto-aof-rewrite-percentage": _integer(0, INT_MAX),
    "auto-aof-rewrite-min-size": _integer(0, LONG_MAX, memory=True),
    "maxclients": _integer(1, UINT_MAX),
    "maxmemory": _integer(0, ULLONG_MAX, memory=True),
    "maxmemory-policy": _enum(
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "noeviction",
    ),  # fmt: skip
    "maxmemory-samples": _integer(1, INT_MAX),
    "maxmemory-eviction-tenacity": _integer(0, 100),
    "lfu-log-factor": _integer(0, INT_MAX),
    "lfu-decay-time": _integer(0, INT_MAX),
    "maxmemory-clients": _integer(0, ULLONG_MAX, memory=True),
    "timeout": _integer(0, INT_MAX),
    "tcp-keepalive": _integer(0, INT_MAX),
    "requirepass": STRING,
    "protected-mode": BOOLEAN,
    "proto-max-bulk-len": _integer(1024 * 1024, LONG_MAX, memory=True),
    "client-query-buffer-limit": _integer(1024 * 1024, LONG_MAX, memory=True),
    "hz": Param(_hz),
    "busy-reply-threshold": _integer(0, LONG_MAX),
    "slowlog-log-slower-than": _integer(-1, LONG_MAX),
    "slowlog-max-len": _integer(0, LONG_MAX),
    "latency-monitor-threshold": _integer(0, LONG_MAX),
    "notify-keyspace-events": Param(_keyspace_events),
    "hash-max-listpack-entries": _integer(0, LONG_MAX),
    "hash-max-listpack-value": _integer(0, LONG_MAX),
    "zset-max-listpack-entries": _integer(0, LONG_MAX),
    "zset-max-listpack-value": _integer(0, LONG_MAX),
    "set-max-intset-entries": _integer(0, LONG_MAX),
    "list-max-listpack-size": _integer(-(2**31), INT_MAX),
    "replica-read-only": BOOLEAN,
    "lazyfree-lazy-user-del": BOOLEAN,
    "activerehashing": BOOLEAN,
    "query-indexes": BOOLEAN,
    "tls-cert-file": STRING,
    "tls-key-file": STRING,
    "tls-key-file-pass": STRING,
    "tls-ca-cert-file": STRING,
    "tls-ca-cert-dir": STRING,
    "tls-auth-clients": _enum("no", "yes", "optional"),
    "tls-protocols": STRING,
    "tls-ciphers": STRING,
    "tls-ciphersuites": STRING,
    "tls-prefer-server-ciphers": BOOLEAN,
    "acllog-max-len": _integer(0, LONG_MAX),
    "client-output-buffer-limit": Param(_text, merge=_output_buffer_limit),
}


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
Applier = Callable[[dict[str, str]], None]


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
            apply({**config, **updates})
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
