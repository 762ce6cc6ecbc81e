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


def wrong_arity(fullname: str) -> CommandError:
    """The arity error; ``fullname`` is lowercase, ``parent|sub`` for subcommands."""
    return CommandError(f"ERR wrong number of arguments for '{fullname}' command")


def _quoted_preview(args: Sequence[bytes]) -> str:
    # Redis bounds user input echoed in errors to about 128 characters.
    preview = ""
    for arg in args:
        if len(preview) >= 128:
            break
        preview += "'" + arg.decode("utf-8", "replace")[: 128 - len(preview)] + "' "
    return preview


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def unknown_command(name: bytes, args: Sequence[bytes]) -> CommandError:
    shown = name.decode("utf-8", "replace")[:128]
    return CommandError(
        _one_line(
            f"ERR unknown command '{shown}', with args beginning with: {_quoted_preview(args)}"
        )
    )


def unknown_subcommand(sub: bytes, container: str) -> CommandError:
    shown = sub.decode("utf-8", "replace")[:128]
    return CommandError(
        _one_line(f"ERR unknown subcommand '{shown}'. Try {container.upper()} HELP.")
    )
