"""The RDB codec on its own (respserver/persistence/rdb.py), no server: the checksum, files
written as Redis writes them, round trips, the older hash encodings, LZF, and damaged files
refused with the offset. (Both directions of interoperability with a real redis-server 7.0.15:
tests/differential/test_rdb.py.)"""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from respserver.keyspace.sets import SetValue
from respserver.persistence import rdb
from respserver.persistence.rdb import RDBError, crc64, encode_length, load_rdb, read_rdb
from respserver.persistence.rdb_encodings import lzf_decompress
from tests.helpers.rdb import (
    HOUR,
    as_dumps,
    assert_every_bit_flip_fails,
    dump,
    expect_error,
    expected,
    read,
)

NOW = 1_700_000_000_000  # a fixed "now" keeps the written files (ctime, checksum) reproducible


def rdb_file(body: bytes, version: int = 10) -> bytes:
    """A hand-made file around ``body`` (opcodes and entries), with a correct CRC."""
    data = b"REDIS%04d" % version + body + bytes([rdb.OP_EOF])
    return data if version < 5 else data + struct.pack("<Q", crc64(data))


def raw_string(s: bytes) -> bytes:
    return encode_length(len(s)) + s


def entry(type_byte: int, key: bytes, payload: bytes) -> bytes:
    return bytes([type_byte]) + raw_string(key) + payload


# -- the checksum -----------------------------------------------------------------------------


def test_crc64_is_redis_variant() -> None:
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert crc64(b"") == 0


@given(st.binary(max_size=2000), st.lists(st.integers(0, 2000), max_size=6))
def test_crc64_continues_over_chunks(data: bytes, cuts: list[int]) -> None:
    bounds = [0, *sorted(c for c in cuts if c <= len(data)), len(data)]
    crc = 0
    for start, end in zip(bounds, bounds[1:], strict=False):
        crc = crc64(memoryview(data)[start:end], crc)
    assert crc == crc64(data)


# -- writing ----------------------------------------------------------------------------------


def test_header_aux_fields_and_trailer_as_redis_writes_them() -> None:
    blob = dump([(0, {b"k": b"v"}, {})], now_ms=NOW, used_mem=1000)
    aux = b"".join(
        bytes([rdb.OP_AUX]) + raw_string(name) + value
        for name, value in [
            (b"redis-ver", raw_string(b"7.0.15")),
            (b"redis-bits", b"\xc0\x40"),
            (b"ctime", b"\xc2" + struct.pack("<i", NOW // 1000)),
            (b"used-mem", b"\xc1" + struct.pack("<h", 1000)),
            (b"aof-base", b"\xc0\x00"),
        ]
    )
    body = b"\xfe\x00\xfb\x01\x00" + entry(rdb.TYPE_STRING, b"k", raw_string(b"v"))
    assert blob == rdb_file(aux + body)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (b"0", b"\xc0\x00"),
        (b"12", b"\xc0\x0c"),
        (b"-128", b"\xc0\x80"),
        (b"128", b"\xc1\x80\x00"),
        (b"-32768", b"\xc1\x00\x80"),
        (b"32768", b"\xc2\x00\x80\x00\x00"),
        (b"2147483647", b"\xc2\xff\xff\xff\x7f"),
        (b"-2147483648", b"\xc2\x00\x00\x00\x80"),
        (b"2147483648", b"\x0a2147483648"),
        (b"007", b"\x03007"),
        (b"-0", b"\x02-0"),
        (b"+1", b"\x02+1"),
        (b" 1", b"\x02 1"),
        (b"1e3", b"\x031e3"),
        (b"-", b"\x01-"),
        (b"", b"\x00"),
    ],
)
def test_strings_are_integer_encoded_only_when_canonical(value: bytes, encoded: bytes) -> None:
    blob = dump([(0, {b"k": value}, {})], now_ms=NOW)
    assert entry(rdb.TYPE_STRING, b"k", encoded) + b"\xff" in blob
    assert read(blob) == [(0, b"k", value, None)]


def test_expired_keys_empty_hashes_and_empty_databases_are_left_out() -> None:
    data = {b"old": b"x", b"due": b"y", b"live": b"z", b"empty": {}, b"h": {b"f": b"v"}}
    expires = {b"old": NOW - 1, b"due": NOW, b"live": NOW + 1}
    blob = dump([(0, {b"gone": b"x"}, {b"gone": 5}), (2, data, expires)], now_ms=NOW)
    assert b"\xfe\x00" not in blob  # database 0 has no live key: no SELECTDB for it
    assert b"\xfe\x02\xfb\x02\x01" in blob  # RESIZEDB: 2 keys, 1 with an expiry
    assert read(blob) == [(2, b"live", b"z", NOW + 1), (2, b"h", {b"f": b"v"}, None)]


def test_lengths_of_every_width() -> None:
    assert encode_length(63) == b"\x3f"
    assert encode_length(64) == b"\x40\x40"
    assert encode_length(16383) == b"\x7f\xff"
    assert encode_length(16384) == b"\x80\x00\x00\x40\x00"
    assert encode_length(2**32 - 1) == b"\x80\xff\xff\xff\xff"
    assert encode_length(2**32) == b"\x81" + (2**32).to_bytes(8, "big")
    # 64-bit lengths are read back too (RESIZEDB counts here)
    body = b"\xfe\x00\xfb" + encode_length(2**40) + encode_length(2**32)
    assert read(rdb_file(body + entry(0, b"k", raw_string(b"v")))) == [(0, b"k", b"v", None)]


# -- round trips ------------------------------------------------------------------------------

INTEGERISH = [b"12", b"-5", b"007", b"1e3", b" 1", b"0", b"-0", b"+3", b"4294967296", b"-"]
strings = st.one_of(
    st.binary(max_size=70),
    st.sampled_from(INTEGERISH),
    st.integers(-(2**63), 2**63).map(lambda i: b"%d" % i),
    st.binary(min_size=65, max_size=400),
)


@st.composite
def hashes(draw: st.DrawFn) -> dict[bytes, bytes]:
    size = draw(st.one_of(st.integers(1, 8), st.integers(1, 600), st.integers(513, 600)))
    fields = draw(st.lists(strings, min_size=size, max_size=size, unique=True))
    return {field: draw(strings) for field in fields}


def sets() -> st.SearchStrategy[SetValue]:
    return st.builds(SetValue, st.lists(strings, min_size=1, max_size=600, unique=True))


@st.composite
def databases(draw: st.DrawFn) -> list[rdb.DatabaseDump]:
    numbers = draw(st.lists(st.integers(0, 15), max_size=4, unique=True))
    result = []
    for number in numbers:
        values = st.one_of(strings, hashes(), sets())
        data = draw(st.dictionaries(strings, values, max_size=8))
        expiring = draw(st.lists(st.sampled_from(sorted(data)), unique=True)) if data else []
        expires = {key: NOW + draw(st.integers(1, 2**40)) for key in expiring}
        result.append((number, data, expires))
    return result


@settings(max_examples=60, deadline=None)
@given(databases(), st.sampled_from([1, 3, 64, 1 << 20]))
def test_round_trip(dbs: list[rdb.DatabaseDump], chunk: int) -> None:
    """Whatever is written reads back equal, whatever the chunk size used to write and read
    (a small chunk puts every item across a window boundary)."""
    saved = rdb.CHUNK
    rdb.CHUNK = chunk
    try:
        blob = dump(dbs, now_ms=NOW)
        entries = read(blob)
        loaded = load_rdb(io.BytesIO(blob))
    finally:
        rdb.CHUNK = saved
    assert blob == dump(dbs, now_ms=NOW)  # chunked writing changes nothing, CRC included
    assert blob[-8:] == struct.pack("<Q", crc64(blob[:-8]))
    assert as_dumps(entries) == expected(dbs)
    assert loaded == sorted((db, data, expires) for db, data, expires in dbs if data)


def test_load_rdb_drops_expired_keys_and_rejects_duplicates() -> None:
    dbs = [(1, {b"a": b"1", b"b": {b"f": b"v"}}, {b"a": NOW + HOUR, b"b": NOW + 2 * HOUR})]
    blob = dump(dbs, now_ms=NOW)
    kept = [(1, {b"b": {b"f": b"v"}}, {b"b": NOW + 2 * HOUR})]
    assert load_rdb(io.BytesIO(blob), now_ms=NOW + HOUR) == kept
    assert load_rdb(io.BytesIO(blob), now_ms=NOW + 3 * HOUR) == []
    twice = rdb_file(entry(0, b"k", raw_string(b"v")) * 2)
    with pytest.raises(RDBError, match=r"duplicate key b'k' in database 0 at offset"):
        load_rdb(io.BytesIO(twice))


# -- reading what Redis can write but we do not ------------------------------------------------


def zl_str(s: bytes) -> bytes:
    if len(s) < 64:
        return bytes([len(s)]) + s
    if len(s) < 16384:
        return bytes([0x40 | len(s) >> 8, len(s) & 0xFF]) + s
    return b"\x80" + len(s).to_bytes(4, "big") + s


def ziplist(elements: list[bytes]) -> bytes:
    """A ziplist of already-encoded elements, each given its previous-length prefix."""
    body, prev, tail = bytearray(), 0, 10
    for element in elements:
        tail = 10 + len(body)
        prefix = bytes([prev]) if prev < 254 else b"\xfe" + struct.pack("<I", prev)
        body += prefix + element
        prev = len(prefix + element)
    return struct.pack("<IIH", 10 + len(body) + 1, tail, len(elements)) + body + b"\xff"


def zipmap(pairs: list[tuple[bytes, bytes]]) -> bytes:
    def length(n: int) -> bytes:
        return bytes([n]) if n < 254 else b"\xfe" + struct.pack("<I", n)

    out = bytearray([len(pairs)])
    for k, v in pairs:
        out += length(len(k)) + k + length(len(v)) + b"\x02" + v + b"\x00\x00"
    return bytes(out + b"\xff")


def test_ziplist_hash() -> None:
    long = b"L" * 300  # makes the next element's previous-length 5 bytes long
    elements = [
        zl_str(b"small"),
        b"\xf1",  # immediate 0
        zl_str(b"twelve"),
        b"\xfd",  # immediate 12
        zl_str(b"int8"),
        b"\xfe\x85",
        zl_str(b"int16"),
        b"\xc0" + struct.pack("<h", -30000),
        zl_str(b"int24"),
        b"\xf0" + (-8_000_000).to_bytes(3, "little", signed=True),
        zl_str(b"int32"),
        b"\xd0" + struct.pack("<i", 2_000_000_000),
        zl_str(b"int64"),
        b"\xe0" + struct.pack("<q", -(2**63)),
        zl_str(b"long"),
        zl_str(long),
        zl_str(b"huge"),
        zl_str(b"H" * 20000),
    ]
    blob = rdb_file(entry(rdb.TYPE_HASH_ZIPLIST, b"zl", raw_string(ziplist(elements))))
    assert read(blob) == [
        (
            0,
            b"zl",
            {
                b"small": b"0",
                b"twelve": b"12",
                b"int8": b"-123",
                b"int16": b"-30000",
                b"int24": b"-8000000",
                b"int32": b"2000000000",
                b"int64": b"-9223372036854775808",
                b"long": long,
                b"huge": b"H" * 20000,
            },
            None,
        )
    ]


def test_zipmap_hash() -> None:
    pairs = [(b"a", b"1"), (b"", b"empty field"), (b"big", b"v" * 300)]
    blob = rdb_file(entry(rdb.TYPE_HASH_ZIPMAP, b"zm", raw_string(zipmap(pairs))), version=3)
    assert read(blob) == [(0, b"zm", dict(pairs), None)]


@pytest.mark.parametrize(
    ("blob", "what"),
    [
        (ziplist([zl_str(b"f")]), "odd number of elements"),
        (ziplist([zl_str(b"f"), b"\xf5"])[:-1] + b"\x00", "terminator"),
        (ziplist([zl_str(b"f"), b"\x81"]), "bad element encoding"),
        (ziplist([zl_str(b"f"), zl_str(b"v"), zl_str(b"f"), zl_str(b"w")]), "duplicate fields"),
        (ziplist([zl_str(b"f"), b"\x3fshort"]), "ziplist"),
    ],
)
def test_damaged_ziplist(blob: bytes, what: str) -> None:
    expect_error(rdb_file(entry(rdb.TYPE_HASH_ZIPLIST, b"k", raw_string(blob))), what)


def intset(width: int, numbers: list[int]) -> bytes:
    code = {2: "h", 4: "i", 8: "q"}[width]
    return struct.pack(f"<II{len(numbers)}{code}", width, len(numbers), *numbers)


def test_sets_plain_and_intsets_of_every_width() -> None:
    body = (
        entry(rdb.TYPE_SET_INTSET, b"i2", raw_string(intset(2, [-3, 1, 2])))
        + entry(rdb.TYPE_SET_INTSET, b"i4", raw_string(intset(4, [-70000, 5])))
        + entry(rdb.TYPE_SET_INTSET, b"i8", raw_string(intset(8, [-(2**63), 2**63 - 1])))
        + entry(rdb.TYPE_SET, b"plain", encode_length(2) + raw_string(b"a") + raw_string(b"1"))
        + entry(rdb.TYPE_SET, b"empty", encode_length(0))  # skipped, as Redis does
        + entry(rdb.TYPE_SET_INTSET, b"empty2", raw_string(intset(2, [])))
    )
    members = {
        b"i2": [b"-3", b"1", b"2"],
        b"i4": [b"-70000", b"5"],
        b"i8": [b"-9223372036854775808", b"9223372036854775807"],
        b"plain": [b"a", b"1"],
    }
    assert as_dumps(read(rdb_file(body))) == {0: ({k: SetValue(v) for k, v in members.items()}, {})}


@pytest.mark.parametrize(
    ("blob", "what"),
    [
        (struct.pack("<II", 3, 0), "bad intset in key b'k': integer width 3"),
        (intset(2, [1, 2])[:-1], "11 bytes for 2 integers of 2 bytes"),
        (intset(4, [2, 1]), "integers out of order"),
        (intset(8, [1, 1]), "integers out of order"),
        (b"\x02\x00", "bad intset in key b'k': an element runs past the end"),
    ],
)
def test_damaged_intset(blob: bytes, what: str) -> None:
    expect_error(rdb_file(entry(rdb.TYPE_SET_INTSET, b"k", raw_string(blob))), what)


def test_a_set_member_twice_is_damage() -> None:
    twice = encode_length(2) + raw_string(b"a") * 2
    expect_error(rdb_file(entry(rdb.TYPE_SET, b"k", twice)), r"set b'k' has duplicate members")


def test_empty_hashes_are_skipped_as_redis_does() -> None:
    body = entry(rdb.TYPE_HASH, b"h0", b"\x00") + entry(
        rdb.TYPE_HASH_ZIPLIST, b"z0", raw_string(ziplist([]))
    )
    assert read(rdb_file(body + entry(0, b"s", raw_string(b"")))) == [(0, b"s", b"", None)]


def test_old_opcodes() -> None:
    """EXPIRETIME in seconds, LRU idle time and LFU counter (read and ignored), a function
    library (skipped), and a version-4 file, which has no checksum."""
    body = (
        b"\xfe\x05"
        + b"\xfd"
        + struct.pack("<i", 2_000_000_000)
        + b"\xf8\x80\x00\x01\x00\x00"
        + entry(0, b"a", raw_string(b"1"))
        + b"\xf9\x07"
        + entry(0, b"b", raw_string(b"2"))
        + b"\xf5"
        + raw_string(b"#!lua name=lib\nredis.register_function('f', function() end)")
    )
    want = [(5, b"a", b"1", 2_000_000_000_000), (5, b"b", b"2", None)]
    assert read(rdb_file(body)) == want
    assert read(rdb_file(body, version=4)) == want


def test_module_data_and_unknown_opcodes_are_refused() -> None:
    expect_error(rdb_file(b"\xf7\x01"), r"^module auxiliary data is not supported at offset 9$")
    error = expect_error(rdb_file(entry(0, b"k", raw_string(b"v")) + b"\x30"))
    assert (error.what, error.offset) == ("unknown opcode or value type 48", 14)


def test_unsupported_types_name_the_type_and_key() -> None:
    expect_error(
        rdb_file(entry(20, b"myset", raw_string(b"x"))),
        r"key b'myset' has type set \(listpack encoding\), unsup",
    )


# -- lzf --------------------------------------------------------------------------------------


def test_lzf_runs_and_overlapping_references() -> None:
    # literal "ab", a reference 2 back of length 7 (overlapping what it writes), literal "c"
    assert lzf_decompress(b"\x01ab\xa0\x01\x00c", 10) == b"ababababac"
    # a long reference (7 + an extra length byte) 3 back
    assert lzf_decompress(b"\x02abc\xe0\x05\x02", 17) == b"abc" * 5 + b"ab"
    # a non-overlapping reference 4 back
    assert lzf_decompress(b"\x03abcd\x20\x03", 7) == b"abcdabc"


@pytest.mark.parametrize(
    ("data", "size", "what"),
    [
        (b"\x05ab", 6, "literal run past the end"),
        (b"\x00a\x20\x05", 4, "before the start"),
        (b"\x00a\xe0", 9, "past the end of the input"),
        (b"\x01ab", 3, "2 bytes, 3 announced"),
        (b"\x01ab\xa0\x01", 5, "output of 9 bytes, 5 announced"),
    ],
)
def test_lzf_damage(data: bytes, size: int, what: str) -> None:
    with pytest.raises(ValueError, match=what):
        lzf_decompress(data, size)


# -- damage -----------------------------------------------------------------------------------

SMALL = [
    (0, {b"s": b"hello", b"n": b"12", b"h": {b"f": b"v", b"g": b"-7"}}, {b"s": NOW + HOUR}),
    (3, {b"big": b"x" * 70}, {}),
]


def test_every_truncation_is_an_error_at_the_end_of_the_data() -> None:
    blob = dump(SMALL, now_ms=NOW)
    for cut in range(len(blob)):
        error = expect_error(blob[:cut], "^unexpected end of file")
        assert error.offset == cut
        with pytest.raises(RDBError):
            load_rdb(io.BytesIO(blob[:cut]))


def test_every_bit_flip_is_an_error() -> None:
    assert_every_bit_flip_fails(dump(SMALL, now_ms=NOW))


def test_checksum_mismatch_names_the_offset() -> None:
    blob = bytearray(dump(SMALL, now_ms=NOW))
    blob[blob.index(b"hello")] = ord("j")
    entries = []
    with pytest.raises(RDBError, match="^checksum mismatch") as info:
        entries.extend(read_rdb(io.BytesIO(bytes(blob))))
    assert info.value.offset == len(blob) - 8
    assert (0, b"s", b"jello", NOW + HOUR) in entries  # yielded before the end: see docstring


def test_zero_checksum_means_unchecked() -> None:
    blob = dump(SMALL, now_ms=NOW)
    unchecked = blob[:-8] + bytes(8)
    assert read(unchecked) == read(blob)
    assert read(unchecked.replace(b"hello", b"jello"))[0][2] == b"jello"


@pytest.mark.parametrize(
    ("blob", "what", "offset"),
    [
        (b"REDIT0010", "not an RDB file", 0),
        (b"REDIS0013", r"cannot handle RDB format version b'0013'", 5),
        (b"REDIS00x0", "cannot handle RDB format version", 5),
        (rdb_file(b"") + b"\x00", "unexpected data after the end", 18),
        (rdb_file(b"\xfe\xbf"), "bad length encoding 0xbf", 10),
        (rdb_file(b"\xfe\xc0\x01"), "a string encoding where a length was expected", 10),
        (rdb_file(entry(0, b"k", b"\xc5")), "unknown string encoding 5", 12),
        (rdb_file(entry(0, b"k", b"\xc3\x05\x03\x01ab")), "bad LZF-compressed string", 12),
    ],
)
def test_damage_messages(blob: bytes, what: str, offset: int) -> None:
    assert expect_error(blob, what).offset == offset


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_arbitrary_damage_raises_only_rdberror(data: st.DataObject) -> None:
    blob = bytearray(dump(SMALL, now_ms=NOW))
    start = data.draw(st.integers(0, len(blob)))
    blob[start : start + data.draw(st.integers(0, 8))] = data.draw(st.binary(max_size=8))
    try:
        read(bytes(blob))
    except RDBError as e:
        assert f"at offset {e.offset}" in str(e)
