"""ACL commands. https://redis.io/docs/latest/commands/acl/

The users themselves, their rules and the ACL file are respserver/acl.py's; these handlers
parse arguments and shape replies as Redis 7.0's aclCommand does.
"""

from __future__ import annotations

import os
import time

from respserver.commands.server import help_reply
from respserver.core.state import Client
from respserver.errors import (
    ACL_SAVE_FAILED,
    DEFAULT_USER_UNDELETABLE,
    NO_ACL_FILE,
    USERNAME_CHARACTERS,
    CommandError,
    SubcommandMisuse,
    acl_rule,
    c_string,
    command_not_found,
    genpass_bits,
    unknown_category,
    unmatched_parenthesis,
    user_not_found,
    wrong_arity,
)
from respserver.numbers import to_int
from respserver.registry import CATEGORY_ORDER, COMMANDS, command, container
from respserver.resp.types import OK, RespSet, SimpleString
from respserver.security.acl import Denied, RuleError, Selector, User, merge_selector_arguments
from respserver.security.acl import all_commands as every_command

GENPASS_MAX_BITS = 4096

container(
    "acl",
    arity=-2,
    group="server",
    since="6.0.0",
    summary="A container for Access List Control commands ",
)

_ADMIN = {"flags": "admin noscript loading stale", "group": "server", "since": "6.0.0"}
_PLAIN = {"flags": "noscript loading stale", "group": "server", "since": "6.0.0"}


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


@command(
    "acl|setuser",
    "username [rule [rule ...]]",
    arity=-3,
    summary="Modify or create the rules for a specific ACL user",
    complexity="O(N). Where N is the number of rules provided.",
    history=(
        ("6.2.0", "Added Pub/Sub channel patterns."),
        ("7.0.0", "Added selectors and key based permissions."),
    ),
    **_ADMIN,
)
def acl_setuser(ctx: Client, username: bytes, *rules: bytes) -> SimpleString:
    """Create the user or change its rules: all of them apply, or none does."""
    if any(c in b" \t\n\v\f\r\0" for c in username):
        raise CommandError(USERNAME_CHARACTERS)
    try:
        merged = merge_selector_arguments(list(rules))
    except ValueError as exc:
        raise unmatched_parenthesis(_text(exc.args[0])) from None
    try:
        ctx.server.users.setuser(username, merged)
    except RuleError as exc:
        raise acl_rule(exc) from None
    _disconnect_revoked_subscribers(ctx, ctx.server.users.by_name[username])
    return OK


def _disconnect_revoked_subscribers(ctx: Client, user: User) -> None:
    """Redis 7.0's ACLKillPubsubClientsIfNeeded: a client of ``user`` subscribed to a channel
    or pattern its permissions no longer allow is disconnected."""
    for client in list(ctx.server.clients.values()):
        if client.user is not user or not client.subscriptions:
            continue
        allowed = all(user.allows_channel(p, pattern=True) for p in client.patterns) and all(
            user.allows_channel(c) for c in (*client.channels, *client.shard_channels)
        )
        if not allowed:
            ctx.server.disconnect(client, ctx)


def _selector_fields(selector: Selector) -> dict:
    return {
        b"commands": selector.describe_commands().encode(),
        b"keys": selector.key_rules().encode(),
        b"channels": selector.channel_rules().encode(),
    }


@command(
    "acl|getuser",
    "username",
    arity=3,
    summary="Get the rules for a specific ACL user",
    complexity=(
        "O(N). Where N is the number of password, command and pattern rules that the user has."
    ),
    history=(
        ("6.2.0", "Added Pub/Sub channel patterns."),
        (
            "7.0.0",
            "Added selectors and changed the format of key and channel patterns from a list "
            "to their rule representation.",
        ),
    ),
    **_ADMIN,
)
def acl_getuser(ctx: Client, username: bytes) -> dict | None:
    """The user's flags, password hashes and permissions, or null if there is no such user."""
    user = ctx.server.users.get(username)
    if user is None:
        return None
    return {
        b"flags": RespSet(flag.encode() for flag in user.flags()),
        b"passwords": [p.encode() for p in user.passwords],
        **_selector_fields(user.root),
        b"selectors": [_selector_fields(s) for s in user.selectors[1:]],
    }


@command(
    "acl|deluser",
    "username [username ...]",
    arity=-3,
    summary="Remove the specified ACL users and the associated rules",
    complexity="O(1) amortized time considering the typical user.",
    **_ADMIN,
)
def acl_deluser(ctx: Client, *usernames: bytes) -> int:
    """Delete users, closing their connections; the number deleted."""
    users = ctx.server.users
    if b"default" in usernames:
        raise CommandError(DEFAULT_USER_UNDELETABLE)
    deleted = 0
    for name in usernames:
        user = users.by_name.pop(name, None)
        if user is not None:
            _disconnect_users_clients(ctx, user)
            deleted += 1
    return deleted


def _disconnect_users_clients(ctx: Client, user: User) -> None:
    """ACLFreeUserAndKillClients: a removed user's connections fall back to an unauthenticated
    default user, then close (the caller's after this reply)."""
    for client in list(ctx.server.clients.values()):
        if client.user is user:
            client.user, client.authenticated = ctx.server.users.default, False
            ctx.server.disconnect(client, ctx)


@command(
    "acl|users",
    arity=2,
    summary="List the username of all the configured ACL rules",
    complexity="O(N). Where N is the number of configured users.",
    **_ADMIN,
)
def acl_users(ctx: Client) -> list[bytes]:
    """Every user's name, in byte order."""
    return ctx.server.users.names()


@command(
    "acl|list",
    arity=2,
    summary="List the current ACL rules in ACL config file format",
    complexity="O(N). Where N is the number of configured users.",
    **_ADMIN,
)
def acl_list(ctx: Client) -> list[bytes]:
    """Every user as the ``user`` line of an ACL file."""
    users = ctx.server.users
    return [b"user " + name + b" " + users.get(name).describe().encode() for name in users.names()]


@command(
    "acl|whoami",
    arity=2,
    summary="Return the name of the user associated to the current connection",
    **_PLAIN,
)
def acl_whoami(ctx: Client) -> bytes:
    """The connection's user."""
    return ctx.user.name


@command(
    "acl|cat",
    "[categoryname]",
    arity=-2,
    summary="List the ACL categories or the commands inside a category",
    complexity="O(1) since the categories and commands are a fixed set.",
    **_PLAIN,
)
def acl_cat(ctx: Client, *category: bytes) -> list[bytes]:
    """The categories, or the commands and subcommands in one."""
    if not category:
        return [name.encode() for name in CATEGORY_ORDER]
    if len(category) > 1:
        raise SubcommandMisuse()
    name = category[0].decode("latin-1").lower()
    if name not in CATEGORY_ORDER:
        raise unknown_category(c_string(category[0]))
    return [spec.name.encode() for spec in every_command() if name in spec.categories]


@command(
    "acl|genpass",
    "[bits]",
    arity=-2,
    summary="Generate a pseudorandom secure password to use for ACL users",
    **_PLAIN,
)
def acl_genpass(ctx: Client, *bits: bytes) -> bytes:
    """A random password of ``bits`` (256) bits, in hexadecimal."""
    if len(bits) > 1:
        raise SubcommandMisuse()
    count = to_int(bits[0]) if bits else 256
    if not 0 < count <= GENPASS_MAX_BITS:
        raise genpass_bits(GENPASS_MAX_BITS)
    chars = (count + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars].encode()


@command(
    "acl|log",
    "[count | RESET]",
    arity=-2,
    summary="List latest events denied because of ACLs in place",
    complexity="O(N) with N being the number of entries shown.",
    **_ADMIN,
)
def acl_log(ctx: Client, *args: bytes) -> object:
    """The latest refusals (10, or ``count``), newest first; RESET empties the log."""
    users = ctx.server.users
    if len(args) > 1:
        raise SubcommandMisuse()
    if args and args[0].lower() == b"reset":
        users.log.clear()
        return OK
    count = max(to_int(args[0]), 0) if args else 10
    now = int(time.time() * 1000)
    return [
        {
            b"count": entry.count,
            b"reason": entry.reason.encode(),
            b"context": entry.context.encode(),
            b"object": entry.object,
            b"username": entry.username,
            b"age-seconds": (now - entry.created_ms) / 1000,
            b"client-info": entry.client_info,
        }
        for entry in users.log[:count]
    ]


@command(
    "acl|dryrun",
    "username command [arg [arg ...]]",
    arity=-4,
    summary=(
        "Returns whether the user can execute the given command without executing the command."
    ),
    complexity="O(1).",
    **(_ADMIN | {"since": "7.0.0"}),
)
def acl_dryrun(ctx: Client, username: bytes, *argv: bytes) -> object:
    """OK if the user could run the command line, else why not (as a bulk string)."""
    user = ctx.server.users.get(username)
    if user is None:
        raise user_not_found(_text(username))
    spec = COMMANDS.get(argv[0].lower())
    if spec is not None and spec.subcommands and len(argv) > 1:
        spec = spec.subcommands.get(argv[1].lower())
    if spec is None:
        raise command_not_found(_text(argv[0]))
    if not spec.arity_ok(len(argv)):
        raise wrong_arity(spec.name)
    try:
        user.check(spec, list(argv))
    except Denied as denied:
        if denied.reason == "command":
            return f"This user has no permissions to run the '{spec.name}' command".encode()
        key = argv[denied.position]
        return b"This user has no permissions to access the '" + key + b"' key"
    return OK


def _acl_file(ctx: Client) -> str:
    path = ctx.server.config.aclfile
    if not path:
        raise CommandError(NO_ACL_FILE)
    return path


@command(
    "acl|save",
    arity=2,
    summary="Save the current ACL rules in the configured ACL file",
    complexity="O(N). Where N is the number of configured users.",
    **_ADMIN,
)
def acl_save(ctx: Client) -> SimpleString:
    """Write every user to the ACL file."""
    path = _acl_file(ctx)
    try:
        ctx.server.users.save_file(path)
    except OSError:
        raise CommandError(ACL_SAVE_FAILED) from None
    return OK


@command(
    "acl|load",
    arity=2,
    summary="Reload the ACLs from the configured ACL file",
    complexity="O(N). Where N is the number of configured users.",
    **_ADMIN,
)
def acl_load(ctx: Client) -> SimpleString:
    """Replace every user with the ACL file's, or change nothing if the file has errors."""
    users = ctx.server.users
    try:
        loaded = users.load_file(_acl_file(ctx))
    except ValueError as exc:
        raise acl_rule(exc) from None
    users.replace(loaded, lambda user: _disconnect_users_clients(ctx, user))
    return OK


@command(
    "acl|help",
    arity=2,
    flags="loading stale",
    group="server",
    since="6.0.0",
    summary="Show helpful text about the different subcommands",
)
def acl_help(ctx: Client) -> list[SimpleString]:
    """The ACL subcommands."""
    return help_reply(
        "ACL",
        (
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the"
            " command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ),
    )
