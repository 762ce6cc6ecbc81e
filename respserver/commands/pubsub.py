"""Pub/sub commands. https://redis.io/docs/latest/commands/?group=pubsub

Subscriptions live in ``core/pubsub.py``. (Un)subscribing answers one confirmation per name,
``[kind, name, count]`` (a push in RESP3, an array in RESP2), where count is the client's
subscriptions after that one: channels and patterns together, shard channels apart. A RESP2
client with a subscription may only (un)subscribe, PING, QUIT or RESET (core/dispatch.py).
"""

from __future__ import annotations

from respserver.commands.server import help_reply
from respserver.core.pubsub import CHANNELS, PATTERNS, SHARD_CHANNELS
from respserver.core.state import Client
from respserver.errors import SubcommandMisuse, subscribe_denied
from respserver.registry import command, container
from respserver.resp.types import Push, Replies


def _count(ctx: Client, namespace: str) -> int:
    """The count a confirmation shows: shard channels apart from channels and patterns."""
    if namespace == SHARD_CHANNELS:
        return len(ctx.shard_channels)
    return len(ctx.channels) + len(ctx.patterns)


def _confirmations(ctx: Client, kind: bytes, namespace: str, names: tuple[bytes, ...]) -> Replies:
    """Subscribe to (or, for an ``un...`` kind, leave) each name, confirming each: leaving
    with no names leaves every one the client has, or confirms a null name if it has none."""
    pubsub, replies = ctx.server.pubsub, Replies()
    leaving = b"unsubscribe" in kind
    if leaving and not names:
        names = tuple(getattr(ctx, namespace))
        if not names:
            return Replies([Push([kind, None, _count(ctx, namespace)])])
    for name in names:
        if leaving:
            pubsub.unsubscribe(ctx, namespace, name)
        else:
            pubsub.subscribe(ctx, namespace, name)
        replies.append(Push([kind, name, _count(ctx, namespace)]))
    return replies


def _may_subscribe(ctx: Client, name: str, in_exec_too: bool = True) -> None:
    """A client that expects one reply per command cannot subscribe: SSUBSCRIBE fails inside
    EXEC, where SUBSCRIBE and PSUBSCRIBE still may, as Redis keeps for backward compatibility
    (scripts, which cannot, do not exist yet)."""
    if ctx.deny_blocking and not in_exec_too:
        raise subscribe_denied(name)


_SUBSCRIBE_FLAGS = "pubsub noscript loading stale"


@command(
    "subscribe",
    "channel [channel ...]",
    arity=-2,
    flags=_SUBSCRIBE_FLAGS,
    group="pubsub",
    since="2.0.0",
    summary="Listen for messages published to the given channels",
    complexity="O(N) where N is the number of channels to subscribe to.",
)
def subscribe(ctx: Client, *channels: bytes) -> Replies:
    """Listen to channels; a confirmation for each."""
    _may_subscribe(ctx, "SUBSCRIBE")
    return _confirmations(ctx, b"subscribe", CHANNELS, channels)


@command(
    "unsubscribe",
    "[channel [channel ...]]",
    arity=-1,
    flags=_SUBSCRIBE_FLAGS,
    group="pubsub",
    since="2.0.0",
    summary="Stop listening for messages posted to the given channels",
    complexity="O(N) where N is the number of clients already subscribed to a channel.",
)
def unsubscribe(ctx: Client, *channels: bytes) -> Replies:
    """Stop listening to channels (all of them, without arguments); a confirmation for each."""
    return _confirmations(ctx, b"unsubscribe", CHANNELS, channels)


@command(
    "psubscribe",
    "pattern [pattern ...]",
    arity=-2,
    flags=_SUBSCRIBE_FLAGS,
    group="pubsub",
    since="2.0.0",
    summary="Listen for messages published to channels matching the given patterns",
    complexity="O(N) where N is the number of patterns the client is already subscribed to.",
)
def psubscribe(ctx: Client, *patterns: bytes) -> Replies:
    """Listen to the channels glob-style patterns match; a confirmation for each."""
    _may_subscribe(ctx, "PSUBSCRIBE")
    return _confirmations(ctx, b"psubscribe", PATTERNS, patterns)


@command(
    "punsubscribe",
    "[pattern [pattern ...]]",
    arity=-1,
    flags=_SUBSCRIBE_FLAGS,
    group="pubsub",
    since="2.0.0",
    summary="Stop listening for messages posted to channels matching the given patterns",
    complexity="O(N+M) where N is the number of patterns the client is already subscribed and "
    "M is the number of total patterns subscribed in the system (by any client).",
)
def punsubscribe(ctx: Client, *patterns: bytes) -> Replies:
    """Stop listening to patterns (all of them, without arguments)."""
    return _confirmations(ctx, b"punsubscribe", PATTERNS, patterns)


_SHARD_META = dict(
    flags=_SUBSCRIBE_FLAGS,
    keys=(1, -1, 1),
    key_flags="not_key",
    group="pubsub",
    since="7.0.0",
)


@command(
    "ssubscribe",
    "shardchannel [shardchannel ...]",
    arity=-2,
    summary="Listen for messages published to the given shard channels",
    complexity="O(N) where N is the number of shard channels to subscribe to.",
    **_SHARD_META,
)
def ssubscribe(ctx: Client, *channels: bytes) -> Replies:
    """Listen to shard channels (on one node: channels of their own)."""
    _may_subscribe(ctx, "SSUBSCRIBE", in_exec_too=False)
    return _confirmations(ctx, b"ssubscribe", SHARD_CHANNELS, channels)


@command(
    "sunsubscribe",
    "[shardchannel [shardchannel ...]]",
    arity=-1,
    summary="Stop listening for messages posted to the given shard channels",
    complexity="O(N) where N is the number of clients already subscribed to a shard channel.",
    **_SHARD_META,
)
def sunsubscribe(ctx: Client, *channels: bytes) -> Replies:
    """Stop listening to shard channels (all of them, without arguments)."""
    return _confirmations(ctx, b"sunsubscribe", SHARD_CHANNELS, channels)


@command(
    "publish",
    "channel message",
    arity=3,
    flags="pubsub loading stale fast may_replicate",
    group="pubsub",
    since="2.0.0",
    summary="Post a message to a channel",
    complexity="O(N+M) where N is the number of clients subscribed to the receiving channel "
    "and M is the total number of subscribed patterns (by any client).",
)
def publish(ctx: Client, channel: bytes, message: bytes) -> int:
    """Send a message to a channel's subscribers and matching patterns' clients; how many
    received it (a message to ``ctx`` itself goes out before this reply: core/dispatch)."""
    return ctx.server.pubsub.publish(channel, message)


@command(
    "spublish",
    "shardchannel message",
    arity=3,
    flags="pubsub loading stale fast may_replicate",
    keys=(1, 1, 1),
    key_flags="not_key",
    group="pubsub",
    since="7.0.0",
    summary="Post a message to a shard channel",
    complexity="O(N) where N is the number of clients subscribed to the receiving shard channel.",
)
def spublish(ctx: Client, shardchannel: bytes, message: bytes) -> int:
    """Send a message to a shard channel's subscribers; how many received it."""
    return ctx.server.pubsub.publish(shardchannel, message, shard=True)


# --- PUBSUB: introspection ----------------------------------------------------------------------

container(
    "pubsub",
    arity=-2,
    group="pubsub",
    since="2.8.0",
    summary="A container for Pub/Sub commands",
)

_HELP = (
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
)
_INTROSPECTION = "pubsub loading stale"


def _names(ctx: Client, namespace: str, pattern: tuple[bytes, ...]) -> list[bytes]:
    if len(pattern) > 1:
        raise SubcommandMisuse()
    return list(ctx.server.pubsub.active(namespace, pattern[0] if pattern else None))


def _numbers(ctx: Client, namespace: str, names: tuple[bytes, ...]) -> list[object]:
    pubsub = ctx.server.pubsub
    return [x for name in names for x in (name, pubsub.count(namespace, name))]


@command(
    "pubsub|channels",
    "[pattern]",
    arity=-2,
    flags=_INTROSPECTION,
    group="pubsub",
    since="2.8.0",
    summary="List active channels",
    complexity="O(N) where N is the number of active channels, and assuming constant time "
    "pattern matching (relatively short channels and patterns)",
)
def pubsub_channels(ctx: Client, *pattern: bytes) -> list[bytes]:
    """The channels with a subscriber (matching the pattern)."""
    return _names(ctx, CHANNELS, pattern)


@command(
    "pubsub|numsub",
    "[channel [channel ...]]",
    arity=-2,
    flags=_INTROSPECTION,
    group="pubsub",
    since="2.8.0",
    summary="Get the count of subscribers for channels",
    complexity="O(N) for the NUMSUB subcommand, where N is the number of requested channels",
)
def pubsub_numsub(ctx: Client, *channels: bytes) -> list[object]:
    """Each channel and its number of subscribers (patterns not counted)."""
    return _numbers(ctx, CHANNELS, channels)


@command(
    "pubsub|numpat",
    arity=2,
    flags=_INTROSPECTION,
    group="pubsub",
    since="2.8.0",
    summary="Get the count of unique patterns pattern subscriptions",
    complexity="O(1)",
)
def pubsub_numpat(ctx: Client) -> int:
    """How many distinct patterns have a subscriber."""
    return len(ctx.server.pubsub.patterns)


@command(
    "pubsub|shardchannels",
    "[pattern]",
    arity=-2,
    flags=_INTROSPECTION,
    group="pubsub",
    since="7.0.0",
    summary="List active shard channels",
    complexity="O(N) where N is the number of active shard channels, and assuming constant "
    "time pattern matching (relatively short shard channels).",
)
def pubsub_shardchannels(ctx: Client, *pattern: bytes) -> list[bytes]:
    """The shard channels with a subscriber (matching the pattern)."""
    return _names(ctx, SHARD_CHANNELS, pattern)


@command(
    "pubsub|shardnumsub",
    "[shardchannel [shardchannel ...]]",
    arity=-2,
    flags=_INTROSPECTION,
    group="pubsub",
    since="7.0.0",
    summary="Get the count of subscribers for shard channels",
    complexity="O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard "
    "channels",
)
def pubsub_shardnumsub(ctx: Client, *channels: bytes) -> list[object]:
    """Each shard channel and its number of subscribers."""
    return _numbers(ctx, SHARD_CHANNELS, channels)


@command(
    "pubsub|help",
    arity=2,
    flags="loading stale",
    categories="",
    group="pubsub",
    since="6.2.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
)
def pubsub_help(ctx: Client) -> list:
    """PUBSUB's subcommands."""
    return help_reply("PUBSUB", _HELP)
