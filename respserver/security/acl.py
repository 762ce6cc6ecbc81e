"""ACL users: who may log in, and which commands and keys each may use (Redis 7.0's acl.c).

A user has flags (on/off, nopass, sanitize-payload), SHA-256 password hashes and selectors: the
root one and any number of ``(...)`` ones. A command runs when some selector allows both the
command and every key it names with the access the command's key specs declare (``%R~`` read,
``%W~`` write, ``~`` both). A selector keeps its command permissions as the set of allowed
full names ("get", "config|get") over the commands registered here; rules are parsed and
described back exactly as Redis parses and describes them.

Channels are checked as Redis checks them: a channel published or subscribed to must match one
of the selector's ``&`` patterns; a pattern PSUBSCRIBE names must equal one of them.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from respserver.keyspace.glob import stringmatch
from respserver.registry import CATEGORY_ORDER, COMMANDS, Command, keys_of
from respserver.resp.parser import ProtocolError, split_inline

READ, WRITE = 1, 2
READ_WRITE = READ | WRITE

# ACLSetUserStringError's texts, by the errno acl.c sets.
SYNTAX_ERROR = "Syntax error"
UNKNOWN_NAME = "Unknown command or category name in ACL"
KEYS_AFTER_ALL = (
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not"
    " have any effect. Try 'resetkeys' to start with an empty list of patterns"
)
CHANNELS_AFTER_ALL = (
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does"
    " not have any effect. Try 'resetchannels' to start with an empty list of channels"
)
NO_SUCH_PASSWORD = "The password you are trying to remove from the user does not exist"
BAD_HASH = (
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal"
    " characters"
)
SUBCOMMAND_FIRST_ARG = "Allowing first-arg of a subcommand is not supported"

USER_FLAGS = ("on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload")
LOG_GROUPING_MS = 60_000  # a denial this close to an equal one only counts it again


class RuleError(Exception):
    """A rule ACL SETUSER (or an ACL file) refuses; the message is Redis's reason."""


# Redis's commands_with_channels: where a command names the channels it publishes or
# subscribes to (leaving one needs no permission): first, last (-1: the rest), patterns.
_CHANNEL_ARGUMENTS = {
    "publish": (1, 1, False),
    "spublish": (1, 1, False),
    "subscribe": (1, -1, False),
    "ssubscribe": (1, -1, False),
    "psubscribe": (1, -1, True),
    "qwatch": (1, 1, False),  # a live query publishes to its channel
}


class Denied(Exception):
    """A command a user may not run: ``reason`` is "command", "key" or "channel",
    ``position`` the argument that failed (the key's or channel's index in argv)."""

    def __init__(self, reason: str, position: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position


def hash_password(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


def _valid_hash(text: bytes) -> bool:
    return len(text) == 64 and all(c in b"0123456789abcdef" for c in text)


def _has_spaces(text: bytes) -> bool:
    """ACLStringHasSpaces: C's isspace, or NUL."""
    return any(c in b" \t\n\v\f\r\0" for c in text)


# --- the command universe: what +@category and -command act on ---------------------------------


def all_commands() -> Iterator[Command]:
    """Every command and subcommand, in a fixed order (Redis walks its hash tables, whose
    order is arbitrary; respserver uses name order)."""
    for name in sorted(COMMANDS):
        spec = COMMANDS[name]
        yield spec
        for sub in sorted(spec.subcommands):
            yield spec.subcommands[sub]


def lookup(name: bytes) -> Command | None:
    """ACLLookupCommand: ``cmd`` or ``container|sub``, case-insensitive."""
    parts = name.lower().split(b"|")
    spec = COMMANDS.get(parts[0])
    if spec is None or len(parts) > 2:
        return None
    if len(parts) == 2:
        return spec.subcommands.get(parts[1])
    return spec


def _family(spec: Command) -> list[str]:
    """A command and, for a container, its subcommands: one rule changes them all."""
    return [spec.name, *(sub.name for sub in spec.subcommands.values())]


def _category_names(category: str) -> list[str]:
    """What ``+@category`` allows: each command in it, with its subcommands when a container
    is in it, as ACLSetSelectorCommandBitsForCategoryLogic walks the table."""
    names = []
    for spec in all_commands():
        if category in spec.categories:
            names += _family(spec)
    return names


def _category(name: bytes) -> str | None:
    text = name.decode("latin-1").lower()
    return text if text in CATEGORY_ORDER else None


# --- selectors -----------------------------------------------------------------------------------


@dataclass
class Selector:
    """A set of permissions: commands, key patterns and channel patterns."""

    root: bool = False
    commands: set[str] = field(default_factory=set)
    future_commands: bool = False  # "+@all" given: Redis's reserved bit for commands to come
    first_args: dict[str, list[bytes]] = field(default_factory=dict)  # +select|0
    all_keys: bool = False
    patterns: list[list] = field(default_factory=list)  # [pattern, READ|WRITE flags]
    all_channels: bool = False
    channels: list[bytes] = field(default_factory=list)

    def apply(self, op: bytes) -> None:
        """ACLSetSelector: one rule about commands, keys or channels."""
        low = op.lower()
        if low in (b"allkeys", b"~*"):
            self.all_keys, self.patterns = True, []
        elif low == b"resetkeys":
            self.all_keys, self.patterns = False, []
        elif low in (b"allchannels", b"&*"):
            self.all_channels, self.channels = True, []
        elif low == b"resetchannels":
            self.all_channels, self.channels = False, []
        elif low in (b"allcommands", b"+@all"):
            self.commands = {spec.name for spec in all_commands()}
            self.future_commands, self.first_args = True, {}
        elif low in (b"nocommands", b"-@all"):
            self.commands, self.future_commands, self.first_args = set(), False, {}
        elif op[:1] in (b"~", b"%"):
            self._add_pattern(op)
        elif op[:1] == b"&":
            if self.all_channels:
                raise RuleError(CHANNELS_AFTER_ALL)
            if _has_spaces(op[1:]):
                raise RuleError(SYNTAX_ERROR)
            if op[1:] not in self.channels:
                self.channels.append(op[1:])
        elif op[:2] in (b"+@", b"-@"):
            category = _category(op[2:])
            if category is None:
                raise RuleError(UNKNOWN_NAME)
            self._allow(_category_names(category), op[:1] == b"+")
        elif op[:1] == b"+":
            self._add_command(op[1:])
        elif op[:1] == b"-":
            spec = lookup(op[1:])
            if spec is None:
                raise RuleError(UNKNOWN_NAME)
            self._allow(_family(spec), False)
        else:
            raise RuleError(SYNTAX_ERROR)

    def _allow(self, names: list[str], allow: bool) -> None:
        for name in names:
            self.first_args.pop(name, None)
        if allow:
            self.commands.update(names)
        else:
            self.commands.difference_update(names)

    def _add_command(self, name: bytes) -> None:
        """``+cmd``, ``+container|sub``, or (deprecated) ``+cmd|first-arg``."""
        if b"|" not in name:
            spec = lookup(name)
            if spec is None:
                raise RuleError(UNKNOWN_NAME)
            self._allow(_family(spec), True)
            return
        base, _, arg = name.rpartition(b"|")
        spec = lookup(base)
        if spec is None:
            raise RuleError(UNKNOWN_NAME)
        if spec.container is not None:
            raise RuleError(SUBCOMMAND_FIRST_ARG)
        if not arg:
            raise RuleError(SYNTAX_ERROR)
        if spec.subcommands:
            sub = lookup(name)
            if sub is None:
                raise RuleError(UNKNOWN_NAME)
            self._allow([sub.name], True)
            return
        allowed = self.first_args.setdefault(spec.name, [])
        if arg.lower() not in (a.lower() for a in allowed):
            allowed.append(arg)

    def _add_pattern(self, op: bytes) -> None:
        """``~pattern`` (read and write), ``%R~``, ``%W~``, ``%RW~``."""
        if self.all_keys:
            raise RuleError(KEYS_AFTER_ALL)
        flags, offset = READ_WRITE, 1
        if op[:1] == b"%":
            flags = 0
            while offset < len(op):
                c = op[offset : offset + 1].upper()
                if c == b"R" and not flags & READ:
                    flags |= READ
                elif c == b"W" and not flags & WRITE:
                    flags |= WRITE
                elif c == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError(SYNTAX_ERROR)
                offset += 1
            if not flags:
                raise RuleError(SYNTAX_ERROR)
        pattern = op[offset:]
        if _has_spaces(pattern):
            raise RuleError(SYNTAX_ERROR)
        for existing in self.patterns:
            if existing[0] == pattern:
                existing[1] |= flags
                return
        self.patterns.append([pattern, flags])

    # --- checks

    def allows_command(self, spec: Command, argv: list[bytes]) -> bool:
        if spec.name in self.commands or "no_auth" in spec.flags:
            return True
        allowed = self.first_args.get(spec.name)
        at = 2 if spec.container else 1
        return bool(allowed) and len(argv) > at and argv[at].lower() in (a.lower() for a in allowed)

    def allows_key(self, key: bytes, needed: int) -> bool:
        """ACLSelectorCheckKey: some pattern grants all of ``needed`` and matches."""
        if self.all_keys:
            return True
        return any(
            flags & needed == needed and stringmatch(pattern, key)
            for pattern, flags in self.patterns
        )

    def check(self, spec: Command, argv: list[bytes]) -> None:
        """Raise Denied unless this selector allows the command and all its keys."""
        if not self.allows_command(spec, argv):
            raise Denied("command")
        if not self.all_keys:
            for position, needed in key_access(spec, argv):
                if not self.allows_key(argv[position], needed):
                    raise Denied("key", position)
        channels = _CHANNEL_ARGUMENTS.get(spec.name)
        if channels is not None and not self.all_channels:
            first, last, patterns = channels
            for position in range(first, len(argv) if last < 0 else last + 1):
                if not self.allows_channel(argv[position], patterns):
                    raise Denied("channel", position)

    def allows_channel(self, channel: bytes, pattern: bool = False) -> bool:
        """ACLCheckChannelAgainstList: a channel matches one of the ``&`` patterns; a
        subscription pattern must be one of them, letter for letter."""
        if self.all_channels:
            return True
        if pattern:
            return channel in self.channels
        return any(stringmatch(allowed, channel) for allowed in self.channels)

    # --- descriptions

    def describe(self) -> str:
        """ACLDescribeSelector: keys, channels, then command rules."""
        parts = ["~*"] if self.all_keys else [_pattern_rule(p, f) for p, f in self.patterns]
        if self.all_channels:
            parts.append("&*")
        else:
            parts += ["resetchannels", *("&" + _text(c) for c in self.channels)]
        return " ".join([*parts, self.describe_commands()])

    def key_rules(self) -> str:
        if self.all_keys:
            return "~*"
        return " ".join(_pattern_rule(p, f) for p, f in self.patterns)

    def channel_rules(self) -> str:
        return "&*" if self.all_channels else " ".join("&" + _text(c) for c in self.channels)

    def describe_commands(self) -> str:
        """ACLDescribeSelectorCommandRules: ``+@all`` or ``-@all``, then the categories that
        fit best, then single commands, replayed on a fake selector as they are emitted so
        the rules rebuild exactly this selector's permissions."""
        additive = not self.future_commands
        start = "-@all" if additive else "+@all"
        rules = [start]
        fake = Selector()
        fake.apply(start.encode())
        remaining = set(self.commands)  # what the categories chosen so far leave to explain
        applied: set[str] = set()
        while True:
            best, min_diff, max_same = None, 1 << 31, 0
            for category in CATEGORY_ORDER:
                if category in applied:
                    continue
                members = [spec.name for spec in all_commands() if category in spec.categories]
                on = sum(name in remaining for name in members)
                off = len(members) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < min_diff or (diff == min_diff and same > max_same)):
                    best, min_diff, max_same = category, diff, same
            if best is None:
                break
            sign, inverse = ("+", "-") if additive else ("-", "+")
            fake.apply(f"{sign}@{best}".encode())
            inverted = Selector(commands=remaining)
            inverted.apply(f"{inverse}@{best}".encode())
            remaining = inverted.commands
            rules.append(f"{sign}@{best}")
            applied.add(best)
        for spec in all_commands():
            allowed = spec.name in self.commands
            if allowed != (spec.name in fake.commands):
                rules.append(("+" if allowed else "-") + spec.name)
                fake._allow(_family(spec), allowed)
            if not allowed:
                rules += [f"+{spec.name}|{_text(a)}" for a in self.first_args.get(spec.name, ())]
        return " ".join(rules)


def _pattern_rule(pattern: bytes, flags: int) -> str:
    prefix = {READ_WRITE: "~", READ: "%R~", WRITE: "%W~"}[flags]
    return prefix + _text(pattern)


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def key_access(spec: Command, argv: list[bytes]) -> list[tuple[int, int]]:
    """Each key the command names, with the access its key spec asks: ``access`` reads;
    ``insert``, ``delete`` and ``update`` write."""
    found = []
    for position, flags in keys_of(spec, argv):
        needed = READ if "access" in flags else 0
        if "insert" in flags or "delete" in flags or "update" in flags:
            needed |= WRITE
        found.append((position, needed))
    return found


# --- users ---------------------------------------------------------------------------------------


@dataclass
class User:
    """A user; a new one (ACLCreateUser) is off, with no password and no permissions."""

    name: bytes
    enabled: bool = False
    nopass: bool = False
    sanitize: str | None = None  # "sanitize-payload", "skip-sanitize-payload" or unset
    passwords: list[str] = field(default_factory=list)  # SHA-256 hex digests
    selectors: list[Selector] = field(default_factory=lambda: [Selector(root=True)])
    # The root selector allows every command, key and channel: the dispatcher's fast path may
    # skip the checks (recomputed after each change).
    unrestricted: bool = False

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def flags(self) -> list[str]:
        return [
            name
            for name, on in zip(
                USER_FLAGS,
                (
                    self.enabled,
                    not self.enabled,
                    self.nopass,
                    self.sanitize == "skip-sanitize-payload",
                    self.sanitize == "sanitize-payload",
                ),
                strict=True,
            )
            if on
        ]

    def apply(self, op: bytes) -> None:
        """ACLSetUser: one rule. Raises RuleError with Redis's reason."""
        low = op.lower()
        if not op:
            return
        if low in (b"on", b"off"):
            self.enabled = low == b"on"
        elif low in (b"sanitize-payload", b"skip-sanitize-payload"):
            self.sanitize = low.decode()
        elif low == b"nopass":
            self.nopass, self.passwords = True, []
        elif low == b"resetpass":
            self.nopass, self.passwords = False, []
        elif op[:1] in (b">", b"#"):
            digest = self._digest(op)
            if digest not in self.passwords:
                self.passwords.append(digest)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            digest = self._digest(op)
            if digest not in self.passwords:
                raise RuleError(NO_SUCH_PASSWORD)
            self.passwords.remove(digest)
        elif op[:1] == b"(" and op[-1:] == b")":
            self.selectors.append(selector_from(op))
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low == b"reset":
            for rule in (b"resetpass", b"resetkeys", b"resetchannels", b"off"):
                self.apply(rule)
            for rule in (b"sanitize-payload", b"clearselectors", b"-@all"):
                self.apply(rule)
        else:
            self.root.apply(op)
        self.unrestricted = self._unrestricted()

    @staticmethod
    def _digest(op: bytes) -> str:
        if op[:1] in (b">", b"<"):
            return hash_password(op[1:])
        if not _valid_hash(op[1:]):
            raise RuleError(BAD_HASH)
        return op[1:].decode()

    def _unrestricted(self) -> bool:
        root = self.root
        every_command = len(root.commands) == sum(1 for _ in all_commands())
        return root.all_keys and root.all_channels and every_command

    def check_password(self, password: bytes) -> bool:
        """In constant time per stored hash: a timing tells nothing of how close a guess was."""
        if self.nopass:
            return True
        digest = hash_password(password)
        return any(hmac.compare_digest(digest, known) for known in self.passwords)

    def check(self, spec: Command, argv: list[bytes]) -> None:
        """ACLCheckAllUserCommandPerm: pass if any selector allows; otherwise raise the most
        relevant denial (a key over the command; the later key)."""
        worst: Denied | None = None
        for selector in self.selectors:
            try:
                selector.check(spec, argv)
                return
            except Denied as denied:
                if worst is None or _rank(denied) > _rank(worst):
                    worst = denied
        raise worst

    def may_read_every_key(self, spec: Command, argv: list[bytes]) -> bool:
        """ACLUserCheckCmdWithUnrestrictedKeyAccess: some selector that allows this command
        line also lets it read any key (SORT's BY and GET read keys the data names)."""
        for selector in self.selectors:
            try:
                selector.check(spec, argv)
            except Denied:
                continue
            if selector.all_keys or any(p == b"*" and f & READ for p, f in selector.patterns):
                return True
        return False

    @property
    def reads_every_key(self) -> bool:
        return any(s.all_keys for s in self.selectors)

    def allows_channel(self, channel: bytes, pattern: bool = False) -> bool:
        """Whether some selector lets this user publish or subscribe to ``channel`` (a
        subscription pattern when ``pattern``)."""
        return any(s.allows_channel(channel, pattern) for s in self.selectors)

    def may_read(self, key: bytes) -> bool:
        """Whether some selector lets this user read ``key`` (QUERY shows only such keys)."""
        return any(s.allows_key(key, READ) for s in self.selectors)

    def describe(self) -> str:
        """ACLDescribeUser: the rules that rebuild this user (ACL LIST, the ACL file)."""
        parts = [*self.flags(), *("#" + p for p in self.passwords), self.root.describe()]
        return " ".join(parts + [f"({s.describe()})" for s in self.selectors[1:]])

    def assign(self, other: User) -> None:
        """ACLCopyUser: take ``other``'s rules, keeping this object (clients refer to it)."""
        for name in ("enabled", "nopass", "sanitize", "passwords", "selectors", "unrestricted"):
            setattr(self, name, getattr(other, name))


_REASONS = ("command", "key", "auth", "channel")  # Redis's ACL_DENIED_* order


def _rank(denied: Denied) -> tuple[int, int]:
    """Which refusal of several selectors Redis reports: the later reason, then argument."""
    return (_REASONS.index(denied.reason), denied.position)


def selector_from(op: bytes) -> Selector:
    """``(rule rule ...)``: a selector, its rules split as sdssplitargs splits them."""
    selector = Selector()
    try:
        rules = split_inline(op[1:-1])
    except ProtocolError:
        raise RuleError(SYNTAX_ERROR) from None
    for rule in rules:
        selector.apply(rule)
    return selector


def merge_selector_arguments(rules: list[bytes]) -> list[bytes]:
    """ACLMergeSelectorArguments: ``(+get`` ``~x)`` given as separate arguments form one
    selector. Raises ValueError naming the argument of an unclosed one."""
    merged: list[bytes] = []
    opened: bytearray | None = None
    start = b""
    for rule in rules:
        if opened is None and rule[:1] == b"(" and rule[-1:] != b")":
            opened, start = bytearray(rule), rule
        elif opened is not None:
            opened += b" " + rule
            if rule[-1:] == b")":
                merged.append(bytes(opened))
                opened = None
        else:
            merged.append(rule)
    if opened is not None:
        raise ValueError(start)
    return merged


def default_user() -> User:
    """ACLCreateDefaultUser: every command, key and channel; no password."""
    user = User(b"default")
    for rule in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
        user.apply(rule)
    return user


# --- the ACL log ---------------------------------------------------------------------------------


@dataclass
class LogEntry:
    reason: str  # command, key, channel, auth
    context: str  # toplevel, multi
    object: bytes
    username: bytes
    created_ms: int
    client_info: bytes
    count: int = 1


# --- the set of users ----------------------------------------------------------------------------


class Users:
    """Every user by name, the default one always among them, and the ACL log."""

    def __init__(self) -> None:
        self.default = default_user()
        self.by_name: dict[bytes, User] = {b"default": self.default}
        self.log: list[LogEntry] = []  # newest first

    def get(self, name: bytes) -> User | None:
        return self.by_name.get(name)

    def names(self) -> list[bytes]:
        return sorted(self.by_name)

    @property
    def default_open(self) -> bool:
        """Redis's authRequired() is false: the default user is on and needs no password."""
        return self.default.nopass and self.default.enabled

    def set_default_password(self, password: str) -> None:
        """``requirepass``: the default user's one password, or nopass when empty."""
        self.default.apply(b"resetpass")
        self.default.apply(b">" + password.encode() if password else b"nopass")

    def setuser(self, name: bytes, rules: list[bytes]) -> None:
        """ACL SETUSER: stage every rule on a copy; apply all or none."""
        existing = self.by_name.get(name)
        staged = copy.deepcopy(existing) if existing else User(name)
        for rule in rules:
            try:
                staged.apply(rule)
            except RuleError as exc:
                raise RuleError(f"Error in ACL SETUSER modifier '{_text(rule)}': {exc}") from None
        if existing is None:
            self.by_name[name] = staged
        else:
            existing.assign(staged)

    def declare(self, definition: bytes) -> None:
        """A configuration file's ``user name rule ...`` line (ACLLoadConfiguredUsers): the
        user is created, or the default one reset, then given the rules. ValueError with
        Redis's log line for a rule it refuses."""
        name, *rules = definition.split(b" ")
        user = self.by_name.get(name)
        if user is None:
            user = self.by_name[name] = User(name)
        else:
            user.apply(b"reset")
        try:
            rules = merge_selector_arguments(rules)
        except ValueError as exc:
            raise ValueError(
                f"Unmatched parenthesis in acl selector starting at '{_text(exc.args[0])}'."
            ) from None
        for rule in rules:
            try:
                user.apply(rule)
            except RuleError as exc:
                raise ValueError(
                    f"Error loading ACL rule '{_text(rule)}' for the user named"
                    f" '{_text(name)}': {exc}"
                ) from None

    def authenticate(self, name: bytes, password: bytes) -> User | None:
        """ACLCheckUserCredentials: the user, if it exists, is on and the password fits."""
        user = self.by_name.get(name)
        if user is None or not user.enabled or not user.check_password(password):
            return None
        return user

    def add_log(
        self, reason: str, context: str, obj: bytes, username: bytes, info: bytes, limit: int
    ) -> None:
        """addACLLogEntry: count a repeat of one of the last 10 entries within a minute,
        else add an entry, keeping at most ``acllog-max-len``."""
        now = int(time.time() * 1000)
        for i, entry in enumerate(self.log[:10]):
            if (entry.reason, entry.context, entry.object, entry.username) == (
                reason,
                context,
                obj,
                username,
            ) and abs(now - entry.created_ms) <= LOG_GROUPING_MS:
                entry.count += 1
                entry.created_ms, entry.client_info = now, info
                self.log.insert(0, self.log.pop(i))
                return
        self.log.insert(0, LogEntry(reason, context, obj, username, now, info))
        del self.log[limit:]

    # --- the ACL file

    def load_file(self, path: str) -> dict[bytes, User]:
        """ACLLoadFromFile: the users the file defines, or ValueError with every problem
        found, in Redis's words (nothing changes then)."""
        try:
            with open(path, "rb") as f:
                text = f.read()
        except OSError as exc:
            raise ValueError(f"Error loading ACLs, opening file '{path}': {exc.strerror}") from None
        users: dict[bytes, User] = {}
        errors = []
        for number, line in enumerate(text.split(b"\n"), 1):
            line = line.strip(b" \t\r\n")
            if not line:
                continue
            args = line.split(b" ")  # single spaces, no quoting: sdssplitlen
            if args[0] != b"user" or len(args) < 2:
                errors.append(
                    f"{path}:{number} should start with user keyword followed by the username. "
                )
                continue
            if _has_spaces(args[1]):
                errors.append(
                    f"'{path}:{number}: username '{_text(args[1])}' contains invalid characters. "
                )
                continue
            if args[1] in users:
                name = _text(args[1])
                errors.append(f"WARNING: Duplicate user '{name}' found on line {number}. ")
                continue
            user = users[args[1]] = User(args[1])
            try:
                rules = merge_selector_arguments(args[2:])
            except ValueError:
                errors.append(f"{path}:{number}: Unmatched parenthesis in selector definition.")
                continue
            syntax_error = False
            for rule in rules:
                try:
                    user.apply(rule.strip(b"\t\r\n"))
                except RuleError as exc:
                    # A missing command is named (it reveals nothing); of other errors only
                    # the line's first is reported, as it may cause the rest.
                    if str(exc) == UNKNOWN_NAME:
                        errors.append(
                            f"{path}:{number}: Error in applying operation '{_text(rule)}': {exc}. "
                        )
                    elif not syntax_error:
                        errors.append(f"{path}:{number}: {exc}. ")
                        syntax_error = True
        if errors:
            errors.append(
                "WARNING: ACL errors detected, no change to the previously active ACL rules"
                " was performed"
            )
            raise ValueError("".join(errors))
        return users

    def replace(self, users: dict[bytes, User], on_dropped: Callable[[User], None]) -> None:
        """Install users loaded from the file. The default user object stays (clients hold
        it) with the file's rules, or the defaults; every other old user is dropped, and
        ``on_dropped`` ends its clients, as ACL LOAD does."""
        self.default.assign(users.pop(b"default", None) or default_user())
        old = [u for name, u in self.by_name.items() if name != b"default"]
        self.by_name = {b"default": self.default, **users}
        for user in old:
            on_dropped(user)

    def save_file(self, path: str) -> None:
        """ACLSaveToFile: every user as a ``user`` line, written to a temporary file that
        then replaces the old one."""
        text = "".join(f"user {_text(n)} {self.by_name[n].describe()}\n" for n in self.names())
        temporary = f"{path}.tmp-{os.getpid()}-{int(time.time() * 1000)}"
        try:
            with open(temporary, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
