"""Geo commands. https://redis.io/docs/latest/commands/?group=geo

A geospatial index is a sorted set whose scores are 52-bit geohashes (keyspace/geohash.py has
the arithmetic). GEOADD is ZADD with the points encoded, and is logged to the AOF as the ZADD
it amounts to, as Redis propagates it. The searches (GEOSEARCH, GEOSEARCHSTORE and the older
GEORADIUS forms) share one parser and one engine, as Redis's georadiusGeneric: the arguments
are checked in Redis's order, the 9 cells around the centre read in Redis's order, and the
results sorted (or partially sorted, for COUNT) as Redis sorts them, so replies match its
order too.

Coordinates reply as Redis's addReplyHumanLongDouble: a bulk string in RESP2, a double in
RESP3 (with %.17Lf digits, which a Python float would not print); distances always as bulk
strings with four decimals; WITHHASH's hash as an integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from respserver.commands.sorted_sets import zadd
from respserver.commands.sorted_sets_ranges import store_result
from respserver.core.state import Client
from respserver.errors import (
    ANY_WITHOUT_COUNT,
    BOX_NEGATIVE,
    GEO_COUNT_NOT_POSITIVE,
    GEOSEARCH_NEEDS_BY,
    GEOSEARCH_NEEDS_FROM,
    MEMBER_NOT_DECODED,
    NEED_NUMERIC_HEIGHT,
    NEED_NUMERIC_RADIUS,
    NEED_NUMERIC_WIDTH,
    RADIUS_NEGATIVE,
    SYNTAX,
    UNSUPPORTED_UNIT,
    CommandError,
    NamesCommand,
    invalid_longitude_latitude,
    store_with_options,
)
from respserver.keyspace.geohash import (
    UNITS,
    Shape,
    as_int64,
    coordinate_text,
    decode,
    distance,
    distance_text,
    partial_sort,
    score_of,
    search_ranges,
    standard_geohash,
    valid,
)
from respserver.keyspace.zsets import ScoreRange, ZSetValue
from respserver.numbers import to_double, to_int
from respserver.registry import command
from respserver.resp.types import NULL_ARRAY, Encoded

# --- replies and arguments ----------------------------------------------------------------------


def _coordinate(ctx: Client, value: float) -> bytes:
    """A longitude or latitude: a bulk string in RESP2, a double in RESP3."""
    text = coordinate_text(value)
    return Encoded(b",%s\r\n" % text) if ctx.resp > 2 else text


def _point(longitude: bytes, latitude: bytes) -> tuple[float, float]:
    """A longitude and a latitude, both parsed before the range is checked, as Redis does."""
    point = to_double(longitude), to_double(latitude)
    if not valid(*point):
        raise invalid_longitude_latitude(*point)
    return point


def _unit(name: bytes) -> float:
    """Metres per unit (M, KM, FT, MI in any case)."""
    found = UNITS.get(name.lower())
    if found is None:
        raise CommandError(UNSUPPORTED_UNIT)
    return found


def _member_point(zset: ZSetValue, member: bytes) -> tuple[float, float]:
    score = zset.score(member)
    if score is None:
        raise CommandError(MEMBER_NOT_DECODED)
    return decode(score)


# --- GEOADD, GEOPOS, GEOHASH, GEODIST -------------------------------------------------------------


@command(
    "geoadd",
    "key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]",
    arity=-5,
    flags="write denyoom",
    keys=(1, 1, 1),
    key_flags="RW update",
    group="geo",
    since="3.2.0",
    summary="Add one or more geospatial items in the geospatial index represented using a "
    "sorted set",
    complexity="O(log(N)) for each item added, where N is the number of elements in the sorted "
    "set.",
    history=(("6.2.0", "Added the `CH`, `NX` and `XX` options."),),
)
def geoadd(ctx: Client, key: bytes, *args: bytes) -> object:
    """ZADD of the points' geohashes (NX, XX and CH passed on): how many were added (CH: or
    moved). Logged as that ZADD."""
    at = 0
    while at < len(args) and args[at].lower() in (b"nx", b"xx", b"ch"):
        at += 1
    options, triples = args[:at], args[at:]
    chosen = {option.lower() for option in options}
    if len(triples) % 3 or {b"nx", b"xx"} <= chosen:
        raise CommandError(SYNTAX)
    pairs: list[bytes] = []
    for i in range(0, len(triples), 3):
        score = score_of(*_point(triples[i], triples[i + 1]))
        pairs += (b"%d" % score, triples[i + 2])
    ctx.propagate_as([b"zadd", key, *options, *pairs])
    return zadd(ctx, key, *options, *pairs)


@command(
    "geopos",
    "key [member [member ...]]",
    arity=-2,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="geo",
    since="3.2.0",
    summary="Returns longitude and latitude of members of a geospatial index",
    complexity="O(N) where N is the number of members requested.",
)
def geopos(ctx: Client, key: bytes, *members: bytes) -> list[object]:
    """Each member's [longitude, latitude], or a null array for one that is missing."""
    zset = ctx.db.get_zset(key)
    replies: list[object] = []
    for member in members:
        score = None if zset is None else zset.score(member)
        if score is None:
            replies.append(NULL_ARRAY)
        else:
            replies.append([_coordinate(ctx, value) for value in decode(score)])
    return replies


@command(
    "geohash",
    "key [member [member ...]]",
    arity=-2,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="geo",
    since="3.2.0",
    summary="Returns members of a geospatial index as standard geohash strings",
    complexity="O(log(N)) for each member requested, where N is the number of elements in the "
    "sorted set.",
)
def geohash(ctx: Client, key: bytes, *members: bytes) -> list[bytes | None]:
    """Each member's 11-character standard geohash, or nil for one that is missing."""
    zset = ctx.db.get_zset(key)
    scores = [None if zset is None else zset.score(member) for member in members]
    return [None if score is None else standard_geohash(score) for score in scores]


@command(
    "geodist",
    "key member1 member2 [M | KM | FT | MI]",
    arity=-4,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="geo",
    since="3.2.0",
    summary="Returns the distance between two members of a geospatial index",
    complexity="O(log(N))",
)
def geodist(ctx: Client, key: bytes, member1: bytes, member2: bytes, *unit: bytes) -> object:
    """The distance between two members (metres, or the unit given), or nil if one is missing;
    the unit is checked before the key, as Redis does."""
    if len(unit) > 1:
        raise CommandError(SYNTAX)
    per_unit = _unit(unit[0]) if unit else 1.0
    zset = ctx.db.get_zset(key)
    if zset is None:
        return None
    first, second = zset.score(member1), zset.score(member2)
    if first is None or second is None:
        return None
    metres = distance(*decode(first), *decode(second))
    return distance_text(metres / per_unit)


# --- the searches -------------------------------------------------------------------------------


class _Center(Enum):
    """Where a search form takes its centre and its size from."""

    POINT = "longitude latitude radius unit"  # GEORADIUS
    MEMBER = "member radius unit"  # GEORADIUSBYMEMBER
    OPTIONS = "FROMMEMBER/FROMLONLAT and BYRADIUS/BYBOX"  # GEOSEARCH, GEOSEARCHSTORE


@dataclass
class _Query:
    """A search as its arguments describe it."""

    center: _Center
    storing: bool  # STORE/STOREDIST accepted (GEORADIUS, GEORADIUSBYMEMBER)
    destination: bytes | None = None  # GEOSEARCHSTORE's, or a STORE/STOREDIST key
    store_distances: bool = False
    point: tuple[float, float] | None = None
    from_member: bool = False  # FROMMEMBER given (its point is unknown without a source)
    from_point: bool = False  # FROMLONLAT given
    conversion: float = 1.0
    radius: float | None = None
    box: tuple[float, float] | None = None  # width, height
    withdist: bool = False
    withhash: bool = False
    withcoord: bool = False
    order: int = 0  # 1 ascending, -1 descending distances, 0 as found
    count: int = 0  # 0: all
    any: bool = False

    def shape(self) -> Shape:
        longitude, latitude = self.point or (0.0, 0.0)
        if self.box is None:
            return Shape(longitude, latitude, self.conversion, radius=self.radius)
        width, height = self.box
        return Shape(longitude, latitude, self.conversion, width=width, height=height)


def _radius(query: _Query, radius: bytes, unit: bytes) -> None:
    size = to_double(radius, NEED_NUMERIC_RADIUS)
    if size < 0:
        raise CommandError(RADIUS_NEGATIVE)
    query.conversion, query.radius = _unit(unit), size


def _box(query: _Query, width: bytes, height: bytes, unit: bytes) -> None:
    sizes = to_double(width, NEED_NUMERIC_WIDTH), to_double(height, NEED_NUMERIC_HEIGHT)
    if sizes[0] < 0 or sizes[1] < 0:
        raise CommandError(BOX_NEGATIVE)
    query.conversion, query.box = _unit(unit), sizes


def _options(query: _Query, zset: ZSetValue | None, args: tuple[bytes, ...]) -> None:
    """The options after the fixed arguments, each checked as it comes (so the first bad
    one is the error), as georadiusGeneric reads them."""
    searching = query.center is _Center.OPTIONS
    i = 0
    while i < len(args):
        word, left = args[i].lower(), len(args) - i - 1
        if word in (b"withdist", b"withhash", b"withcoord", b"any"):
            setattr(query, word.decode(), True)
        elif word in (b"asc", b"desc"):
            query.order = 1 if word == b"asc" else -1
        elif word == b"count" and left >= 1:
            query.count = to_int(args[i + 1])
            if query.count <= 0:
                raise CommandError(GEO_COUNT_NOT_POSITIVE)
            i += 1
        elif word in (b"store", b"storedist") and left >= 1 and query.storing:
            query.destination, query.store_distances = args[i + 1], word == b"storedist"
            i += 1
        elif word == b"storedist" and searching and query.destination is not None:
            query.store_distances = True
        elif word == b"frommember" and left >= 1 and searching and not query.from_point:
            if zset is not None:
                query.point = _member_point(zset, args[i + 1])
            query.from_member = True
            i += 1
        elif word == b"fromlonlat" and left >= 2 and searching and not query.from_member:
            query.point, query.from_point = _point(args[i + 1], args[i + 2]), True
            i += 2
        elif word == b"byradius" and left >= 2 and searching and query.box is None:
            _radius(query, args[i + 1], args[i + 2])
            i += 2
        elif word == b"bybox" and left >= 3 and searching and query.radius is None:
            _box(query, args[i + 1], args[i + 2], args[i + 3])
            i += 3
        else:
            raise CommandError(SYNTAX)
        i += 1


def _check(query: _Query) -> None:
    """The conflicts Redis looks for once every option is read, in its order."""
    if query.destination is not None and (query.withdist or query.withhash or query.withcoord):
        searching = query.center is _Center.OPTIONS
        raise store_with_options("GEOSEARCHSTORE" if searching else "STORE option in GEORADIUS")
    if query.center is _Center.OPTIONS:
        if not (query.from_member or query.from_point):
            raise NamesCommand(GEOSEARCH_NEEDS_FROM)
        if query.radius is None and query.box is None:
            raise NamesCommand(GEOSEARCH_NEEDS_BY)
    if query.any and not query.count:
        raise CommandError(ANY_WITHOUT_COUNT)


# What a search keeps of each point found: member, score, longitude, latitude, metres away.
_Found = tuple[bytes, float, float, float, float]


def _find(zset: ZSetValue, shape: Shape, limit: int) -> list[_Found]:
    """The points inside ``shape``, cell by cell in Redis's order and by score in each; with a
    ``limit`` (COUNT ANY), the first that many."""
    found: list[_Found] = []
    inside = shape.judge()
    for low, high in search_ranges(shape):
        if limit and len(found) >= limit:
            break
        span = zset.score_span(ScoreRange(float(low), False, float(high), True))
        for member, score in zset.read(span):
            longitude, latitude = decode(score)
            metres = inside(longitude, latitude)
            if metres is not None:
                found.append((member, score, longitude, latitude, metres))
                if limit and len(found) >= limit:
                    break
    return found


def _ascending(a: _Found, b: _Found) -> int:
    return (a[4] > b[4]) - (a[4] < b[4])


def _descending(a: _Found, b: _Found) -> int:
    return (a[4] < b[4]) - (a[4] > b[4])


def _search(
    ctx: Client,
    center: _Center,
    source: bytes,
    fixed: tuple[bytes, ...],
    options: tuple[bytes, ...],
    storing: bool = False,
    destination: bytes | None = None,
) -> object:
    """Every search form: the source's type, the centre and size of a GEORADIUS form, the
    options, their conflicts; then the points found, sorted, replied or stored."""
    zset = ctx.db.get_zset(source)
    query = _Query(center, storing, destination)
    if center is _Center.POINT:
        query.point = _point(fixed[0], fixed[1])
        _radius(query, fixed[2], fixed[3])
    elif center is _Center.MEMBER and zset is not None:
        query.point = _member_point(zset, fixed[0])
        _radius(query, fixed[1], fixed[2])
    _options(query, zset, options)
    _check(query)
    if zset is None:
        return [] if query.destination is None else _store(ctx, query, [])
    if query.count and not query.order and not query.any:
        query.order = 1  # the nearest COUNT
    found = _find(zset, query.shape(), query.count if query.any else 0)
    wanted = min(query.count, len(found)) if query.count else len(found)
    if query.order and wanted == len(found):
        found.sort(key=lambda point: point[4], reverse=query.order < 0)
    elif query.order:
        partial_sort(found, wanted, _ascending if query.order > 0 else _descending)
    if query.destination is not None:
        return _store(ctx, query, found[:wanted])
    return [_entry(ctx, query, point) for point in found[:wanted]]


def _entry(ctx: Client, query: _Query, point: _Found) -> object:
    """A result: the member, or [member, distance?, hash?, [longitude, latitude]?]."""
    member, score, longitude, latitude, metres = point
    if not (query.withdist or query.withhash or query.withcoord):
        return member
    entry: list[object] = [member]
    if query.withdist:
        entry.append(distance_text(metres / query.conversion))
    if query.withhash:
        entry.append(as_int64(score))
    if query.withcoord:
        entry.append([_coordinate(ctx, longitude), _coordinate(ctx, latitude)])
    return entry


def _store(ctx: Client, query: _Query, found: list[_Found]) -> int:
    """Store the results as a sorted set (scores: their hashes, or with STOREDIST their
    distances), one change per member; or delete the destination if there are none. The
    event is "geosearchstore" for GEOSEARCHSTORE, "georadiusstore" for the older forms."""
    assert query.destination is not None
    items = [
        (point[0], point[4] / query.conversion if query.store_distances else point[1])
        for point in found
    ]
    searching = query.center is _Center.OPTIONS
    event = b"geosearchstore" if searching else b"georadiusstore"
    return store_result(ctx, query.destination, items, event, dirty=len(items))


# GEOSEARCH's and GEOSEARCHSTORE's centre, shape and order, and the start of their summary.
_AREA = (
    "<FROMMEMBER member | FROMLONLAT <longitude latitude>> <<BYRADIUS radius <M | KM | FT | "
    "MI>> | <BYBOX width height <M | KM | FT | MI>>> [ASC | DESC] [COUNT count [ANY]]"
)
_SEARCH_SUMMARY = (
    "Query a sorted set representing a geospatial index to fetch members inside an area of a "
    "box or a circle"
)
_SEARCH_META = dict(
    group="geo",
    since="6.2.0",
    complexity="O(N+log(M)) where N is the number of elements in the grid-aligned bounding box "
    "area around the shape provided as the filter and M is the number of items "
    "inside the shape",
    history=(("7.0.0", "Added support for uppercase unit names."),),
)


@command(
    "geosearch",
    f"key {_AREA} [WITHCOORD] [WITHDIST] [WITHHASH]",
    arity=-7,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    summary=f"{_SEARCH_SUMMARY}.",
    **_SEARCH_META,
)
def geosearch(ctx: Client, key: bytes, *options: bytes) -> object:
    """The members inside a circle or a box around a member or a point."""
    return _search(ctx, _Center.OPTIONS, key, (), options)


@command(
    "geosearchstore",
    f"destination source {_AREA} [STOREDIST]",
    arity=-8,
    flags="write denyoom",
    keys=(1, 2, 1),
    key_flags="OW update | RO access",
    summary=f"{_SEARCH_SUMMARY}, and store the result in another key.",
    **_SEARCH_META,
)
def geosearchstore(ctx: Client, destination: bytes, source: bytes, *options: bytes) -> object:
    """GEOSEARCH's result stored at ``destination`` (scores: hashes, or STOREDIST distances);
    how many members it has."""
    return _search(ctx, _Center.OPTIONS, source, (), options, destination=destination)


_RADIUS_META = dict(
    group="geo",
    complexity="O(N+log(M)) where N is the number of elements inside the bounding box of the "
    "circular area delimited by center and radius and M is the number of items "
    "inside the index.",
)


@command(
    "georadius_ro",
    "key longitude latitude radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] "
    "[WITHHASH] [COUNT count [ANY]] [ASC | DESC]",
    arity=-6,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    since="3.2.10",
    summary="A read-only variant for GEORADIUS",
    history=(("6.2.0", "Added the `ANY` option for `COUNT`."),),
    deprecated=("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument"),
    **_RADIUS_META,
)
def georadius_ro(ctx: Client, key: bytes, *args: bytes) -> object:
    """GEOSEARCH FROMLONLAT BYRADIUS in GEORADIUS's older syntax."""
    return _search(ctx, _Center.POINT, key, args[:4], args[4:])


@command(
    "georadiusbymember_ro",
    "key member radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT "
    "count [ANY]] [ASC | DESC]",
    arity=-5,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    since="3.2.10",
    summary="A read-only variant for GEORADIUSBYMEMBER",
    deprecated=("6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"),
    **_RADIUS_META,
)
def georadiusbymember_ro(ctx: Client, key: bytes, *args: bytes) -> object:
    """GEOSEARCH FROMMEMBER BYRADIUS in GEORADIUSBYMEMBER's older syntax."""
    return _search(ctx, _Center.MEMBER, key, args[:3], args[3:])


_STORING_META = dict(
    flags="write denyoom movablekeys",
    keys=(1, 1, 1),
    key_flags="RO access | OW update | OW update",
    since="3.2.0",
    **_RADIUS_META,
)


@command(
    "georadius",
    "key longitude latitude radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] "
    "[WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]",
    arity=-6,
    keyword_keys=(("STORE", 6), ("STOREDIST", 6)),
    summary="Query a sorted set representing a geospatial index to fetch members matching a "
    "given maximum distance from a point",
    history=(
        ("6.2.0", "Added the `ANY` option for `COUNT`."),
        ("7.0.0", "Added support for uppercase unit names."),
    ),
    deprecated=("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument"),
    **_STORING_META,
)
def georadius(ctx: Client, key: bytes, *args: bytes) -> object:
    """GEORADIUS_RO that may also store its result (STORE: hashes, STOREDIST: distances)."""
    return _search(ctx, _Center.POINT, key, args[:4], args[4:], storing=True)


@command(
    "georadiusbymember",
    "key member radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT "
    "count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]",
    arity=-5,
    keyword_keys=(("STORE", 5), ("STOREDIST", 5)),
    summary="Query a sorted set representing a geospatial index to fetch members matching a "
    "given maximum distance from a member",
    history=(("7.0.0", "Added support for uppercase unit names."),),
    deprecated=(
        "6.2.0",
        "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
    ),
    **_STORING_META,
)
def georadiusbymember(ctx: Client, key: bytes, *args: bytes) -> object:
    """GEORADIUSBYMEMBER_RO that may also store its result (STORE: hashes, STOREDIST:
    distances)."""
    return _search(ctx, _Center.MEMBER, key, args[:3], args[3:], storing=True)
