"""Glob-style matching with the semantics of Redis's ``stringmatchlen`` (KEYS, SCAN MATCH...).

A pattern is compiled once into single-byte tests separated by stars: each test is the set of
bytes it accepts (a literal, ``?``, a ``[...]`` class, with Redis's quirks for escapes, an
unterminated class, reversed ranges and signed ``char`` comparison). Matching then needs no
backtracking: the run of tests before the first star must match at the start, the run after the
last star at the end, and each run in between at its leftmost place after the previous one (a
fixed-length run matched as early as possible leaves the most room for the rest). Runs of plain
bytes are found with ``bytes.find``, others with a fixed-length regex of character classes, so
the search runs in C and a match costs O(len(pattern) * len(string)) at worst:
``a*a*a*a*a*a*b`` against long keys is cheap.

Two Redis rules that a textbook glob lacks:
- the empty string matches only the empty pattern (``*`` does not match it);
- a pattern needing more than 1000 nested star expansions never matches (Redis's guard against
  stack exhaustion): that is, one with more than 1000 stars followed by something else.
"""

from __future__ import annotations

import re
from functools import lru_cache

ALL_BYTES = frozenset(range(256))
MAX_NESTING = 1000  # Redis's stringmatchlen recursion limit

# One shared set per byte, so a long pattern costs a list of references, not a set per byte.
_EXACT = tuple(frozenset((b,)) for b in range(256))
_NOCASE = tuple(
    frozenset((b | 32, b & ~32)) if 65 <= b <= 90 or 97 <= b <= 122 else _EXACT[b]
    for b in range(256)
)


def _signed(byte: int) -> int:
    """A byte as C's (signed) ``char`` on x86, which Redis's range tests compare."""
    return byte - 256 if byte >= 128 else byte


def _lower(byte: int) -> int:
    return byte + 32 if 65 <= byte <= 90 else byte


def _folded(byte: int, nocase: bool) -> frozenset[int]:
    """The bytes equal to ``byte``, ignoring ASCII case if ``nocase``."""
    return _NOCASE[byte] if nocase else _EXACT[byte]


def _parse_class(pattern: bytes, i: int, nocase: bool) -> tuple[frozenset[int], int]:
    """Parse the class whose '[' is at ``i``; return the accepted bytes and the index after it.

    As in Redis: ``\\x`` escapes (compared case-sensitively even with ``nocase``), ``a-z``
    ranges (ends swapped if reversed, compared as signed chars), and a missing ']' ends the
    class at the end of the pattern."""
    n = len(pattern)
    i += 1
    negate = i < n and pattern[i] == ord("^")
    if negate:
        i += 1
    accepted: set[int] = set()
    while True:
        if i + 1 < n and pattern[i] == ord("\\"):
            accepted.add(pattern[i + 1])
            i += 2
        elif i >= n:
            break
        elif pattern[i] == ord("]"):
            i += 1
            break
        elif i + 2 < n and pattern[i + 1] == ord("-"):
            start, end = sorted((_signed(pattern[i]), _signed(pattern[i + 2])))
            if nocase:
                start, end = _lower(start), _lower(end)
            for byte in range(256):
                if start <= _signed(_lower(byte) if nocase else byte) <= end:
                    accepted.add(byte)
            i += 3
        else:
            accepted |= _folded(pattern[i], nocase)
            i += 1
    result = frozenset(accepted)
    return (ALL_BYTES - result if negate else result), i


def tokenize(pattern: bytes, nocase: bool = False) -> list[frozenset[int] | None]:
    """The pattern as single-byte tests (the set of bytes each accepts); None stands for a star
    (consecutive stars merged)."""
    tokens: list[frozenset[int] | None] = []
    i, n = 0, len(pattern)
    while i < n:
        byte = pattern[i]
        if byte == ord("*"):
            if not tokens or tokens[-1] is not None:
                tokens.append(None)
            i += 1
        elif byte == ord("?"):
            tokens.append(ALL_BYTES)
            i += 1
        elif byte == ord("["):
            accepted, i = _parse_class(pattern, i, nocase)
            tokens.append(accepted)
        else:
            if byte == ord("\\") and i + 1 < n:  # a trailing '\' is a literal '\'
                i += 1
                byte = pattern[i]
            tokens.append(_folded(byte, nocase))
            i += 1
    return tokens


def _class_regex(accepted: frozenset[int]) -> bytes:
    if len(accepted) == 256:
        return b"."
    if not accepted:
        return b"(?!)"
    if len(accepted) == 1:
        return re.escape(bytes(accepted))
    return b"[" + b"".join(re.escape(bytes((b,))) for b in sorted(accepted)) + b"]"


class _Run:
    """A fixed-length run of single-byte tests between stars: plain bytes when each test is
    one literal byte (found with bytes.find), else a regex of classes (repeats written X{n})."""

    __slots__ = ("length", "literal", "regex")

    def __init__(self, tests: list[frozenset[int]]) -> None:
        self.length = len(tests)
        self.literal: bytes | None = None
        self.regex: re.Pattern[bytes] | None = None
        if all(len(t) == 1 for t in tests):
            self.literal = bytes(next(iter(t)) for t in tests)
            return
        parts, i = [], 0
        while i < len(tests):
            j = i
            while j < len(tests) and tests[j] == tests[i]:
                j += 1
            part = _class_regex(tests[i])
            parts.append(part if j - i == 1 else b"(?:%s){%d}" % (part, j - i))
            i = j
        self.regex = re.compile(b"".join(parts), re.DOTALL)

    def at(self, string: bytes, pos: int) -> bool:
        """Whether the run matches ``string`` at ``pos`` (the caller checked the length)."""
        if self.literal is not None:
            return string.startswith(self.literal, pos)
        return self.regex.match(string, pos) is not None

    def find(self, string: bytes, pos: int, end: int) -> int:
        """The end of the leftmost match inside ``string[pos:end]``, or -1."""
        if self.literal is not None:
            found = string.find(self.literal, pos, end)
            return -1 if found < 0 else found + self.length
        match = self.regex.search(string, pos, end)
        return -1 if match is None else match.end()


class Glob:
    """A compiled pattern: ``Glob(b"user:*").match(key)``."""

    __slots__ = ("pattern", "_never", "_stars", "_head", "_tail", "_middle")

    def __init__(self, pattern: bytes, nocase: bool = False) -> None:
        self.pattern = pattern
        runs: list[list[frozenset[int]]] = [[]]
        for token in tokenize(pattern, nocase):
            if token is None:
                runs.append([])
            else:
                runs[-1].append(token)
        self._stars = len(runs) - 1
        inner_stars = self._stars - (1 if self._stars and not runs[-1] else 0)
        self._never = inner_stars > MAX_NESTING
        self._head = _Run(runs[0])
        self._tail = _Run(runs[-1])
        self._middle = [_Run(run) for run in runs[1:-1]]

    def match(self, string: bytes) -> bool:
        if not string:
            return not self.pattern
        if self._never:
            return False
        head, tail = self._head, self._tail
        if not self._stars:
            return len(string) == head.length and head.at(string, 0)
        end = len(string) - tail.length
        if end < head.length or not head.at(string, 0) or not tail.at(string, end):
            return False
        pos = head.length
        for run in self._middle:
            pos = run.find(string, pos, end)
            if pos < 0:
                return False
        return True


@lru_cache(maxsize=256)
def compile_glob(pattern: bytes, nocase: bool = False) -> Glob:
    """The compiled pattern, cached: a SCAN iteration repeats the same MATCH on every call."""
    return Glob(pattern, nocase)


def stringmatch(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """Whether ``string`` matches the glob ``pattern``, exactly as Redis decides."""
    return compile_glob(pattern, nocase).match(string)
