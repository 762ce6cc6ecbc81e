"""Redis's geohash, sans-IO: a point is stored as a sorted-set score, the 52-bit interleaving
of its longitude and latitude cut 26 times in two (geohash.c), and a search by radius or box
reads the score ranges of 9 grid cells around the centre (geohash_helper.c, geo.c).

Everything here is the same double arithmetic Redis does, in the same order, with the same
libm functions (Python's math calls the C library's), so decoded coordinates, distances and the
cells searched come out bit for bit as redis-server's. Results must also come out in Redis's
*order*: ``search_ranges`` gives the cells' score ranges in the order Redis visits them, and
``partial_sort`` orders the nearest ``count`` results the way Redis's pqsort leaves equal
distances. Nothing here touches a database: geo commands (commands/geo.py) feed it scores.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

STEP_MAX = 26  # 26 cuts of each coordinate: 52 bits, what a double holds exactly
LONG_MIN, LONG_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -85.05112878, 85.05112878  # Web Mercator's limits: no poles
EARTH_RADIUS = 6372797.560856  # metres: Redis's quadratic mean radius of WGS-84
MERCATOR_MAX = 20037726.37
_D_R = math.pi / 180.0
_ALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"

# A unit name (lowercased) -> metres per unit, as extractUnitOrReply reads it.
UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}

Range = tuple[float, float]
_LONGITUDES: Range = (LONG_MIN, LONG_MAX)
_LATITUDES: Range = (LAT_MIN, LAT_MAX)
_STANDARD_LATITUDES: Range = (-90.0, 90.0)  # a standard geohash's latitude range
_LAT_SCALE, _LONG_SCALE = LAT_MAX - LAT_MIN, LONG_MAX - LONG_MIN
_FINEST = float(1 << STEP_MAX)  # cells a side at 52 bits


def valid(longitude: float, latitude: float) -> bool:
    """Whether a point can be indexed (GEOADD's and the searches' check)."""
    return LONG_MIN <= longitude <= LONG_MAX and LAT_MIN <= latitude <= LAT_MAX


# --- bits -------------------------------------------------------------------------------------


def _spread(value: int) -> int:
    """The 32 low bits of ``value`` moved to the even bit positions of a 64-bit word."""
    value &= 0xFFFFFFFF
    value = (value | (value << 16)) & 0x0000FFFF0000FFFF
    value = (value | (value << 8)) & 0x00FF00FF00FF00FF
    value = (value | (value << 4)) & 0x0F0F0F0F0F0F0F0F
    value = (value | (value << 2)) & 0x3333333333333333
    return (value | (value << 1)) & 0x5555555555555555


_EVEN = 0x5555555555555555
# _spread's masks, each repeated in the high half of a 128-bit word
_M1, _M2, _M4, _M8, _M16 = (
    mask * (1 + (1 << 64))
    for mask in (
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    )
)


def _cell_of(bits: int) -> tuple[int, int]:
    """The latitude cell (the even bits of a 64-bit geohash, packed) and the longitude cell
    (the odd bits): ``_spread``'s inverse, both halves at once in one 128-bit word."""
    value = (bits & _EVEN) | ((bits >> 1) & _EVEN) << 64
    value = (value | (value >> 1)) & _M1
    value = (value | (value >> 2)) & _M2
    value = (value | (value >> 4)) & _M4
    value = (value | (value >> 8)) & _M8
    value = (value | (value >> 16)) & _M16
    return value & 0xFFFFFFFF, value >> 64


def _as_uint64(score: float) -> int:
    """What C's ``(uint64_t)score`` gives on x86-64, out-of-range values included: below 2**63
    a signed truncation (out of its range: 2**63), above it 2**63 plus one of the rest."""
    if 0.0 <= score < 2.0**63:
        return int(score)  # every score GEOADD writes
    if score >= 2.0**63:
        rest = score - 2.0**63
        low = int(rest) if rest < 2.0**63 else 2**63  # inf included
        return (low % 2**64) ^ 2**63
    if score != score or score < -(2.0**63):
        return 2**63
    return int(score) % 2**64


def as_int64(score: float) -> int:
    """What C's ``(long long)score`` gives on x86-64: truncation, or -2**63 out of range."""
    if score != score or not -(2.0**63) <= score < 2.0**63:
        return -(2**63)
    return int(score)


# --- encoding and decoding --------------------------------------------------------------------


def encode(
    longitude: float,
    latitude: float,
    step: int = STEP_MAX,
    longitudes: Range = _LONGITUDES,
    latitudes: Range = _LATITUDES,
) -> int:
    """The geohash of a valid point in a grid cut ``step`` times: latitude bits at the even
    positions, longitude bits at the odd ones (each coordinate's fraction of its range,
    scaled to 2**step and truncated)."""
    lat_offset = (latitude - latitudes[0]) / (latitudes[1] - latitudes[0])
    long_offset = (longitude - longitudes[0]) / (longitudes[1] - longitudes[0])
    lat_offset *= 1 << step
    long_offset *= 1 << step
    return _spread(int(lat_offset)) | (_spread(int(long_offset)) << 1)


def score_of(longitude: float, latitude: float) -> int:
    """The sorted-set score GEOADD gives a valid point."""
    return encode(longitude, latitude)


@dataclass(frozen=True, slots=True)
class Area:
    """A grid cell's corners."""

    long_min: float
    long_max: float
    lat_min: float
    lat_max: float


def cell_area(bits: int, step: int) -> Area:
    """The corners of the cell ``bits`` of a grid cut ``step`` times."""
    return Area(*_corners(bits, float(1 << step)))


def _corners(bits: int, size: float) -> tuple[float, float, float, float]:
    """A cell's longitudes then latitudes, min and max, in a grid of ``size`` cells a side."""
    lat_cell, long_cell = _cell_of(bits)
    return (
        LONG_MIN + (long_cell * 1.0 / size) * _LONG_SCALE,
        LONG_MIN + ((long_cell + 1) * 1.0 / size) * _LONG_SCALE,
        LAT_MIN + (lat_cell * 1.0 / size) * _LAT_SCALE,
        LAT_MIN + ((lat_cell + 1) * 1.0 / size) * _LAT_SCALE,
    )


def decode(score: float) -> tuple[float, float]:
    """The point a score stands for: the centre of its cell, kept within the valid ranges.
    Any score decodes (Redis reads it as a 64-bit integer first, whatever it holds)."""
    long_min, long_max, lat_min, lat_max = _corners(_as_uint64(score), _FINEST)
    longitude, latitude = (long_min + long_max) / 2, (lat_min + lat_max) / 2
    # Kept within the valid ranges (the cell's centre can only pass them by rounding).
    longitude = (
        LONG_MAX if longitude > LONG_MAX else LONG_MIN if longitude < LONG_MIN else longitude
    )
    latitude = LAT_MAX if latitude > LAT_MAX else LAT_MIN if latitude < LAT_MIN else latitude
    return longitude, latitude


def standard_geohash(score: float) -> bytes:
    """GEOHASH's 11 characters: the decoded point encoded again over the standard latitude
    range (-90..90), in base 32; 52 bits fill 10 characters, the 11th is always '0'."""
    longitude, latitude = decode(score)
    bits = encode(longitude, latitude, STEP_MAX, _LONGITUDES, _STANDARD_LATITUDES)
    digits = [_ALPHABET[(bits >> (52 - (i + 1) * 5)) & 0x1F] for i in range(10)]
    return bytes(digits) + b"0"


def coordinate_text(value: float) -> bytes:
    """A coordinate as Redis replies it (a long double with %.17Lf, trailing zeros cut)."""
    text = (b"%.17f" % value).rstrip(b"0").rstrip(b".")
    return b"0" if text == b"-0" else text


def distance_text(value: float) -> bytes:
    """A distance as Redis replies it: four decimals, rounded half to even."""
    scaled = round(value * 10000.0)
    sign = b"-" if scaled < 0 else b""
    whole, decimals = divmod(abs(scaled), 10000)
    return b"%s%d.%04d" % (sign, whole, decimals)


# --- distances --------------------------------------------------------------------------------


def _radians(degrees: float) -> float:
    return degrees * _D_R


def _degrees(radians: float) -> float:
    return radians / _D_R


def latitude_distance(lat1: float, lat2: float) -> float:
    """Metres between two latitudes on one meridian."""
    return EARTH_RADIUS * abs(_radians(lat2) - _radians(lat1))


def distance(long1: float, lat1: float, long2: float, lat2: float) -> float:
    """Metres between two points: the haversine formula on Redis's sphere."""
    lat1r = _radians(lat1)
    return _haversine(_radians(long1), lat1r, math.cos(lat1r), long2, lat2)


def _haversine(long1r: float, lat1r: float, cos_lat1: float, long2: float, lat2: float) -> float:
    """``distance`` from a first point given in radians, with its latitude's cosine (a search
    works them out once for every point it measures)."""
    lat2r = _radians(lat2)
    v = math.sin((_radians(long2) - long1r) / 2)
    if v == 0.0:
        return EARTH_RADIUS * abs(lat2r - lat1r)  # latitude_distance
    u = math.sin((lat2r - lat1r) / 2)
    a = u * u + cos_lat1 * math.cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS * math.asin(math.sqrt(a))


# --- shapes and the cells that cover them ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shape:
    """A search area: a circle (``radius``) or a box (``width`` and ``height``, ``radius``
    None) around a centre, its sizes in a unit of ``conversion`` metres."""

    longitude: float
    latitude: float
    conversion: float
    radius: float | None = None
    width: float = 0.0
    height: float = 0.0

    def judge(self) -> Callable[[float, float], float | None]:
        """``distance_if_inside``, made once for the many points of one search."""
        if self.radius is None:
            return self.distance_if_inside
        long1r, lat1r = _radians(self.longitude), _radians(self.latitude)
        cos_lat1, limit = math.cos(lat1r), self.radius * self.conversion

        def inside(longitude: float, latitude: float) -> float | None:
            found = _haversine(long1r, lat1r, cos_lat1, longitude, latitude)
            return None if found > limit else found

        return inside

    def distance_if_inside(self, longitude: float, latitude: float) -> float | None:
        """The point's distance from the centre in metres, or None if it is outside."""
        if self.radius is not None:
            found = distance(self.longitude, self.latitude, longitude, latitude)
            return None if found > self.radius * self.conversion else found
        if latitude_distance(latitude, self.latitude) > self.height * self.conversion / 2:
            return None
        across = distance(longitude, latitude, self.longitude, latitude)
        if across > self.width * self.conversion / 2:
            return None
        return distance(self.longitude, self.latitude, longitude, latitude)

    def bounds(self) -> Area:
        """The longitudes and latitudes the shape reaches (its edges bend toward the pole)."""
        if self.radius is not None:
            height = width = self.conversion * self.radius
        else:
            height, width = self.conversion * (self.height / 2), self.conversion * (self.width / 2)
        lat_delta = _degrees(height / EARTH_RADIUS)
        top = _degrees(width / EARTH_RADIUS / math.cos(_radians(self.latitude + lat_delta)))
        bottom = _degrees(width / EARTH_RADIUS / math.cos(_radians(self.latitude - lat_delta)))
        long_delta = bottom if self.latitude < 0 else top
        return Area(
            self.longitude - long_delta,
            self.longitude + long_delta,
            self.latitude - lat_delta,
            self.latitude + lat_delta,
        )

    def reach(self) -> float:
        """Metres from the centre to the farthest point of the shape."""
        if self.radius is not None:
            reach = self.radius
        else:
            half_width, half_height = self.width / 2, self.height / 2
            reach = math.sqrt(half_width * half_width + half_height * half_height)
        return reach * self.conversion


def _estimate_step(metres: float, latitude: float) -> int:
    """How finely to cut the grid for a search reaching ``metres``: wider cells near the poles."""
    if metres == 0:
        return STEP_MAX
    step = 1
    while metres < MERCATOR_MAX:
        metres *= 2
        step += 1
    step -= 2
    if latitude > 66 or latitude < -66:
        step -= 1
        if latitude > 80 or latitude < -80:
            step -= 1
    return min(max(step, 1), STEP_MAX)


def _move(bits: int, step: int, dx: int, dy: int) -> int:
    """The cell ``dx`` east/west and ``dy`` north/south of ``bits``, wrapping around the grid."""
    odd, even = 0xAAAAAAAAAAAAAAAA, 0x5555555555555555
    shift = 64 - step * 2
    for delta, mine, other in ((dx, odd, even), (dy, even, odd)):
        if not delta:
            continue
        part, rest = bits & mine, bits & other
        filler = other >> shift  # ones in the other coordinate's places: a carry crosses them
        part = part + filler + 1 if delta > 0 else (part | filler) - (filler + 1)
        bits = (part & (mine >> shift)) | rest
    return bits


# The cells searched, in Redis's order: the centre, then north, south, east, west, north-east,
# north-west, south-east, south-west, as (dx, dy).
_AROUND = ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


def _cells(shape: Shape) -> tuple[list[int | None], int]:
    """The 9 cells around the centre (None: one that cannot hold a result) and their step."""
    bounds = shape.bounds()
    step = _estimate_step(shape.reach(), shape.latitude)
    centre = encode(shape.longitude, shape.latitude, step)
    north, south = (
        cell_area(_move(centre, step, 0, 1), step),
        cell_area(_move(centre, step, 0, -1), step),
    )
    east, west = (
        cell_area(_move(centre, step, 1, 0), step),
        cell_area(_move(centre, step, -1, 0), step),
    )
    too_small = (
        north.lat_max < bounds.lat_max
        or south.lat_min > bounds.lat_min
        or east.long_max < bounds.long_max
        or west.long_min > bounds.long_min
    )
    if step > 1 and too_small:
        step -= 1
        centre = encode(shape.longitude, shape.latitude, step)
    cells: list[int | None] = [_move(centre, step, dx, dy) for dx, dy in _AROUND]
    if step >= 2:
        area = cell_area(centre, step)
        for index, (dx, dy) in enumerate(_AROUND):
            if (
                (dy == -1 and area.lat_min < bounds.lat_min)
                or (dy == 1 and area.lat_max > bounds.lat_max)
                or (dx == -1 and area.long_min < bounds.long_min)
                or (dx == 1 and area.long_max > bounds.long_max)
            ):
                cells[index] = None
    return cells, step


def search_ranges(shape: Shape) -> list[tuple[int, int]]:
    """The sorted-set score ranges [low, high) to read, in the order Redis reads them: a cell
    left out is skipped, and so is one equal to the cell read just before it (unless that was
    the centre: Redis compares with the last one read only from the second on)."""
    cells, step = _cells(shape)
    shift = 52 - step * 2
    ranges = []
    last = 0
    for index, bits in enumerate(cells):
        if bits is None:
            continue
        if last and bits == cells[last]:
            continue
        ranges.append((bits << shift, (bits + 1) << shift))
        last = index
    return ranges


# --- ordering the nearest ---------------------------------------------------------------------

T = TypeVar("T")


def partial_sort(items: list[T], count: int, compare: Callable[[T, T], int]) -> None:
    """Put the ``count`` smallest of ``items`` first, in order, as Redis's pqsort does (a
    Bentley-McIlroy quicksort that skips the partitions outside the wanted positions): equal
    items end up in the same places as Redis's, which a stable sort would not give."""
    _quicksort(items, 0, len(items), compare, count - 1)


def _median(items: Sequence[T], a: int, b: int, c: int, compare: Callable[[T, T], int]) -> int:
    if compare(items[a], items[b]) < 0:
        if compare(items[b], items[c]) < 0:
            return b
        return c if compare(items[a], items[c]) < 0 else a
    if compare(items[b], items[c]) > 0:
        return b
    return a if compare(items[a], items[c]) < 0 else c


def _swap_runs(items: list[T], a: int, b: int, n: int) -> None:
    for i in range(n):
        items[a + i], items[b + i] = items[b + i], items[a + i]


def _quicksort(
    items: list[T], start: int, n: int, compare: Callable[[T, T], int], last: int
) -> None:
    """Sort ``items[start:start + n]`` as far as positions 0..``last`` need it."""
    while True:
        if n < 7:  # insertion sort
            for m in range(start + 1, start + n):
                at = m
                while at > start and compare(items[at - 1], items[at]) > 0:
                    items[at], items[at - 1] = items[at - 1], items[at]
                    at -= 1
            return
        middle = start + n // 2
        if n > 7:
            low, high = start, start + n - 1
            if n > 40:
                d = n // 8
                low = _median(items, low, low + d, low + 2 * d, compare)
                middle = _median(items, middle - d, middle, middle + d, compare)
                high = _median(items, high - 2 * d, high - d, high, compare)
            middle = _median(items, low, middle, high, compare)
        items[start], items[middle] = items[middle], items[start]
        # Three-way partition around items[start]: equal items parked at both ends first.
        a = b = start + 1
        c = d = start + n - 1
        while True:
            while b <= c:
                order = compare(items[b], items[start])
                if order > 0:
                    break
                if order == 0:
                    items[a], items[b] = items[b], items[a]
                    a += 1
                b += 1
            while b <= c:
                order = compare(items[c], items[start])
                if order < 0:
                    break
                if order == 0:
                    items[c], items[d] = items[d], items[c]
                    d -= 1
                c -= 1
            if b > c:
                break
            items[b], items[c] = items[c], items[b]
            b += 1
            c -= 1
        end = start + n
        r = min(a - start, b - a)
        _swap_runs(items, start, b - r, r)
        r = min(d - c, end - d - 1)
        _swap_runs(items, b, end - r, r)
        smaller = b - a
        if smaller > 1 and start <= last:
            _quicksort(items, start, smaller, compare, last)
        larger = d - c
        if larger <= 1:
            return
        start, n = end - larger, larger
        if start > last:
            return
