"""Redis's compact in-memory encodings, as RDB files carry them inside strings: LZF
compression, the listpack, ziplist and zipmap layouts of small hashes and lists, and the
intset of small all-integer sets.

Pure functions over ``bytes``, kept apart from ``rdb.py``'s file structure. Each one raises
ValueError on damage (or IndexError / struct.error when an element claims bytes past the end);
the RDB reader turns those into RDBError with the offset and the key.
"""

from __future__ import annotations

import struct

# Decimal forms of the bytes as int8 (and so of 0..127 too), for the small integer encodings
INT8_STRINGS = [b"%d" % (b - 0x100 if b >= 0x80 else b) for b in range(0x100)]


def signed_le(data: bytes) -> int:
    """A little-endian two's-complement integer (RDB integer encodings, expiry times)."""
    return int.from_bytes(data, "little", signed=True)


def lzf_decompress(data: bytes, size: int) -> bytes:
    """LZF (liblzf's lzf_decompress): literal runs and back references into the output.

    No per-token size check: a back reference adds at most 264 bytes for 2 or 3 of input, so
    a damaged input cannot blow up memory before the final length check catches it."""
    out = bytearray()
    i, end = 0, len(data)
    while i < end:
        ctrl = data[i]
        if ctrl < 32:  # a literal run of ctrl + 1 bytes
            stop = i + ctrl + 2
            if stop > end:
                raise ValueError("literal run past the end of the input")
            out += data[i + 1 : stop]
            i = stop
            continue
        # a back reference: length - 2 in the top 3 bits (7: plus the next byte), then a
        # 13-bit distance - 1 (5 bits here, 8 in the next byte)
        length = ctrl >> 5
        if i + (3 if length == 7 else 2) > end:
            raise ValueError("back reference past the end of the input")
        if length == 7:
            i += 1
            length += data[i]
        start = len(out) - ((ctrl & 0x1F) << 8 | data[i + 1]) - 1
        i += 2
        length += 2
        if start < 0:
            raise ValueError("back reference before the start of the output")
        if start + length <= len(out):
            out += out[start : start + length]
        else:  # overlapping what it writes: the bytes from start on repeat
            out += (out[start:] * (length // (len(out) - start) + 1))[:length]
    if len(out) != size:
        raise ValueError(f"output of {len(out)} bytes, {size} announced")
    return bytes(out)


def _listpack_entry(blob: bytes, p: int) -> tuple[bytes, int]:
    """One listpack element at ``p``: (its value as Redis would reply it, encoding+data size)."""
    b = blob[p]
    if b < 0x80:  # 7-bit unsigned integer
        return INT8_STRINGS[b], 1
    if b < 0xC0:  # string up to 63 bytes
        n = b & 0x3F
        return blob[p + 1 : p + 1 + n], 1 + n
    if b < 0xE0:  # 13-bit signed integer
        v = (b & 0x1F) << 8 | blob[p + 1]
        return b"%d" % (v - 0x2000 if v >= 0x1000 else v), 2
    if b < 0xF0:  # string up to 4095 bytes
        n = (b & 0x0F) << 8 | blob[p + 1]
        return blob[p + 2 : p + 2 + n], 2 + n
    if b == 0xF0:  # string with a 32-bit length
        (n,) = struct.unpack_from("<I", blob, p + 1)
        return blob[p + 5 : p + 5 + n], 5 + n
    width = _LISTPACK_INT_WIDTHS.get(b)
    if width is None:
        raise ValueError(f"bad element encoding 0x{b:02x} at {p}")
    return b"%d" % signed_le(blob[p + 1 : p + 1 + width]), 1 + width


_LISTPACK_INT_WIDTHS = {0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8}


def _backlen_size(entry_size: int) -> int:
    """Bytes of a listpack element's trailing back-length (lpEncodeBacklen: 7 bits of the
    size per byte, with Redis's exclusive upper bounds)."""
    if entry_size <= 127:
        return 1
    if entry_size < 16383:
        return 2
    if entry_size < 2097151:
        return 3
    return 4 if entry_size < 268435455 else 5


def _backlen(entry_size: int) -> bytes:
    """The back-length itself: the size's 7-bit groups, most significant first, every byte
    but the first with its top bit set (read from the right, the top bit says "more")."""
    n = _backlen_size(entry_size)
    groups = [(entry_size >> (7 * i)) & 0x7F for i in range(n - 1, -1, -1)]
    return bytes([groups[0], *(g | 0x80 for g in groups[1:])])


def _listpack_int(s: bytes) -> int | None:
    """The integer ``s`` is, if listpack stores it as one (lpStringToInt64: canonical decimal,
    at most 20 bytes, within int64); None for a string."""
    if not 0 < len(s) <= 20:
        return None
    digits = s[1:] if s[:1] == b"-" else s
    if not digits.isdigit() or (digits[:1] == b"0" and s != b"0"):
        return None
    value = int(s)
    return value if -(2**63) <= value < 2**63 else None


_INT_ENCODINGS = (  # (lowest, highest, encoding byte, width) of the wider integer encodings
    (-(2**15), 2**15 - 1, 0xF1, 2),
    (-(2**23), 2**23 - 1, 0xF2, 3),
    (-(2**31), 2**31 - 1, 0xF3, 4),
    (-(2**63), 2**63 - 1, 0xF4, 8),
)


_SMALL_INTS = [bytes((i, 1)) for i in range(128)]  # 0..127: one byte, and a back-length of 1
_INT_START = frozenset(b"-0123456789")


def listpack_element(item: bytes | int) -> bytes:
    """One listpack element, encoding and back-length included, as lpAppend (a string, stored
    as an integer when it is one) and lpAppendInteger write it."""
    if type(item) is bytes:
        value = _listpack_int(item) if item and item[0] in _INT_START else None
        if value is None:
            n = len(item)
            if n < 64:
                return b"%c%b%c" % (0x80 | n, item, n + 1)
            if n < 4096:
                encoded = b"%c%c%b" % (0xE0 | n >> 8, n & 0xFF, item)
            else:
                encoded = b"\xf0" + struct.pack("<I", n) + item
            return encoded + _backlen(len(encoded))
        item = value
    if 0 <= item <= 127:
        return _SMALL_INTS[item]
    if -4096 <= item <= 4095:
        item &= 0x1FFF
        return bytes((0xC0 | item >> 8, item & 0xFF, 2))
    for low, high, code, width in _INT_ENCODINGS:
        if low <= item <= high:
            return (
                bytes((code,)) + item.to_bytes(width, "little", signed=True) + bytes((width + 1,))
            )
    raise ValueError(f"{item} does not fit in 64 bits")


def listpack(elements: list[bytes]) -> bytes:
    """A listpack of elements made by ``listpack_element``: 32-bit total size, 16-bit count
    (65535 once there are more: Redis then stops counting), the elements, 0xFF."""
    size = 7 + sum(map(len, elements))
    return struct.pack("<IH", size, min(len(elements), 0xFFFF)) + b"".join(elements) + b"\xff"


def listpack_items(blob: bytes) -> list[bytes]:
    """The elements of a listpack: 32-bit total size, 16-bit count, elements, 0xFF."""
    total, count = struct.unpack_from("<IH", blob)
    if total != len(blob) or blob[-1] != 0xFF:
        raise ValueError("header size or terminator does not match")
    items: list[bytes] = []
    append = items.append
    p, end = 6, total - 1
    while p < end:
        b = blob[p]  # the two commonest encodings are inlined; both have a 1-byte backlen
        if 0x80 <= b < 0xC0:  # a string of up to 63 bytes
            stop = p + 1 + (b & 0x3F)
            append(blob[p + 1 : stop])
            p = stop + 1
        elif b < 0x80:  # an integer from 0 to 127
            append(INT8_STRINGS[b])
            p += 2
        else:
            item, size = _listpack_entry(blob, p)
            append(item)
            p += size + _backlen_size(size)
    if p != end:
        raise ValueError("last element runs past the terminator")
    if count != 0xFFFF and count != len(items):
        raise ValueError(f"header says {count} elements, found {len(items)}")
    return items


_ZIPLIST_INTS = {0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}


def _ziplist_entry(blob: bytes, p: int) -> tuple[bytes, int]:
    """One ziplist element after its prevlen: (value, encoding+data size)."""
    b = blob[p]
    kind = b >> 6
    if kind == 0:
        n, header = b & 0x3F, 1
    elif kind == 1:
        n, header = (b & 0x3F) << 8 | blob[p + 1], 2
    elif b == 0x80:
        n, header = int.from_bytes(blob[p + 1 : p + 5], "big"), 5
    elif b in _ZIPLIST_INTS:
        width = _ZIPLIST_INTS[b]
        return b"%d" % signed_le(blob[p + 1 : p + 1 + width]), 1 + width
    elif 0xF1 <= b <= 0xFD:  # 4-bit immediate 0..12
        return b"%d" % (b - 0xF1), 1
    else:
        raise ValueError(f"bad element encoding 0x{b:02x} at {p}")
    return blob[p + header : p + header + n], header + n


def ziplist_items(blob: bytes) -> list[bytes]:
    """The elements of a ziplist (Redis < 7 small hashes): 32-bit size, 32-bit tail offset,
    16-bit count, then elements each preceded by the previous one's length, then 0xFF."""
    total, _tail, count = struct.unpack_from("<IIH", blob)
    if total != len(blob) or blob[-1] != 0xFF:
        raise ValueError("header size or terminator does not match")
    items = []
    p, end = 10, total - 1
    while p < end:
        prevlen = blob[p]
        if prevlen == 0xFF:
            raise ValueError(f"bad previous-length byte at {p}")
        p += 1 if prevlen < 0xFE else 5
        item, size = _ziplist_entry(blob, p)
        p += size
        items.append(item)
    if p != end:
        raise ValueError("last element runs past the terminator")
    if count != 0xFFFF and count != len(items):
        raise ValueError(f"header says {count} elements, found {len(items)}")
    return items


def _zipmap_length(blob: bytes, p: int) -> tuple[int, int]:
    b = blob[p]
    if b < 0xFE:
        return b, p + 1
    if b == 0xFE:
        return struct.unpack_from("<I", blob, p + 1)[0], p + 5
    raise ValueError(f"bad length byte 0x{b:02x} at {p}")


def zipmap_items(blob: bytes) -> list[bytes]:
    """The fields and values of a zipmap (Redis < 2.6 small hashes): a count byte, then
    key length, key, value length, free-space byte, value, free space... and 0xFF."""
    items = []
    p = 1
    while blob[p] != 0xFF:  # an element past the end raises IndexError here
        n, p = _zipmap_length(blob, p)
        items.append(blob[p : p + n])
        n, p = _zipmap_length(blob, p + n)
        free = blob[p]
        items.append(blob[p + 1 : p + 1 + n])
        p += 1 + n + free
    if p + 1 != len(blob):
        raise ValueError("data after the terminator")
    if blob[0] < 0xFE and blob[0] * 2 != len(items):
        raise ValueError(f"header says {blob[0]} pairs, found {len(items) // 2}")
    return items


_INTSET_FORMATS = {2: "h", 4: "i", 8: "q"}


def intset_items(blob: bytes) -> list[bytes]:
    """The members of an intset (small all-integer sets): 32-bit width of each integer (2,
    4 or 8 bytes), 32-bit count, then the integers, little-endian, strictly ascending."""
    width, count = struct.unpack_from("<II", blob)
    code = _INTSET_FORMATS.get(width)
    if code is None:
        raise ValueError(f"integer width {width}")
    if len(blob) != 8 + width * count:
        raise ValueError(f"{len(blob)} bytes for {count} integers of {width} bytes")
    numbers = struct.unpack_from(f"<{count}{code}", blob, 8)
    if any(a >= b for a, b in zip(numbers, numbers[1:], strict=False)):
        raise ValueError("integers out of order")
    return [b"%d" % n for n in numbers]
