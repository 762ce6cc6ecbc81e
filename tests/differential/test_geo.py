"""Geo commands (GEOADD GEOPOS GEODIST GEOHASH GEOSEARCH GEOSEARCHSTORE GEORADIUS
GEORADIUSBYMEMBER and the _RO forms) against redis-server 7.0.15, RESP2 and RESP3: replies and
errors byte for byte (coordinates, distances, hashes, and the order of unsorted results), the
order of checks, the changes each write counts, the AOF, and random points and searches (a
hypothesis state machine)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from tests.conftest import Diff, RawConnection, parse
from tests.helpers.differential import assert_changes_as_redis, run_on_both
from tests.helpers.persistence import logged_by_both

pytestmark = pytest.mark.differential

SICILY = (
    "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania "
    "13.583333 37.316667 Agrigento"
)
WORLD = (
    "GEOADD w 0 0 origin 180 0 east -180 0 west 179.9999 1 ne -179.9999 -1 sw "
    "0 85.05112878 top 0 -85.05112878 bottom 180 85.05112878 corner -180 -85.05112878 far "
    "2.3522 48.8566 paris -0.1276 51.5072 london -74.006 40.7128 ny 139.6917 35.6895 tokyo "
    "151.2093 -33.8688 sydney -70.6693 -33.4489 santiago 25 84 svalbard -45 -84 antarctic "
    "179.5 10 fiji -179.5 10 samoa 0.001 0.001 near 0 0.0001 nearer"
)


def test_geoadd_options_and_replies(play):
    play(
        f"""
        {SICILY}
        ZRANGE Sicily 0 -1 WITHSCORES
        GEOADD Sicily 13.361389 38.115556 Palermo
        GEOADD Sicily CH 13.361389 38.115556 Palermo 13.4 38.1 Palermo2
        GEOADD Sicily CH 13.361389 38.2 Palermo
        GEOADD Sicily NX 13 38 Palermo 14 37 Enna
        GEOADD Sicily XX 13 38 Palermo 14 36 Ragusa
        GEOADD Sicily XX CH 13.361389 38.115556 Palermo
        GEOADD Sicily ch nx 15 37 new
        GEOADD Sicily Xx cH 15.1 37 new 15 37 other
        GEOADD fresh XX 1 1 a
        EXISTS fresh
        ZRANGE Sicily 0 -1 WITHSCORES
        GEOADD Sicily NX XX 1 1 a
        GEOADD Sicily 1 1
        GEOADD Sicily 1 1 a 2
        GEOADD Sicily CH 1 1
        GEOADD Sicily CH CH CH
        GEOADD Sicily NX NX NX
        GEOADD Sicily GT 1 1 a
        GEOADD Sicily INCR 1 1 a
        GEOADD Sicily x 1 a
        GEOADD Sicily 1 x a
        GEOADD Sicily 1 2 a x 1 b
        GEOADD Sicily 1 2 a 200 1 b
        EXISTS b
        GEOADD Sicily 181 1 a
        GEOADD Sicily -180.0000001 1 a
        GEOADD Sicily 0 85.05112879 a
        GEOADD Sicily 0 -85.05112879 a
        GEOADD Sicily 0 90 pole
        GEOADD Sicily 0 -90 pole
        GEOADD Sicily inf 0 a
        GEOADD Sicily 0 -inf a
        GEOADD Sicily 1e300 -1e-7 a
        GEOADD Sicily 0x10 0 a
        GEOADD Sicily " 1" 0 a
        GEOADD Sicily 1e400 0 a
        GEOADD Sicily nan 0 a
        GEOADD Sicily 1 2
        GEOADD Sicily
        SET str x
        GEOADD str 1 1 a
        GEOADD str 1 200 a
        GEOADD str XX NX 1 1 a
        """
    )


def test_geopos_geohash_geodist(play):
    play(
        f"""
        {SICILY}
        {WORLD}
        GEOPOS Sicily Palermo Catania nowhere Agrigento
        GEOPOS Sicily
        GEOPOS missing a b
        GEOPOS w origin east west ne sw top bottom corner far paris london ny tokyo sydney
        GEOPOS w santiago svalbard antarctic fiji samoa near nearer
        GEOHASH Sicily Palermo Catania nowhere
        GEOHASH w origin east west ne sw top bottom corner far paris london ny tokyo sydney
        GEOHASH w santiago svalbard antarctic fiji samoa near nearer
        GEOHASH missing a
        GEOHASH Sicily
        GEODIST Sicily Palermo Catania
        GEODIST Sicily Palermo Catania km
        GEODIST Sicily Palermo Catania KM
        GEODIST Sicily Palermo Catania mi
        GEODIST Sicily Palermo Catania Ft
        GEODIST Sicily Palermo Catania M
        GEODIST Sicily Palermo Palermo
        GEODIST Sicily Palermo nowhere
        GEODIST Sicily nowhere Palermo km
        GEODIST missing a b
        GEODIST missing a b furlongs
        GEODIST Sicily Palermo Catania furlongs
        GEODIST Sicily Palermo Catania km extra
        GEODIST w east west
        GEODIST w ne sw mi
        GEODIST w top bottom
        GEODIST w origin near
        GEODIST w origin nearer
        GEODIST w fiji samoa
        GEODIST w paris sydney km
        SET str x
        GEOPOS str a
        GEOHASH str a
        GEODIST str a b
        GEODIST str a b furlongs
        GEOPOS
        GEOHASH
        GEODIST w a
        """
    )


def test_odd_scores_decode_as_in_redis(play):
    """Members added by plain ZADD: any score decodes (as C casts it to a 64-bit integer)."""
    play(
        """
        ZADD z 1e20 a -1 b 0.5 c 4503599627370496 d 9007199254740992 e -1e20 f 1e300 g
        ZADD z 1e-300 h -0.5 i 4503599627370495.5 j 18446744073709551616 k inf l -inf m
        ZADD z 9223372036854775808 n -9223372036854775808 o 123456789.75 p 0 q -0 r
        ZADD z 4503599627370497 s 3479099956230698 t 3479099956230698.5 u
        GEOPOS z a b c d e f g h i j k l m n o p q r s t u
        GEOHASH z a b c d e f g h i j k l m n o p q r s t u
        GEODIST z a b
        GEODIST z d e km
        GEODIST z p t
        GEOSEARCH z FROMMEMBER t BYRADIUS 100 km WITHHASH WITHCOORD
        GEOSEARCH z FROMMEMBER p BYBOX 1000 1000 km WITHHASH WITHCOORD WITHDIST
        GEOSEARCH z FROMLONLAT 0 0 BYRADIUS 20000 km ASC WITHHASH
        GEORADIUSBYMEMBER z b 50 km WITHHASH
        """
    )


def test_search_forms_and_options(play):
    play(
        f"""
        {SICILY}
        GEOADD Sicily 14.5 37.6 Enna 15.2 36.9 Noto 12.5 37.8 Marsala 13.5 38.0 Corleone
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km DESC
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 2
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 2 DESC
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 2 ANY
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 3 ANY DESC
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 100
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 100 ANY
        GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 100 km
        GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 0 km
        GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km ASC
        GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 200 20 km
        GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 0 0 m
        GEOSEARCH Sicily FROMLONLAT 14 37.5 BYBOX 150 100 km DESC
        GEOSEARCH Sicily FROMLONLAT 14 37.5 BYBOX 100 150 mi WITHDIST
        GEOSEARCH Sicily FROMLONLAT 14 37.5 BYRADIUS 400000 ft WITHDIST
        GEOSEARCH Sicily FROMLONLAT 14 37.5 BYRADIUS 200000 M WITHDIST
        GEOSEARCH Sicily FROMLONLAT 14 37.5 byradius 200 Km withdist asc count 3
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km
        GEOSEARCH missing FROMLONLAT 0 0 BYRADIUS 1 km
        GEOSEARCH missing FROMMEMBER x BYRADIUS 1 km
        GEOSEARCH Sicily FROMMEMBER Palermo FROMMEMBER Catania BYRADIUS 100 km
        GEOSEARCH Sicily FROMLONLAT 1 1 FROMLONLAT 15 37 BYRADIUS 100 km
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km BYRADIUS 100 km
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km BYBOX 100 100 km
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 100 km ASC DESC
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 COUNT 3
        GEORADIUS Sicily 15 37 200 km
        GEORADIUS Sicily 15 37 200 km ASC COUNT 2
        GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH COUNT 4 DESC
        GEORADIUS_RO Sicily 15 37 200 km WITHDIST
        GEORADIUS_RO Sicily 15 37 200 km COUNT 1 ANY
        GEORADIUSBYMEMBER Sicily Palermo 100 km
        GEORADIUSBYMEMBER Sicily Palermo 100 km WITHDIST ASC
        GEORADIUSBYMEMBER_RO Sicily Catania 200 km WITHCOORD DESC COUNT 3
        GEORADIUSBYMEMBER_RO Sicily Catania 200 km WITHCOORD COUNT 3 ANY
        GEORADIUSBYMEMBER missing nobody 100 km
        GEORADIUSBYMEMBER missing nobody x y
        GEORADIUSBYMEMBER_RO missing nobody -1 km WITHDIST
        """
    )


WITH = ["WITHDIST", "WITHHASH", "WITHCOORD"]


def test_every_combination_of_with_options(diff):
    for line in (SICILY, WORLD):
        diff.do(*line.split())
    for mask in range(8):
        chosen = [word for bit, word in enumerate(WITH) if mask >> bit & 1]
        for order in ([], ["ASC"], ["DESC"]):
            diff.do("GEOSEARCH", "Sicily", "FROMLONLAT", "14", "37.5", "BYRADIUS", "200", "km",
                    *order, *chosen)  # fmt: skip
            diff.do("GEOSEARCH", "w", "FROMMEMBER", "origin", "BYBOX", "30000", "20000", "km",
                    *order, *chosen, "COUNT", "5")  # fmt: skip
            diff.do("GEORADIUS", "w", "0", "0", "12000", "km", *chosen, *order)
            diff.do("GEORADIUSBYMEMBER_RO", "w", "fiji", "500", "km", *chosen, *order)
        everything = ("GEOSEARCH", "w", "FROMLONLAT", "0", "0", "BYRADIUS", "9000", "km")
        diff.do(*everything, *reversed(chosen))


@pytest.mark.parametrize(
    "center",
    [
        ("0", "0"),
        ("180", "0"),
        ("-180", "0"),
        ("179.9", "10"),
        ("-179.9", "-10"),
        ("0", "85.05112878"),
        ("0", "-85.05112878"),
        ("100", "84"),
        ("-40", "-70"),
        ("2.35", "48.85"),
        ("30", "67"),
    ],
)
def test_searches_of_many_sizes(diff, center):
    """Radii and boxes from a metre to the whole globe, near the antimeridian and the poles:
    the same members in the same order (unsorted: the order the cells are read in)."""
    diff.do(*WORLD.split())
    points = []
    for i in range(60):
        longitude = -180 + (i * 37.7) % 360
        latitude = -85 + (i * 13.3) % 170
        points += [f"{longitude:.4f}", f"{latitude:.4f}", f"p{i}"]
    diff.do("GEOADD", "w", *points)
    longitude, latitude = center
    for size in ["0", "1", "150", "5000", "80000", "400000", "1500000", "5000000", "12000000",
                 "20000000", "40000000"]:  # fmt: skip
        diff.do("GEOSEARCH", "w", "FROMLONLAT", longitude, latitude, "BYRADIUS", size, "m")
        diff.do("GEOSEARCH", "w", "FROMLONLAT", longitude, latitude, "BYBOX", size, size, "m",
                "WITHDIST")  # fmt: skip
        diff.do("GEOSEARCH", "w", "FROMLONLAT", longitude, latitude, "BYBOX", size, "100000",
                "m", "DESC")  # fmt: skip
        diff.do("GEORADIUS", "w", longitude, latitude, size, "m", "WITHDIST", "COUNT", "7")


def test_search_errors_in_redis_order(play):
    play(
        f"""
        {SICILY}
        SET str x
        GEOSEARCH str FROMLONLAT 500 0 BYRADIUS x km
        GEOSEARCH Sicily FROMLONLAT 500 0 BYRADIUS 1 km
        GEOSEARCH Sicily FROMLONLAT x 0 BYRADIUS 1 km
        GEOSEARCH Sicily FROMLONLAT 0 y BYRADIUS 1 km
        GEOSEARCH Sicily FROMLONLAT 0 90 BYRADIUS 1 km
        GEOSEARCH Sicily FROMMEMBER nobody BYRADIUS 1 km
        GEOSEARCH Sicily FROMMEMBER nobody BYRADIUS x km
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS x km
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS -1 km
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 parsecs
        GEOSEARCH Sicily FROMLONLAT 0 0 BYBOX x 1 km
        GEOSEARCH Sicily FROMLONLAT 0 0 BYBOX 1 y km
        GEOSEARCH Sicily FROMLONLAT 0 0 BYBOX -1 1 km
        GEOSEARCH Sicily FROMLONLAT 0 0 BYBOX 1 -1 km
        GEOSEARCH Sicily FROMLONLAT 0 0 BYBOX 1 1 parsecs
        GEOSEARCH Sicily FROMLONLAT 0 0 BYBOX 1 1
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1
        GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 0 0 BYRADIUS 1 km
        GEOSEARCH Sicily FROMLONLAT 0 0 FROMMEMBER Palermo BYRADIUS 1 km
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km BYBOX 1 1 km
        GEOSEARCH Sicily FROMLONLAT 0 0 BYBOX 1 1 km BYRADIUS 1 km
        GEOSEARCH Sicily BYRADIUS 1 km ASC
        GeoSearch Sicily BYRADIUS 1 km ASC DESC
        GEOSEARCH Sicily FROMLONLAT 0 0 ASC DESC
        geosearch Sicily FROMMEMBER Palermo WITHDIST ASC
        GEOSEARCH missing BYRADIUS 1 km ASC
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km ANY
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km COUNT 0
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km COUNT -3
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km COUNT x
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km COUNT 1.5
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km COUNT
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km STORE x
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km STOREDIST
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km bogus
        GEOSEARCH missing FROMLONLAT 0 0 BYRADIUS 1 km ANY
        GEOSEARCH missing FROMLONLAT 0 0 BYRADIUS 1 km COUNT 0
        GEOSEARCH missing FROMMEMBER a BYRADIUS 1 km bogus
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1 km ANY bogus
        GEOSEARCHSTORE d Sicily FROMLONLAT 0 0 BYRADIUS 1 km WITHDIST
        geosearchstore d Sicily FROMLONLAT 0 0 WITHCOORD ASC
        GEOSEARCHSTORE d Sicily FROMLONLAT 0 0 BYRADIUS 1 km STORE x
        GEOSEARCHSTORE d Sicily BYRADIUS 1 km ASC
        GEOSEARCHSTORE d str FROMLONLAT 0 0 BYRADIUS 1 km
        GEORADIUS Sicily 500 0 1 km
        GEORADIUS Sicily 0 0 x km
        GEORADIUS Sicily 0 0 -1 km
        GEORADIUS Sicily 0 0 1 parsecs
        GEORADIUS Sicily 0 0 1 km WITHDIST STORE x
        GEORADIUS Sicily 0 0 1 km STOREDIST x WITHHASH
        GEORADIUS Sicily 0 0 1 km STORE
        GEORADIUS Sicily 0 0 1 km FROMLONLAT 0 0
        GEORADIUS Sicily 0 0 1 km BYRADIUS 1 km
        GEORADIUS Sicily 0 0 1 km ANY
        GEORADIUS Sicily 0 0 1 km COUNT 0
        GEORADIUS str 500 0 1 km
        GEORADIUS_RO Sicily 0 0 1 km STORE x
        GEORADIUS_RO Sicily 0 0 1 km STOREDIST x
        GEORADIUSBYMEMBER Sicily nobody 1 km
        GEORADIUSBYMEMBER Sicily nobody x km
        GEORADIUSBYMEMBER Sicily Palermo x km
        GEORADIUSBYMEMBER Sicily Palermo 1 parsecs
        GEORADIUSBYMEMBER Sicily Palermo 1 km WITHCOORD STORE x
        GEORADIUSBYMEMBER_RO Sicily Palermo 1 km STORE x
        GEORADIUSBYMEMBER str nobody 1 km
        GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 1
        GEOSEARCHSTORE d Sicily FROMLONLAT 0 0 BYRADIUS 1
        GEORADIUS Sicily 0 0 1
        GEORADIUSBYMEMBER Sicily Palermo 1
        EXISTS d x
        """
    )


def test_store_and_storedist(play):
    play(
        f"""
        {SICILY}
        GEOADD Sicily 14.5 37.6 Enna 15.2 36.9 Noto 12.5 37.8 Marsala
        GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 200 km
        ZRANGE d 0 -1 WITHSCORES
        OBJECT ENCODING d
        GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST
        ZRANGE d 0 -1 WITHSCORES
        GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYBOX 300 300 mi STOREDIST DESC COUNT 2
        ZRANGE d 0 -1 WITHSCORES
        GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYRADIUS 100 km COUNT 1 ANY
        ZRANGE d 0 -1 WITHSCORES
        SET d x EX 100
        GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYRADIUS 100 km
        TTL d
        TYPE d
        GEOSEARCHSTORE d Sicily FROMLONLAT 0 0 BYRADIUS 1 km
        EXISTS d
        GEOSEARCHSTORE d Sicily FROMLONLAT 0 0 BYRADIUS 1 km
        GEOSEARCHSTORE d missing FROMLONLAT 0 0 BYRADIUS 1 km
        SET d x
        GEOSEARCHSTORE d missing FROMMEMBER x BYRADIUS 1 km
        EXISTS d
        GEOSEARCHSTORE Sicily Sicily FROMMEMBER Palermo BYRADIUS 100 km STOREDIST
        ZRANGE Sicily 0 -1 WITHSCORES
        GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
        GEORADIUS Sicily 15 37 200 km STORE r
        ZRANGE r 0 -1 WITHSCORES
        GEORADIUS Sicily 15 37 200 km STOREDIST r2 COUNT 2
        ZRANGE r2 0 -1 WITHSCORES
        GEORADIUS Sicily 15 37 200 mi STORE r STOREDIST r3
        ZRANGE r3 0 -1 WITHSCORES
        EXISTS r
        GEORADIUS Sicily 15 37 200 ft STORE r
        EXISTS r
        GEORADIUSBYMEMBER Sicily Palermo 200 km STOREDIST r4 DESC
        ZRANGE r4 0 -1 WITHSCORES
        GEORADIUSBYMEMBER missing Palermo 200 km STORE r4
        EXISTS r4
        GEORADIUSBYMEMBER Sicily Palermo 200 km store r5 asc count 2
        ZRANGE r5 0 -1 WITHSCORES
        """
    )


def test_big_results_store_as_a_skiplist(play):
    points = " ".join(f"{i * 0.01:.2f} {i * 0.005:.3f} m{i}" for i in range(200))
    play(
        f"""
        GEOADD big {points}
        GEOSEARCHSTORE d big FROMLONLAT 0 0 BYRADIUS 2000 km
        OBJECT ENCODING d
        GEOSEARCHSTORE d big FROMLONLAT 0 0 BYRADIUS 2000 km COUNT 128
        OBJECT ENCODING d
        ZRANGE d 0 5 WITHSCORES
        GEOSEARCH big FROMLONLAT 0.5 0.25 BYRADIUS 30 km
        GEOSEARCH big FROMLONLAT 0.5 0.25 BYBOX 60 30 km COUNT 20 WITHDIST
        OBJECT ENCODING big
        """
    )


def test_equal_distances_keep_redis_order(play):
    """Many members at the same point (so equal distances): the order Redis's sorts leave them
    in, full sorts (stable) and partial ones (COUNT: Redis's quicksort)."""
    same = " ".join(f"10 20 s{i}" for i in range(60))
    ring = " ".join(f"{10 + (i % 3) * 0.01} 20 r{i}" for i in range(60))
    play(
        f"""
        GEOADD e {same} {ring}
        GEOSEARCH e FROMLONLAT 10 20 BYRADIUS 5 km
        GEOSEARCH e FROMLONLAT 10 20 BYRADIUS 5 km ASC
        GEOSEARCH e FROMLONLAT 10 20 BYRADIUS 5 km DESC
        GEOSEARCH e FROMLONLAT 10 20 BYRADIUS 5 km COUNT 1
        GEOSEARCH e FROMLONLAT 10 20 BYRADIUS 5 km COUNT 7
        GEOSEARCH e FROMLONLAT 10 20 BYRADIUS 5 km COUNT 50
        GEOSEARCH e FROMLONLAT 10 20 BYRADIUS 5 km COUNT 75 DESC
        GEOSEARCH e FROMLONLAT 10 20 BYRADIUS 5 km COUNT 119 WITHDIST
        GEOSEARCH e FROMLONLAT 10.005 20 BYRADIUS 5 km COUNT 41 DESC
        GEOSEARCH e FROMLONLAT 10.005 20 BYRADIUS 5 km COUNT 3 ANY ASC
        GEOSEARCH e FROMLONLAT 10.005 20 BYRADIUS 5 km COUNT 30 ANY DESC
        GEOSEARCHSTORE d e FROMLONLAT 10.01 20 BYRADIUS 5 km COUNT 33 STOREDIST
        ZRANGE d 0 -1 WITHSCORES
        """
    )


def test_inside_a_transaction(play):
    """The name in GEOSEARCH's errors is the one the client typed, inside MULTI too."""
    play(
        f"""
        MULTI
        {SICILY}
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD
        gEoSeArCh Sicily BYRADIUS 1 km ASC
        GEOPOS Sicily Palermo
        EXEC
        """
    )


WRITES = [
    tuple(SICILY.split()),
    ("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"),
    ("GEOADD", "Sicily", "CH", "13.4", "38.115556", "Palermo", "1", "1", "x"),
    ("GEOADD", "Sicily", "NX", "13.5", "38.115556", "Palermo"),
    ("GEOADD", "Sicily", "XX", "13.5", "38.115556", "Palermo", "2", "2", "y"),
    ("GEOADD", "Sicily", "1", "200", "z"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "-50", "37", "BYRADIUS", "1", "km"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "-50", "37", "BYRADIUS", "1", "km"),
    ("GEOSEARCHSTORE", "d", "nokey", "FROMLONLAT", "-50", "37", "BYRADIUS", "1", "km"),
    ("SET", "d", "x"),
    ("GEOSEARCHSTORE", "d", "nokey", "FROMLONLAT", "-50", "37", "BYRADIUS", "1", "km"),
    ("GEORADIUS", "Sicily", "15", "37", "300", "km", "STOREDIST", "r", "COUNT", "2"),
    ("GEORADIUS", "Sicily", "15", "37", "300", "km"),
    ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "300", "km", "STORE", "r"),
    ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "1", "m", "STORE", "r"),
    ("GEORADIUSBYMEMBER", "nokey", "Palermo", "1", "m", "STORE", "r"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km"),
    ("SET", "end", "1"),
]


def test_changes_count_as_in_redis(diff):
    """A GEOADD counts as its ZADD; a stored result one change per member, an emptied
    destination one."""
    assert_changes_as_redis(diff, WRITES)


def test_the_aof_logs_geo_writes_as_redis_does(tmp_path):
    """GEOADD is logged as the ZADD it amounts to (options as sent); the searches that store
    as they were sent; nothing that changed nothing."""

    def send(conn: RawConnection) -> None:
        for args in WRITES:
            conn.call(*args)

    logs = logged_by_both(tmp_path, send)
    assert logs[0] == logs[1]
    assert logs[0][1][:4] == [b"zadd", b"Sicily", b"3479099956230698", b"Palermo"]
    assert [b"zadd", b"Sicily", b"CH"] in [argv[:3] for argv in logs[0]]
    assert [b"zadd", b"Sicily", b"NX"] not in [argv[:3] for argv in logs[0]]
    assert b"GEOSEARCH" not in [argv[0] for argv in logs[0]]
    assert logs[0][-1] == [b"SET", b"end", b"1"]


def test_geo_key_positions(diff):
    """COMMAND GETKEYSANDFLAGS: GEORADIUS's STORE and STOREDIST keys are found after the
    keyword, GEOSEARCHSTORE's destination is written and its source read."""
    for args in [
        ("GEOADD", "k", "1", "1", "m"),
        ("GEOSEARCHSTORE", "d", "s", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
        ("GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d"),
        ("GEORADIUS", "k", "0", "0", "1", "km", "STOREDIST", "d"),
        ("GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d", "STOREDIST", "e"),
        ("GEORADIUS", "k", "0", "0", "1", "km", "WITHDIST"),
        ("GEORADIUSBYMEMBER", "k", "m", "1", "km", "STORE", "d"),
        ("GEORADIUSBYMEMBER", "k", "m", "1", "km", "COUNT", "1", "STOREDIST", "d"),
        ("GEORADIUS_RO", "k", "0", "0", "1", "km"),
    ]:
        diff.do("COMMAND", "GETKEYSANDFLAGS", *args)


# --- random points and searches -------------------------------------------------------------------

MEMBERS = st.sampled_from([f"m{i}" for i in range(12)])
# Coordinates from a coarse grid (so points coincide, and distances tie) and anywhere valid.
LONGITUDES = st.integers(-8, 8).map(lambda i: str(i * 22.5)) | st.floats(-180, 180).map(repr)
LATITUDES = st.integers(-8, 8).map(lambda i: str(i * 10.5)) | st.floats(
    -85.05112878, 85.05112878
).map(repr)
SIZES = st.sampled_from(["0", "10", "1000", "50000", "500000", "2500000", "8000000", "30000000"])
UNIT_NAMES = st.sampled_from(["m", "km", "ft", "mi", "KM", "Mi"])
ORDERS = st.sampled_from([[], ["ASC"], ["DESC"]])
COUNTS = st.sampled_from(
    [[], ["COUNT", "1"], ["COUNT", "3"], ["COUNT", "7", "ANY"], ["COUNT", "2"]]
)
WITHS = st.lists(st.sampled_from(WITH), unique=True, max_size=3)


class GeoMachine(RuleBasedStateMachine):
    """Random points in one index, "g", searched around random points and members; every reply
    compared whole, its order included."""

    diff: Diff

    @initialize()
    def start(self) -> None:
        self.diff.do("GEOADD", "g", "0", "0", "m0")

    @rule(points=st.lists(st.tuples(LONGITUDES, LATITUDES, MEMBERS), min_size=1, max_size=6))
    def geoadd(self, points):
        self.diff.do("GEOADD", "g", *[word for point in points for word in point])

    @rule(
        points=st.lists(
            st.tuples(st.integers(-2, 2), st.integers(-2, 2), st.integers(0, 39)), max_size=30
        )
    )
    def crowd(self, points):
        """Many points a few metres apart, many at the same place: ties for COUNT's sort."""
        words = [f"{10 + x * 0.0001} {20 + y * 0.0001} c{i}".split() for x, y, i in points]
        self.diff.do("GEOADD", "g", "10", "20", "c0", *[word for point in words for word in point])
        for count in ("1", "5", "17", "33"):
            self.diff.do("GEOSEARCH", "g", "FROMLONLAT", "10", "20", "BYBOX", "80", "60", "m",
                         "COUNT", count, "WITHDIST")  # fmt: skip
            self.diff.do("GEORADIUS_RO", "g", "10.0001", "20", "30", "m", "COUNT", count, "DESC")

    @rule(member=MEMBERS)
    def zrem(self, member):
        self.diff.do("ZREM", "g", member)

    @rule(
        longitude=LONGITUDES,
        latitude=LATITUDES,
        size=SIZES,
        box=st.none() | SIZES,
        unit=UNIT_NAMES,
        order=ORDERS,
        count=COUNTS,
        withs=WITHS,
    )
    def search_around_a_point(self, longitude, latitude, size, box, unit, order, count, withs):
        shape = ["BYRADIUS", size, unit] if box is None else ["BYBOX", size, box, unit]
        options = [*order, *count, *withs]
        self.diff.do("GEOSEARCH", "g", "FROMLONLAT", longitude, latitude, *shape, *options)
        if box is None:
            self.diff.do("GEORADIUS_RO", "g", longitude, latitude, size, unit, *options)

    @rule(member=MEMBERS, size=SIZES, box=st.none() | SIZES, order=ORDERS, count=COUNTS)
    def search_around_a_member(self, member, size, box, order, count):
        shape = ["BYRADIUS", size, "m"] if box is None else ["BYBOX", size, box, "m"]
        self.diff.do("GEOSEARCH", "g", "FROMMEMBER", member, *shape, *order, *count, "WITHDIST")
        self.diff.do("GEORADIUSBYMEMBER", "g", member, size, "m", *order, *count, "STORE", "s")
        self.diff.do("ZRANGE", "s", "0", "-1", "WITHSCORES")

    @rule(first=MEMBERS, second=MEMBERS, unit=UNIT_NAMES)
    def geodist(self, first, second, unit):
        self.diff.do("GEODIST", "g", first, second, unit)

    @rule(members=st.lists(MEMBERS, max_size=4))
    def inspect(self, members):
        self.diff.do("GEOPOS", "g", *members)
        self.diff.do("GEOHASH", "g", *members)


@pytest.mark.parametrize("protocol", [2, 3])
def test_random_points_and_searches_match_redis(resp_port, redis_port, protocol):
    run_on_both(GeoMachine, resp_port, redis_port, protocol)


def test_replies_are_typed_as_redis_types_them(resp_port):
    """RESP3: coordinates are doubles, distances bulk strings, hashes integers."""
    conn = RawConnection(resp_port)
    conn.call("HELLO", "3")
    conn.call("FLUSHALL")
    conn.call(*SICILY.split())
    raw = conn.call("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "m",
                    "WITHDIST", "WITHHASH", "WITHCOORD")  # fmt: skip
    assert raw == (
        b"*1\r\n*4\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n:3479099956230698\r\n"
        b"*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n"
    )
    assert parse(conn.call("GEODIST", "Sicily", "Palermo", "Catania", "km")) == b"166.2742"
    conn.close()


@pytest.mark.parametrize(
    ("longitude", "latitude", "radius"),
    [(1.48, -78.64, 300), (102.75, -65.0, 1000), (107.35, -61.19, 300), (72.2, -65.54, 300)],
)
def test_southern_searches_read_the_cells_redis_reads(diff, longitude, latitude, radius):
    """South of the equator the search's bounds widen toward the pole: it decides how finely
    the grid is cut, so which cells are read, and so the order of unsorted results."""
    points = []
    for i in range(-6, 7):
        for j in range(-6, 7):
            x = min(max(longitude + i * 2.2 * radius / 300, -180), 180)
            y = min(max(latitude + j * 0.6 * radius / 300, -85), 85)
            points += [f"{x:.5f}", f"{y:.5f}", f"p{i}_{j}"]
    diff.do("GEOADD", "s", *points)
    for share in (0.5, 1, 1.5):
        size = str(radius * share)
        diff.do("GEOSEARCH", "s", "FROMLONLAT", longitude, latitude, "BYRADIUS", size, "km")
        diff.do("GEORADIUS", "s", longitude, latitude, size, "km", "COUNT", "20", "ANY")
