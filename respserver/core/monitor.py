"""MONITOR: each command the server runs, shown to every monitoring client as one status line,
as Redis's replicationFeedMonitors writes it: the time, the database and the client's address,
then the arguments quoted as sdscatrepr quotes them. Commands flagged admin or skip_monitor are
not shown, nor those refused before they ran; AUTH's and HELLO's passwords show as
"(redacted)"."""

from __future__ import annotations

import re
import time

from respserver.resp.types import SimpleString

_REDACTED = b"(redacted)"
_PLAIN = re.compile(rb"[ !#-\[\]-~]*")  # printable, no quote, no backslash: shown as it is
# C's escapes, as sdscatrepr writes them (a backslash, a quote, \n \r \t \a \b)
_ESCAPES = {0x5C: b"\\\\", 0x22: b'\\"', 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t"}
_ESCAPES.update({0x07: b"\\a", 0x08: b"\\b"})
_QUOTED = [_ESCAPES.get(c, bytes((c,)) if 0x20 <= c < 0x7F else b"\\x%02x" % c) for c in range(256)]


def quoted(arg: bytes) -> bytes:
    """An argument as sdscatrepr writes it: in double quotes, escaped as C escapes."""
    if _PLAIN.fullmatch(arg):
        return b'"%s"' % arg
    return b'"%s"' % b"".join(_QUOTED[c] for c in arg)


def shown(name: str, argv: list[bytes]) -> list[bytes]:
    """The arguments as a monitor sees them: AUTH's, and HELLO's after AUTH, redacted."""
    if name == "auth":
        return [argv[0], *[_REDACTED] * (len(argv) - 1)]
    if name != "hello" or len(argv) < 3:
        return argv
    argv = list(argv)
    j = 2
    while j < len(argv):
        option, more = argv[j].lower(), len(argv) - 1 - j
        if option == b"auth" and more >= 2:
            argv[j + 1] = argv[j + 2] = _REDACTED
            j += 3
        elif option == b"setname" and more:
            j += 2
        else:
            break  # HELLO stops at a syntax error
    return argv


def line(db: int, addr: str, argv: list[bytes]) -> SimpleString:
    """The status line a monitor receives for one command."""
    micros = time.time_ns() // 1000
    head = b"%d.%06d [%d %s] " % (micros // 1_000_000, micros % 1_000_000, db, addr.encode())
    return SimpleString(head + b" ".join(map(quoted, argv)))
