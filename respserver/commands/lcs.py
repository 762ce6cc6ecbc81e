"""LCS: the longest common subsequence of two strings, with Redis 7.0's replies.

Redis fills the (|a|+1) x (|b|+1) dynamic-programming table, then walks it back from the end,
taking matches and otherwise stepping towards the larger neighbour (up on a strict win, else
left). The same table is kept here one row per byte of ``a``, as a bit-parallel vector over
``b`` (Hyyrö's algorithm on Python integers): bit k of row i is clear where
LCS(a[:i], b[:k+1]) = LCS(a[:i], b[:k]) + 1, so an entry is a count of clear bits, and the walk
makes Redis's choices, and reports Redis's ranges, step for step.
"""

from __future__ import annotations

from respserver.commands.strings import max_string_length
from respserver.core.state import Client
from respserver.errors import (
    LCS_LEN_AND_IDX,
    LCS_NOT_STRINGS,
    LCS_TOO_MUCH_MEMORY,
    SYNTAX,
    CommandError,
)
from respserver.keyspace.database import Value
from respserver.numbers import to_int
from respserver.registry import command

_Range = tuple[int, int, int, int]  # a_start, a_end, b_start, b_end


def _rows(a: bytes, b: bytes) -> list[int]:
    """Row i (0 to len(a)) of the LCS table of ``a`` and ``b`` as a vector over ``b``."""
    full = (1 << len(b)) - 1
    backwards = b[::-1]  # b[0] as the lowest bit
    matches = {}
    for char in set(a) & set(b):
        table = bytes(49 if c == char else 48 for c in range(256))  # char -> "1", others "0"
        matches[char] = int(backwards.translate(table), 2)
    rows, vector = [full], full
    for char in a:
        found = vector & matches.get(char, 0)
        vector = ((vector + found) | (vector - found)) & full
        rows.append(vector)
    return rows


def _walk(a: bytes, b: bytes, rows: list[int]) -> tuple[bytes, list[_Range]]:
    """Redis's walk back through the table: the common subsequence, and its runs of
    consecutive matches in the order Redis reports them (from the end)."""
    width = (len(b) + 7) // 8

    def row_bits(i: int) -> bytes:
        return rows[i].to_bytes(width, "little")

    def lcs(i: int, j: int) -> int:
        return j - (rows[i] & ((1 << j) - 1)).bit_count()

    def bit(bits: bytes, k: int) -> int:
        return bits[k >> 3] >> (k & 7) & 1

    i, j = len(a), len(b)
    chars, ranges, run = bytearray(), [], None
    if not (i and j):
        return b"", []
    here, up = lcs(i, j), lcs(i - 1, j)  # LCS(i, j) and LCS(i - 1, j)
    bits_here, bits_up = row_bits(i), row_bits(i - 1)
    while i and j:
        if a[i - 1] == b[j - 1]:
            chars.append(a[i - 1])
            run = (i - 1, i - 1, j - 1, j - 1) if run is None else (i - 1, run[1], j - 1, run[3])
            i, j, here = i - 1, j - 1, here - 1
            if run[0] == 0 or run[2] == 0:
                ranges.append(run)
                run = None
        else:
            if run is not None:
                ranges.append(run)
                run = None
            left = here - 1 + bit(bits_here, j - 1)  # LCS(i, j - 1)
            if up <= left:
                up -= 1 - bit(bits_up, j - 1)
                j, here = j - 1, left
                continue
            i, here = i - 1, up
        if i:  # a new row: LCS(i - 1, j) afresh
            up = lcs(i - 1, j)
            bits_here, bits_up = bits_up, row_bits(i - 1)
    chars.reverse()
    return bytes(chars), ranges


def _string(value: Value | None) -> bytes:
    if value is None:
        return b""
    if type(value) is not bytes:
        raise CommandError(LCS_NOT_STRINGS)
    return value


@command(
    "lcs",
    "key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]",
    arity=-3,
    flags="readonly",
    keys=(1, 2, 1),
    key_flags="RO access",
    group="string",
    since="7.0.0",
    summary="Find longest common substring",
    complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
)
def lcs(ctx: Client, key1: bytes, key2: bytes, *options: bytes) -> object:
    """The longest common subsequence of two strings, its length (LEN), or its matching
    ranges (IDX, optionally only the long ones, with their lengths)."""
    found = ctx.db.get(key1), ctx.db.get(key2)  # both looked up before either is checked
    a, b = _string(found[0]), _string(found[1])
    length_only = indexes = with_length = False
    shortest, i = 0, 0
    while i < len(options):
        option = options[i].lower()
        if option == b"idx":
            indexes = True
        elif option == b"len":
            length_only = True
        elif option == b"withmatchlen":
            with_length = True
        elif option == b"minmatchlen" and i + 1 < len(options):
            shortest = max(to_int(options[i + 1]), 0)
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    if length_only and indexes:
        raise CommandError(LCS_LEN_AND_IDX)
    if (len(a) + 1) * (len(b) + 1) * 4 > max_string_length(ctx):  # Redis's table, in bytes
        raise CommandError(LCS_TOO_MUCH_MEMORY)
    rows = _rows(a, b)
    if length_only:
        return len(b) - rows[-1].bit_count()
    common, ranges = _walk(a, b, rows)
    if not indexes:
        return common
    matches = [
        [[a_start, a_end], [b_start, b_end], *([a_end - a_start + 1] if with_length else [])]
        for a_start, a_end, b_start, b_end in ranges
        if a_end - a_start + 1 >= shortest
    ]
    return {b"matches": matches, b"len": len(common)}
