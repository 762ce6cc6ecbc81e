"""QUERY's index structures on their own (respserver/query/index.py), no server: an equality
index agrees with a model across the probe limit, and the sortable bytes of an ordered index
order numbers as compared doubles. (The indexes kept current on a running respserver:
tests/e2e/test_query_index.py.)"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from respserver.query.index import PROBE_LIMIT, FieldIndex, sortable


@settings(max_examples=60)
@given(
    crossing=st.booleans(),
    updates=st.lists(
        st.tuples(st.integers(0, 99), st.none() | st.integers(0, PROBE_LIMIT + 10)), max_size=300
    ),
)
def test_field_index_equals_its_model_across_the_probe_limit(crossing, updates):
    """Probing for a key's bucket, and the reverse map kept past PROBE_LIMIT values, agree."""
    if crossing:  # start with one value more than probing serves
        updates = [(100 + i, 1000 + i) for i in range(PROBE_LIMIT + 1)] + updates
    index, model, peak = FieldIndex(), {}, 0
    for key, value in updates:
        key, value = b"k%d" % key, None if value is None else b"v%d" % value
        index.update(key, value)
        if value is None:
            model.pop(key, None)
        else:
            model[key] = value
        assert index.value_of(key) == value
        peak = max(peak, len(set(model.values())))
    buckets: dict[bytes, set[bytes]] = {}
    for key, value in model.items():
        buckets.setdefault(value, set()).add(key)
    assert index.buckets == buckets
    assert len(index) == len(model)
    assert index.by_key == (model if peak > PROBE_LIMIT else None)


@given(st.floats(allow_nan=False), st.floats(allow_nan=False))
def test_sortable_bytes_order_numbers_as_compared_doubles(a, b):
    assert (sortable(a) < sortable(b)) == (a < b)
    assert (sortable(a) == sortable(b)) == (a == b)  # -0.0 == 0.0 included
