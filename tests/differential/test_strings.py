"""Differential tests of the string commands against redis-server (RESP2 and RESP3)."""

from __future__ import annotations

import random
import time

import pytest

from tests.helpers.differential import close_ints

WRONG_TYPE_SETUP = ("HSET", "h", "f", "v")


def test_set_and_get(diff, play):
    play("""
        SET k v
        GET k
        SET k other
        GET k
        GET missing
        SET "" empty
        GET ""
        SET k
        GET
        GET a b
        set K V
        gEt K
    """)
    diff.do("SET", "bin", b"\x00\xff\r\n")
    diff.do("GET", "bin")
    diff.do(*WRONG_TYPE_SETUP)
    diff.do("GET", "h")
    diff.do("SET", "h", "now a string")
    diff.do("GET", "h")


def test_set_option_syntax(diff, play):
    play("""
        SET k v NX XX
        SET k v XX NX
        SET k v NX NX
        SET k v XX XX
        SET k v GET GET
        SET k v KEEPTTL EX 10
        SET k v EX 10 KEEPTTL
        SET k v EX 10 PX 10
        SET k v PX 10 EX 10
        SET k v EXAT 10 PXAT 10
        SET k v EX 10 EXAT 10
        SET k v EX
        SET k v PX
        SET k v EX 10 EX
        SET k v PERSIST
        SET k v foo
        SET k v NX foo
        SET k v nx get ex 100
        TTL k
        SET k v ex 10 ex 20
        TTL k
        SET k v KEEPTTL KEEPTTL
        TTL k
    """)


def test_set_expire_times(diff, play):
    play("""
        SET k v EX 0
        SET k v EX -1
        SET k v PX 0
        SET k v PX -5
        SET k v EXAT 0
        SET k v PXAT -1
        SET k v EX abc
        SET k v PX 1.5
        SET k v EX 9223372036854775
        SET k v EX 9223372036854776
        SET k v PX 9223372036854775807
        SET k v EX 99999999999999999999
        SET k v EXAT 9223372036854775
        SET k v PXAT 9223372036854775807
        PEXPIRETIME k
        SET k v EXAT 1
        GET k
        EXISTS k
        SET k v PXAT 1 GET
        SET k v EXAT 4102444800
        EXPIRETIME k
        SET k v PXAT 4102444800123
        PEXPIRETIME k
        SET k v EX 100
        TTL k
        SET k v2 KEEPTTL
        TTL k
        SET k v3
        TTL k
        SET k v PX 100000
        TTL k
    """)


def test_set_conditions_and_get(diff, play):
    play("""
        SET k v XX
        GET k
        SET k v NX
        SET k w NX
        GET k
        SET k w XX
        GET k
        SET k x GET
        SET new x GET
        SET k y NX GET
        SET k z XX GET
        SET absent z XX GET
        EXISTS absent
        SET absent2 z NX GET
        GET absent2
    """)
    diff.do(*WRONG_TYPE_SETUP)
    play("""
        SET h v GET
        SET h v NX GET
        SET h v EX 0 GET
        SET h v XX
        TYPE h
    """)


def test_getex(diff, play):
    play("""
        GETEX missing
        GETEX missing EX abc
        GETEX missing EX 0
        GETEX missing foo
        SET k v
        GETEX k
        GETEX k EX abc
        GETEX k EX 0
        GETEX k PX -1
        GETEX k EX 9223372036854776
        GETEX k PERSIST EX 10
        GETEX k EX 10 PERSIST
        GETEX k EX 10 PX 10
        GETEX k KEEPTTL
        GETEX k NX
        GETEX k GET
        GETEX k EX
        GETEX k EX 10 EX 20
        TTL k
        GETEX k PX 50000
        TTL k
        GETEX k EXAT 4102444800
        EXPIRETIME k
        GETEX k PXAT 4102444800999
        PEXPIRETIME k
        GETEX k PERSIST
        TTL k
        GETEX k PERSIST
        GETEX k PERSIST PERSIST
        GETEX k EXAT 1
        EXISTS k
        GETEX
    """)
    diff.do(*WRONG_TYPE_SETUP)
    play("""
        GETEX h
        GETEX h EX 0
        GETEX h foo
    """)


def test_getset_getdel(diff, play):
    play("""
        GETSET k v
        GETSET k w
        GET k
        SET k v EX 100
        GETSET k x
        TTL k
        GETDEL k
        GETDEL k
        EXISTS k
        GETSET k
        GETDEL
        GETDEL a b
    """)
    diff.do(*WRONG_TYPE_SETUP)
    diff.do("GETSET", "h", "x")
    diff.do("GETDEL", "h")
    diff.do("TYPE", "h")


def test_setnx_setex_psetex(diff, play):
    play("""
        SETNX k v
        SETNX k w
        GET k
        SETNX k
        SETEX k 100 v
        TTL k
        SETEX k 0 v
        SETEX k -5 v
        SETEX k abc v
        SETEX k 9223372036854775 v
        SETEX k 10
        PSETEX k 100000 v
        TTL k
        PSETEX k 0 v
        PSETEX k 9223372036854775807 v
        PSETEX k x v
        GET k
    """)
    diff.do(*WRONG_TYPE_SETUP)
    diff.do("SETNX", "h", "v")
    diff.do("SETEX", "h", "100", "v")
    diff.do("TYPE", "h")


def test_mget_mset_msetnx(diff, play):
    diff.do(*WRONG_TYPE_SETUP)
    play("""
        MSET a 1 b 2
        MSET a 1 b
        MSET a
        MGET a b missing h a
        MGET
        MSET a 3 a 4
        GET a
        MSETNX a 1 c 2
        EXISTS c
        MSETNX c 1 d 2
        MGET c d
        MSETNX e 1 h 2
        EXISTS e
        MSETNX e 1 e 2
        GET e
        MSETNX e 1 f
        SET t v EX 100
        MSET t w
        TTL t
    """)


def test_append_and_strlen(diff, play):
    play("""
        APPEND k hello
        APPEND k " world"
        GET k
        STRLEN k
        STRLEN missing
        APPEND k ""
        APPEND empty ""
        EXISTS empty
        STRLEN empty
        SET n 10
        APPEND n 5
        INCR n
        SET t v EX 100
        APPEND t x
        TTL t
        APPEND k
        STRLEN
    """)
    diff.do(*WRONG_TYPE_SETUP)
    diff.do("APPEND", "h", "x")
    diff.do("STRLEN", "h")


def test_incr_decr(diff, play):
    play("""
        INCR n
        INCR n
        DECR n
        DECR n
        DECR n
        INCRBY n 10
        INCRBY n -20
        DECRBY n 5
        DECRBY n -5
        INCRBY n abc
        INCRBY missing abc
        INCRBY n 1.5
        INCRBY n ""
        DECRBY n -9223372036854775808
        DECRBY n 9223372036854775807
        INCRBY n 9223372036854775807
        SET n 9223372036854775807
        INCR n
        INCRBY n 0
        SET n -9223372036854775808
        DECR n
        INCRBY n -1
        DECRBY n 1
        INCRBY n 9223372036854775807
        SET n " 1"
        INCR n
        SET n "1 "
        INCR n
        SET n 01
        INCR n
        SET n +1
        INCR n
        SET n -0
        INCR n
        SET n 1e3
        INCR n
        SET n 99999999999999999999
        INCR n
        SET n ""
        INCR n
        SET t 5 EX 100
        INCR t
        TTL t
        INCRBY t 2
        DECRBY t 2
        TTL t
        INCR
        INCRBY n
        DECRBY n 1 2
    """)
    diff.do(*WRONG_TYPE_SETUP)
    play("""
        INCR h
        DECR h
        INCRBY h 1
        INCRBY h abc
        DECRBY h 1
    """)


def test_incrbyfloat_examples(diff, play):
    play("""
        SET f 10.5
        INCRBYFLOAT f 0.1
        INCRBYFLOAT f -5
        INCRBYFLOAT f 2.0e2
        SET g 5.0e3
        INCRBYFLOAT g 2.0e2
        INCRBYFLOAT new 0.1
        INCRBYFLOAT new 0.2
        INCRBYFLOAT new -0.3
        INCRBYFLOAT n2 3.0000000000000000001
        INCRBYFLOAT n3 -0.00000000000000000001
        INCRBYFLOAT n4 1e300
        INCRBYFLOAT n4 1e300
        INCRBYFLOAT n5 1.1e4932
        INCRBYFLOAT n5 1.1e4932
        INCRBYFLOAT n6 1e-4940
        INCRBYFLOAT n7 +1.5
        INCRBYFLOAT n7 0x10
        INCRBYFLOAT n7 0x1.8p3
        INCRBYFLOAT n7 .5
        INCRBYFLOAT n7 5.
        INCRBYFLOAT n7 -0
        INCRBYFLOAT n8 123456789012345678901234567890
        INCRBYFLOAT n8 0.000000000000000005
        INCRBYFLOAT n9 9223372036854775807
        INCRBYFLOAT n9 1
        SET i 17
        INCRBYFLOAT i 1.5
        SET e 1E3
        INCRBYFLOAT e 1
        SET t 1 EX 100
        INCRBYFLOAT t 1.5
        TTL t
    """)


def test_incrbyfloat_errors(diff, play):
    diff.do(*WRONG_TYPE_SETUP)
    play("""
        INCRBYFLOAT h 1
        INCRBYFLOAT h abc
        INCRBYFLOAT f abc
        INCRBYFLOAT f ""
        INCRBYFLOAT f " 1"
        INCRBYFLOAT f "1 "
        INCRBYFLOAT f 1e
        INCRBYFLOAT f 0x
        INCRBYFLOAT f nan
        INCRBYFLOAT f -nan
        INCRBYFLOAT f 1e5000
        INCRBYFLOAT f -1e5000
        INCRBYFLOAT f 1e-5000
        INCRBYFLOAT f 1e-4951
        INCRBYFLOAT f 1e99999999999999999999
        INCRBYFLOAT f 1e-99999999999999999999
        INCRBYFLOAT f inf
        INCRBYFLOAT f -Infinity
        INCRBYFLOAT f INF
        INCRBYFLOAT f infin
        INCRBYFLOAT f 1,5
        EXISTS f
        SET bad x
        INCRBYFLOAT bad 1
        INCRBYFLOAT bad abc
        SET huge 1e4932
        INCRBYFLOAT huge 1e4932
        INCRBYFLOAT f
    """)
    diff.do("INCRBYFLOAT", "f", "1" * 5119)
    diff.do("INCRBYFLOAT", "f", "1" * 5120)
    diff.do("INCRBYFLOAT", "g", "0." + "0" * 5000 + "1")


def test_incrbyfloat_random(diff):
    """Random sums exercise the long double rounding at parse, addition and printing."""
    rng = random.Random(7)
    for i in range(60):
        a = f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 20)}f}"
        b = f"{rng.choice([1, -1]) * 10 ** rng.uniform(-25, 25):.{rng.randint(1, 20)}g}"
        diff.do("SET", f"x{i}", a)
        diff.do("INCRBYFLOAT", f"x{i}", b)
        diff.do("INCRBYFLOAT", f"x{i}", b)


def test_getrange_substr(diff, play):
    diff.do("SET", "s", "Hello, World")
    diff.do("SET", "e", "")
    diff.do("SET", "n", "12345")
    edges = [
        "0",
        "1",
        "3",
        "-1",
        "-3",
        "-12",
        "-13",
        "-100",
        "11",
        "12",
        "100",
        "9223372036854775807",
        "-9223372036854775808",
    ]
    for key in ("s", "e", "n", "missing"):
        for start in edges:
            for end in edges:
                diff.do("GETRANGE", key, start, end)
    play("""
        SUBSTR s 0 4
        SUBSTR s -5 -1
        GETRANGE s 0 abc
        GETRANGE s abc 0
        GETRANGE missing 0 abc
        GETRANGE s 0
        SUBSTR s 0
    """)
    diff.do(*WRONG_TYPE_SETUP)
    diff.do("GETRANGE", "h", "0", "1")
    diff.do("SUBSTR", "h", "0", "1")


def test_setrange(diff, play):
    play("""
        SETRANGE k 0 hello
        SETRANGE k 6 world
        GET k
        SETRANGE k 1 E
        GET k
        SETRANGE k 20 x
        GET k
        SETRANGE k 0 ""
        SETRANGE k 1000 ""
        SETRANGE missing 5 ""
        EXISTS missing
        SETRANGE new 3 abc
        GET new
        SETRANGE k -1 x
        SETRANGE k abc x
        SETRANGE k 1.5 x
        SETRANGE missing -1 ""
        SETRANGE k 536870912 x
        SETRANGE k 536870911 xy
        SETRANGE missing 536870912 x
        SETRANGE missing 9223372036854775807 x
        SETRANGE k 536870912 ""
        SET t abc EX 100
        SETRANGE t 1 X
        TTL t
        SET n 12345
        SETRANGE n 1 0
        INCR n
        SETRANGE k 0
    """)
    diff.do(*WRONG_TYPE_SETUP)
    play("""
        SETRANGE h 0 x
        SETRANGE h 0 ""
        SETRANGE h -1 x
    """)


def test_ttl_tolerances(diff):
    diff.do("SET", "k", "v", "PX", "100000")
    close_ints(diff, "PTTL", "k", tolerance=100)
    diff.do("SETEX", "k2", "50", "v")
    close_ints(diff, "PTTL", "k2", tolerance=100)


@pytest.mark.parametrize(
    "command",
    [
        ("SET", "k", "v", "PX", "80"),
        ("PSETEX", "k", "80", "v"),
        ("SET", "k", "v", "EX", "100"),  # replaced below by GETEX PX
    ],
)
def test_keys_expire_in_real_time(diff, command):
    diff.do(*command)
    if command[-1] == "100":
        diff.do("GETEX", "k", "PX", "80")
    diff.do("GET", "k")
    time.sleep(0.25)
    diff.do("GET", "k")
    diff.do("EXISTS", "k")
    diff.do("TTL", "k")
