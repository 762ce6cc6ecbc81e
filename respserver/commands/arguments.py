"""Argument shapes several command families share."""

from __future__ import annotations

from respserver.errors import COUNT_NOT_POSITIVE, NUMKEYS_NOT_POSITIVE, SYNTAX, CommandError
from respserver.numbers import to_int_at_least


def mpop_arguments(
    numkeys: bytes, args: tuple[bytes, ...], sides: tuple[bytes, bytes]
) -> tuple[tuple[bytes, ...], bool, int]:
    """``numkeys key [key ...] <side> [COUNT count]`` (LMPOP's LEFT|RIGHT, ZMPOP's MAX|MIN
    and their blocking forms): the keys, whether the side is ``sides[0]``, and the count (1
    unless given), checked in Redis's order: numkeys, the side, then COUNT."""
    count_of_keys = to_int_at_least(numkeys, 1, NUMKEYS_NOT_POSITIVE)
    if count_of_keys >= len(args):
        raise CommandError(SYNTAX)
    keys, side, options = (
        args[:count_of_keys],
        args[count_of_keys].lower(),
        args[count_of_keys + 1 :],
    )
    if side not in sides:
        raise CommandError(SYNTAX)
    count = None
    for i in range(0, len(options), 2):
        if count is not None or options[i].lower() != b"count" or i + 1 >= len(options):
            raise CommandError(SYNTAX)
        count = to_int_at_least(options[i + 1], 1, COUNT_NOT_POSITIVE)
    return keys, side == sides[0], 1 if count is None else count
