"""Helpers for comparing replies whose values legitimately differ between respserver and
redis-server (ids, ports, timings): split raw RESP into elements, parse CLIENT LIST lines and
INFO text so tests compare their shape and their deterministic fields."""

from __future__ import annotations

import re

_LENGTH_PREFIXED = b"$=!"
_COUNTED = b"*~>"
_PAIRED = b"%|"


def _end(raw: bytes, i: int) -> int:
    """Where the RESP value starting at ``raw[i]`` ends."""
    kind = raw[i : i + 1]
    eol = raw.index(b"\r\n", i)
    head = raw[i + 1 : eol]
    i = eol + 2
    if kind in _LENGTH_PREFIXED:
        n = int(head)
        return i if n < 0 else i + n + 2
    if kind in _COUNTED:
        count = max(int(head), 0)
    elif kind in _PAIRED:
        count = 2 * int(head)
    else:
        return i
    for _ in range(count):
        i = _end(raw, i)
    return i


def elements(raw: bytes) -> list[bytes]:
    """The raw bytes of each element of the aggregate reply ``raw`` (a map's keys and values
    alternate)."""
    assert raw[:1] in _COUNTED + _PAIRED, raw[:60]
    i = raw.index(b"\r\n") + 2
    out = []
    while i < len(raw):
        end = _end(raw, i)
        out.append(raw[i:end])
        i = end
    return out


def bulk_text(raw: bytes) -> str:
    """The text of a bulk (``$``) or verbatim (``=``, its ``txt:`` dropped) reply."""
    assert raw[:1] in (b"$", b"="), raw[:60]
    body = raw[raw.index(b"\r\n") + 2 : -2]
    return (body[4:] if raw[:1] == b"=" else body).decode()


def client_fields(line: str) -> dict[str, str]:
    """A CLIENT LIST line as an ordered field -> value dict."""
    return dict(field.split("=", 1) for field in line.split(" "))


def info_sections(text: str) -> dict[str, dict[str, str]]:
    """INFO text as section title -> ordered field -> value."""
    assert text == "" or text.startswith("# "), text[:60]
    sections: dict[str, dict[str, str]] = {}
    for block in text.split("\r\n\r\n") if text else []:
        lines = block.strip("\r\n").split("\r\n")
        sections[lines[0][2:]] = dict(line.split(":", 1) for line in lines[1:])
    return sections


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    """True if ``part``'s items all appear in ``whole`` in the same order."""
    rest = iter(whole)
    return all(item in rest for item in part)


NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?%?")
