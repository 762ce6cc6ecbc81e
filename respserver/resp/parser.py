"""Requests, sans-IO: bytes in, commands out. No Trio here.

Requests are parsed by ``hiredis.Reader`` (C speed) and validated here the way Redis's
``processMultibulkBuffer`` validates them; inline commands (``PING\\r\\n`` from nc or a health
check) take a small Python path.
"""

from __future__ import annotations

import re

import hiredis

from respserver.errors import protocol_error

INLINE_MAX_SIZE = 64 * 1024
PARTIAL_TRACK_LIMIT = 64 * 1024
# Redis accepts up to 2**31-1 arguments, growing its argv as they arrive; hiredis would allocate
# the whole list on reading the header, so counts above this are refused (a documented limit).
MAX_MULTIBULK_LEN = 2**24
_LARGE_COUNT = re.compile(rb"\*[0-9]{8}")
_NEGATIVE_COUNT = re.compile(rb"\*-[1-9][0-9]{0,18}\r\n")


class ProtocolError(Exception):
    """The peer sent a frame Redis would refuse; the reply is sent, then the connection closes."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.reply = protocol_error(detail)


class QueryBufferLimit(Exception):
    """An incomplete request outgrew the query buffer limit; Redis closes such a client silently."""


_NEED_DATA = object()

# What Redis reports as "got 'X'" for a value hiredis decoded where a bulk string belonged.
_TYPE_BYTE = {int: ":", list: "*", dict: "%", float: ",", bool: "#", hiredis.ReplyError: "-"}


class RequestParser:
    """Turns the bytes a client sends into commands (each a non-empty ``list[bytes]``).

    ``feed(data)`` returns every command completed by ``data``. After a frame Redis would
    reject, ``error`` holds the ProtocolError: the commands before it still run, nothing after it.
    """

    def __init__(
        self, max_bulk_len: int = 512 * 1024 * 1024, max_query_buffer: int = 1024**3
    ) -> None:
        self.max_bulk_len = max_bulk_len
        self.max_query_buffer = max_query_buffer
        self.error: ProtocolError | None = None
        self._reader = hiredis.Reader(notEnoughData=_NEED_DATA)
        # True when everything fed so far ended on a frame boundary, so the next byte starts a
        # frame: only then can an inline command begin.
        self._aligned = True
        self._inline = b""
        self._pending = 0  # bytes fed since the last boundary
        self._consumed = 0  # of those, the bytes of frames hiredis completed
        # The bytes of the frame hiredis is still waiting on (b"" on a boundary; None once it
        # outgrows PARTIAL_TRACK_LIMIT), so its headers can be checked before it completes.
        self._partial: bytes | None = b""
        # A frame header with a NUL before its '\r': Redis finds the '\r' with strchr, which
        # stops at the NUL, so it waits for more (until the header is too big); so do we.
        self._stalled: bytes | None = None

    @property
    def buffered(self) -> int:
        """Bytes of a request not yet complete, held until the rest arrives (Redis's qbuf)."""
        if self._stalled is not None:
            return len(self._stalled)
        return len(self._inline) + self._pending - self._consumed

    def feed(self, data: bytes) -> list[list[bytes]]:
        commands: list[list[bytes]] = []
        try:
            if self._stalled is not None:
                self._stall(self._stalled + data)
                return commands
            while data:
                if self._aligned:
                    data = self._take_inline(data, commands)
                    if not data:
                        break
                data = self._feed_reader(data, commands)
        except ProtocolError as exc:
            exc.__traceback__ = None  # no cycle through this frame: the parser frees at once
            self.error = exc
        return commands

    def _feed_reader(self, data: bytes, commands: list[list[bytes]]) -> bytes:
        """Parse multibulk frames with hiredis; return the rest of ``data`` if an inline
        command starts inside it (it is left for the inline path), else b""."""
        frames: list[list[bytes] | None] = []  # every frame completed here, empty ones too
        if self._partial is not None and _LARGE_COUNT.search(data) is not None:
            # hiredis allocates a list as soon as it reads an array header, so a large count
            # is checked before hiredis sees it (a payload that merely looks like one costs a
            # Python walk of this read, nothing more).
            bad = self._check_frames(self._partial + data)
            if bad is not None:
                # Frames before the bad one still run, as in Redis; nothing after it.
                start, error = bad
                self._feed_reader(data[: start - len(self._partial)], commands)
                raise error
        reader = self._reader
        reader.feed(data)
        last = None
        while True:
            try:
                frame = reader.gets()
            except hiredis.ProtocolError as exc:
                rest = self._inline_rest(data, frames)
                if rest is None:
                    # hiredis may have read on into a nested type ('%', '*') before failing:
                    # Redis names the first byte where it expected '$'.
                    stream = (self._partial or b"") + data
                    bad = self._check_frames(stream)
                    if bad is None:
                        skipped = self._skip_empty_frame(data, frames)
                        if skipped is not None:
                            return skipped
                        # By Redis's reading, a frame still to come: wait for it.
                        self._stall(stream[sum(map(_encoded_len, frames)) :])
                        return b""
                    raise bad[1] if bad else ProtocolError(_redis_wording(str(exc))) from None
                return rest
            if frame is _NEED_DATA:
                break
            last = frame
            if type(frame) is list or frame is None:
                frames.append(frame)
            if type(frame) is list and frame:
                for arg in frame:
                    if type(arg) is not bytes:
                        # A nested or null element: Redis's checks say which (`$-1` and `*-1`
                        # both come back as None).
                        bad = self._check_frames((self._partial or b"") + data)
                        if bad is not None:
                            raise bad[1]
                        raise ProtocolError(f"expected '$', got '{_TYPE_BYTE.get(type(arg), '?')}'")
                commands.append(frame)
            elif frame is not None and type(frame) is not list:
                # A non-array at a frame start (a 0 or b"" too): Redis reads that line as an
                # inline command.
                rest = self._inline_rest(data, frames)
                if rest is None:
                    raise ProtocolError("expected '*'")
                return rest
        self._aligned = not reader.has_data() and type(last) is list and bool(last)
        # has_data alone misses an array whose elements so far were all read: on a boundary
        # only if the frames hiredis completed account for every byte. The common case, a read
        # of whole frames, is settled by counting '*': no array header besides the frames'.
        if self._aligned and (self._pending or data.count(b"*") != len(frames)):
            consumed = self._consumed + sum(map(_encoded_len, frames))
            self._aligned = consumed == self._pending + len(data)
        if self._aligned:
            self._pending = self._consumed = 0
            self._partial = b""
        else:
            self._consumed += sum(map(_encoded_len, frames))
            self._pending += len(data)
            if self._pending > self.max_query_buffer:
                raise QueryBufferLimit()
            self._track_partial(data, frames)
        return b""

    def _skip_empty_frame(self, data: bytes, frames: list[list[bytes] | None]) -> bytes | None:
        """A negative count other than -1 (``*-5``): Redis skips the frame as empty, hiredis
        refuses it. Restart after it with a fresh reader; None if that is not the failure."""
        if self._partial is None:
            return None
        offset = sum(map(_encoded_len, frames)) - len(self._partial)
        match = _NEGATIVE_COUNT.match(data, max(offset, 0)) if offset >= 0 else None
        if match is None:
            return None
        self._reader = hiredis.Reader(notEnoughData=_NEED_DATA)
        self._aligned = True
        self._partial = b""
        self._pending = self._consumed = 0
        return data[match.end() :]

    def _stall(self, stream: bytes) -> None:
        """Hold ``stream`` (a frame whose header a NUL hides) until it breaks a limit."""
        bad = self._check_frames(stream)
        if bad is not None:
            raise bad[1]
        self._stalled = stream

    def _track_partial(self, data: bytes, completed: list[list[bytes] | None]) -> None:
        """hiredis holds an incomplete frame: find its bytes and check what Redis checks as
        soon as it reads them (counts, lengths, '$' markers) instead of waiting for the rest."""
        if self._partial is None:
            return  # lost track (a long frame); the query buffer limit still bounds it
        stream = self._partial + data
        offset = sum(map(_encoded_len, completed))
        if offset > len(stream):
            self._partial = None
            return
        partial = stream[offset:]
        bad = self._check_frames(partial)
        if bad is not None:
            raise bad[1]
        self._partial = partial if len(partial) <= PARTIAL_TRACK_LIMIT else None

    def _check_frames(self, stream: bytes) -> tuple[int, ProtocolError] | None:
        """Check the multibulk frames ``stream`` starts with as Redis checks them while reading
        (counts, '$' markers, lengths), up to the end of ``stream`` or an inline command.
        Returns None, or where the offending frame starts and the error it earns."""
        pos, size = 0, len(stream)
        while pos < size and stream[pos] == 0x2A:  # '*'
            frame_start = pos
            problem = None
            end = _header_end(stream, pos)
            if end < 0:
                if size - pos > INLINE_MAX_SIZE:
                    problem = "too big mbulk count string"
                break
            count = _parse_int(stream[pos + 1 : end])
            if count is None or count > MAX_MULTIBULK_LEN:
                problem = "invalid multibulk length"
                break
            pos = end + 2
            for _ in range(max(count, 0)):
                if pos >= size:
                    return None
                end = _header_end(stream, pos)  # Redis finds the line before its '$'
                if end < 0:
                    if size - pos > INLINE_MAX_SIZE:
                        problem = "too big bulk count string"
                    break
                if stream[pos] != 0x24:  # '$'
                    got = stream[pos : pos + 1].decode("utf-8", "surrogateescape")
                    problem = f"expected '$', got '{got}'"
                    break
                length = _parse_int(stream[pos + 1 : end])
                if length is None or length < 0 or length > self.max_bulk_len:
                    problem = "invalid bulk length"
                    break
                pos = end + 2 + length + 2
            if problem is not None or end < 0:
                break
        else:
            return None
        if problem is None:
            return None
        return frame_start, ProtocolError(problem)

    def _inline_rest(self, data: bytes, frames: list[list[bytes] | None]) -> bytes | None:
        """Where hiredis met a non-'*' frame start, locate it (after ``frames``, which began
        in the tracked partial frame or at the start of ``data``) and restart there with a
        fresh reader; None if it cannot be located."""
        if self._partial is None:
            return None
        offset = sum(map(_encoded_len, frames)) - len(self._partial)
        if not 0 <= offset < len(data) or data[offset] == 0x2A:
            return None
        self._reader = hiredis.Reader(notEnoughData=_NEED_DATA)
        self._aligned = True
        self._partial = b""
        self._pending = self._consumed = 0
        return data[offset:]

    def _take_inline(self, data: bytes, commands: list[list[bytes]]) -> bytes:
        """Consume inline commands at the front of ``data``; return what is left for hiredis."""
        if self._inline:
            data, self._inline = self._inline + data, b""
        while data and data[0] != 0x2A:
            newline = data.find(b"\n")
            nul = data.find(b"\0", 0, newline)
            if nul >= 0:
                newline = -1  # Redis looks for the newline with strchr: a NUL hides it
            if newline < 0:
                if len(data) > INLINE_MAX_SIZE:
                    raise ProtocolError("too big inline request")
                self._inline = data
                return b""
            line, data = data[:newline], data[newline + 1 :]
            argv = split_inline(line.rstrip(b"\r"))
            if argv:
                commands.append(argv)
        return data


_STRING2LL = re.compile(rb"-?[1-9][0-9]{0,18}|0")


def _parse_int(text: bytes) -> int | None:
    """Redis's string2ll: no sign but '-', no leading zeros, no spaces, within 64 bits."""
    if _STRING2LL.fullmatch(text) is None:
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def _encoded_len(frame: list[bytes] | None) -> int:
    """Length of a frame as a client encodes it (``*-1``, ``*0`` or a multibulk of bulks)."""
    if not frame:
        return 5 if frame is None else 4
    return len(hiredis.pack_command(tuple(frame)))


def _header_end(stream: bytes, pos: int) -> int:
    """Where the header line at ``pos`` ends as Redis finds it (strchr for '\\r', which a NUL
    stops), or -1 if it has not arrived."""
    end = stream.find(b"\r\n", pos)
    return -1 if end < 0 or b"\0" in stream[pos:end] else end


def _redis_wording(hiredis_message: str) -> str:
    if "reply type byte" in hiredis_message:
        got = hiredis_message.split("got ", 1)[1].split(" as", 1)[0].strip("'\"")
        return f"expected '$', got '{got}'"
    if "multi-bulk" in hiredis_message.lower():
        return "invalid multibulk length"
    if "bulk" in hiredis_message.lower():
        return "invalid bulk length"
    return hiredis_message


_ISSPACE = b" \t\r\n\v\f"  # C's isspace: what sdssplitargs skips between tokens
_TOKEN_END = b" \t\r\n"  # what ends a token: not \v or \f, as in sdssplitargs


def split_inline(line: bytes) -> list[bytes]:
    """Split an inline request the way Redis's ``sdssplitargs`` does (quotes and escapes). It
    reads a C string, so a NUL byte ends the line."""
    line = line.split(b"\0", 1)[0]
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _ISSPACE:
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_double = in_single = False
        while True:
            if in_double:
                if i >= n:
                    raise ProtocolError("unbalanced quotes in request")
                c = line[i]
                if c == 0x5C and i + 3 < n and line[i + 1] == 0x78 and _is_hex(line[i + 2 : i + 4]):
                    current.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    current.append(_ESCAPES.get(line[i], line[i]))
                elif c == 0x22:
                    if i + 1 < n and line[i + 1] not in _ISSPACE:
                        raise ProtocolError("unbalanced quotes in request")
                    in_double = False
                else:
                    current.append(c)
            elif in_single:
                if i >= n:
                    raise ProtocolError("unbalanced quotes in request")
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    current.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and line[i + 1] not in _ISSPACE:
                        raise ProtocolError("unbalanced quotes in request")
                    in_single = False
                else:
                    current.append(c)
            else:
                if i >= n or line[i] in _TOKEN_END:
                    args.append(bytes(current))
                    break
                c = line[i]
                if c == 0x22:
                    in_double = True
                elif c == 0x27:
                    in_single = True
                else:
                    current.append(c)
            i += 1


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def _is_hex(pair: bytes) -> bool:
    return len(pair) == 2 and all(c in b"0123456789abcdefABCDEF" for c in pair)
