"""Argument parsing shared by the command families, with Redis's exact errors."""

from __future__ import annotations

import re

from respserver.errors import NOT_FLOAT, NOT_INTEGER, CommandError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INTEGER = re.compile(rb"-?(0|[1-9][0-9]{0,18})")


def to_int(value: bytes, error: str = NOT_INTEGER) -> int:
    """Parse a signed 64-bit integer as Redis's ``string2ll`` does (no sign '+', no spaces,
    no leading zeros); otherwise raise ``error``."""
    if _INTEGER.fullmatch(value) is None or value == b"-0":
        raise CommandError(error)
    number = int(value)
    if not INT64_MIN <= number <= INT64_MAX:
        raise CommandError(error)
    return number


def to_float(value: bytes, error: str = NOT_FLOAT) -> float:
    """Parse a double as Redis's ``string2d`` does: no surrounding spaces, no NaN."""
    if not value or value[:1].isspace() or value[-1:].isspace():
        raise CommandError(error)
    try:
        number = float(value)
    except ValueError:
        raise CommandError(error) from None
    if number != number:
        raise CommandError(error)
    return number
