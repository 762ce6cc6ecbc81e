"""Error replies with Redis's exact wording: the one place wire text for errors is written."""

from collections.abc import Sequence


class CommandError(Exception):
    """An error reply; ``message`` is the text after '-', its code (ERR, WRONGTYPE...) included."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
NO_SUCH_KEY = "ERR no such key"
DB_INDEX_OUT_OF_RANGE = "ERR DB index is out of range"
INCR_OVERFLOW = "ERR increment or decrement would overflow"
INCR_NAN_OR_INF = "ERR increment would produce NaN or Infinity"
# Writes (and PING) while snapshots fail, with save rules and stop-writes-on-bgsave-error yes.
BGSAVE_ERROR = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to"
    " disk. Commands that may modify the data set are disabled, because this instance is"
    " configured to report errors during writes if RDB snapshotting fails"
    " (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the"
    " RDB error."
)
# A command flagged no_multi (SAVE, SHUTDOWN...) sent inside MULTI: refused, never queued.
NOT_IN_MULTI = "ERR Command not allowed inside a transaction"


def wrong_arity(fullname: str) -> CommandError:
    """The arity error; ``fullname`` is lowercase, ``parent|sub`` for subcommands."""
    return CommandError(f"ERR wrong number of arguments for '{fullname}' command")


def _c_bytes(data: bytes, limit: int) -> bytes:
    """What C's ``%.*s`` prints of ``data``: up to the first NUL byte, at most ``limit``."""
    return data.split(b"\0", 1)[0][:limit]


def c_string(data: bytes, limit: int = 128) -> str:
    """User input as Redis echoes it in errors (``%.128s``); bytes that are not UTF-8 go back
    out as they came."""
    return _c_bytes(data, limit).decode("utf-8", "surrogateescape")


def _quoted_preview(args: Sequence[bytes]) -> str:
    # Redis bounds user input echoed in errors to about 128 bytes.
    preview = b""
    for arg in args:
        if len(preview) >= 128:
            break
        preview += b"'" + _c_bytes(arg, 128 - len(preview)) + b"' "
    return preview.decode("utf-8", "surrogateescape")


def unknown_command(name: bytes, args: Sequence[bytes]) -> CommandError:
    return CommandError(
        f"ERR unknown command '{c_string(name)}', with args beginning with: {_quoted_preview(args)}"
    )


def unknown_subcommand(sub: bytes, container: str) -> CommandError:
    return CommandError(f"ERR unknown subcommand '{c_string(sub)}'. Try {container.upper()} HELP.")


class SubcommandMisuse(CommandError):
    """Redis's addReplySubcommandSyntaxError, raised by a handler; the dispatcher fills in the
    command and subcommand as the client typed them (``about``)."""

    def __init__(self) -> None:
        super().__init__("ERR unknown subcommand or wrong number of arguments")

    @staticmethod
    def about(argv: Sequence[bytes]) -> CommandError:
        command = c_string(argv[0], 1 << 30).upper()
        return CommandError(
            f"ERR unknown subcommand or wrong number of arguments for '{c_string(argv[1])}'."
            f" Try {command} HELP."
        )
