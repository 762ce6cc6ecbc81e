"""Glob matching on its own, no server: expected cases, and a property test against a
line-by-line port of Redis's ``stringmatchlen``. (KEYS and SCAN MATCH with random patterns
against redis-server: tests/differential/test_glob.py.)"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from respserver.keyspace.glob import Glob, compile_glob, stringmatch


def redis_stringmatch(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """Redis 7.0's stringmatchlen (with the recursion guard), transcribed from C: a reference
    that is slow on purpose. C strings end with NUL, which the code reads past the end."""
    p, s = pattern + b"\0", string + b"\0"
    skip_longer = False

    def signed(c: int) -> int:
        return c - 256 if c >= 128 else c

    def lower(c: int) -> int:
        return c + 32 if 65 <= c <= 90 else c

    def impl(pi: int, plen: int, si: int, slen: int, nesting: int) -> bool:
        nonlocal skip_longer
        if nesting > 1000:
            return False
        while plen and slen:
            c = p[pi]
            if c == ord("*"):
                while plen and p[pi + 1] == ord("*"):
                    pi, plen = pi + 1, plen - 1
                if plen == 1:
                    return True
                while slen:
                    if impl(pi + 1, plen - 1, si, slen, nesting + 1):
                        return True
                    if skip_longer:
                        return False
                    si, slen = si + 1, slen - 1
                skip_longer = True
                return False
            if c == ord("?"):
                si, slen = si + 1, slen - 1
            elif c == ord("["):
                pi, plen = pi + 1, plen - 1
                negate = p[pi] == ord("^")
                if negate:
                    pi, plen = pi + 1, plen - 1
                matched = False
                while True:
                    if p[pi] == ord("\\") and plen >= 2:
                        pi, plen = pi + 1, plen - 1
                        matched |= p[pi] == s[si]
                    elif p[pi] == ord("]"):
                        break
                    elif plen == 0:
                        pi, plen = pi - 1, plen + 1
                        break
                    elif plen >= 3 and p[pi + 1] == ord("-"):
                        start, end, ch = signed(p[pi]), signed(p[pi + 2]), signed(s[si])
                        start, end = min(start, end), max(start, end)
                        if nocase:
                            start, end, ch = lower(start), lower(end), lower(ch)
                        pi, plen = pi + 2, plen - 2
                        matched |= start <= ch <= end
                    elif nocase:
                        matched |= lower(p[pi]) == lower(s[si])
                    else:
                        matched |= p[pi] == s[si]
                    pi, plen = pi + 1, plen - 1
                if negate:
                    matched = not matched
                if not matched:
                    return False
                si, slen = si + 1, slen - 1
            else:
                if c == ord("\\") and plen >= 2:
                    pi, plen = pi + 1, plen - 1
                a, b = p[pi], s[si]
                if (lower(a) != lower(b)) if nocase else (a != b):
                    return False
                si, slen = si + 1, slen - 1
            pi, plen = pi + 1, plen - 1
            if slen == 0:
                while p[pi] == ord("*"):
                    pi, plen = pi + 1, plen - 1
                break
        return plen == 0 and slen == 0

    return impl(0, len(pattern), 0, len(string), 0)


CASES = [
    # pattern, string, expected
    (b"*", b"anything", True),
    (b"*", b"", False),  # Redis: the empty string matches only the empty pattern
    (b"", b"", True),
    (b"", b"a", False),
    (b"h?llo", b"hello", True),
    (b"h?llo", b"hllo", False),
    (b"h*llo", b"hllo", True),
    (b"h*llo", b"heeeello", True),
    (b"h[ae]llo", b"hallo", True),
    (b"h[ae]llo", b"hillo", False),
    (b"h[^e]llo", b"hallo", True),
    (b"h[^e]llo", b"hello", False),
    (b"h[a-b]llo", b"hbllo", True),
    (b"h[b-a]llo", b"hallo", True),  # reversed range
    (b"a\\*c", b"a*c", True),
    (b"a\\*c", b"abc", False),
    (b"\\", b"\\", True),  # a trailing backslash is literal
    (b"[", b"[", False),  # an empty unterminated class matches nothing
    (b"[^", b"x", True),  # ... and negated, anything
    (b"[abc", b"b", True),  # unterminated class
    (b"[]", b"]", False),
    (b"[]]", b"]", False),  # empty class, then a literal ']'
    (b"[\\]]", b"]", True),
    (b"[a-]", b"-", False),  # 'a-]' is a range from ']' to 'a'; the class is unterminated
    (b"[a-]", b"^", True),
    (b"*a*a*b", b"aaab", True),
    (b"*a*a*b", b"ab", False),
    (b"a*b*c", b"abc", True),
    (b"a*b*c", b"acb", False),
    (b"user:*", b"user:", True),  # trailing stars match the empty rest
    (b"user:*", b"user:1", True),
    (b"a**", b"a", True),
    (b"??", b"\xff\x00", True),
    (b"[\x80-\xff]", b"\x90", True),
    (b"[a-\xff]", b"b", False),  # signed chars: the range is [-1, 'a']
    (b"[a-\xff]", b"\xff", True),
    (b"[a-\xff]", b"\x00", True),
    (b"*a" * 1000, b"a" * 1000, True),
    (b"*a" * 1001, b"a" * 1001, False),  # Redis's nesting guard
    (b"a*" * 1001, b"a" * 1001, True),  # the last star is not expanded
]


@pytest.mark.parametrize(("pattern", "string", "expected"), CASES)
def test_expected_matches(pattern, string, expected):
    assert stringmatch(pattern, string) is expected
    if len(pattern) < 100:
        assert redis_stringmatch(pattern, string) is expected


def test_nocase():
    assert stringmatch(b"HeLLo*", b"hello world", nocase=True)
    assert not stringmatch(b"HeLLo*", b"hello world")
    assert stringmatch(b"[A-C]x", b"bX", nocase=True)
    assert stringmatch(b"[a-c]x", b"BX", nocase=True)
    assert not stringmatch(b"[\\A]", b"a", nocase=True)  # escapes compare exactly
    assert compile_glob(b"k*", True) is compile_glob(b"k*", True)


def test_pathological_patterns_are_fast():
    long_string = b"a" * 10_000
    started = time.perf_counter()
    assert not Glob(b"a*a*a*a*a*a*a*a*a*b").match(long_string)
    assert not Glob(b"*a" * 500 + b"b").match(long_string)
    assert Glob(b"?" * 10_000).match(long_string)
    assert not Glob(b"*[ab]*[ab]*[ab]*[ab]*[ab]*c").match(b"ab" * 5000)
    assert time.perf_counter() - started < 1


PATTERN_BYTES = st.sampled_from(list(b"ab*?[]^-\\A\xe9"))
STRING_BYTES = st.sampled_from(list(b"ab-]^\\A*[\xe9"))


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(PATTERN_BYTES, max_size=8).map(bytes),
    st.lists(STRING_BYTES, max_size=6).map(bytes),
    st.booleans(),
)
def test_matches_redis_reference(pattern, string, nocase):
    assert Glob(pattern, nocase).match(string) == redis_stringmatch(pattern, string, nocase)
