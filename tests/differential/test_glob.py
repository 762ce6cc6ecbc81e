"""Glob matching against redis-server: KEYS with random patterns and SCAN MATCH, over keys
made of the characters patterns treat specially. (The matcher itself, against a port of
Redis's ``stringmatchlen``: tests/unit/test_keyspace_glob.py.)"""

from __future__ import annotations

import random

from tests.helpers.differential import scan_union


def test_random_patterns_against_redis(diff):
    rng = random.Random(5)
    keys = {"".join(rng.choice("ab-]^\\*[") for _ in range(rng.randint(1, 5))) for _ in range(60)}
    for key in keys:
        diff.do("SET", key, "1")
    for _ in range(150):
        pattern = "".join(rng.choice("ab*?[]^-\\") for _ in range(rng.randint(1, 7)))
        diff.do_sorted("KEYS", pattern)


def test_scan_match_against_redis(diff):
    rng = random.Random(6)
    for i in range(200):
        diff.do("SET", "".join(rng.choice("abc:") for _ in range(rng.randint(1, 6))) + str(i), "v")
    for pattern in ("a*", "*:*", "?b*", "[ab]c*", "*[^0-9]", "*1?", "c\\:*", "*"):
        ours, real = (
            scan_union(conn, "MATCH", pattern, "COUNT", "7") for conn in (diff.ours, diff.real)
        )
        assert ours == real, pattern
