"""Large batches through the store's bulk write path (one statement per table on PostgreSQL), both backends.

The semantics must be those of row-by-row inserts: exact duplicates dropped, latest value per key chosen by
(step, timestamp, value), params immutable, tags last-wins, over-long values refused, nothing half-stored.
"""

import math

import pytest
from sqlalchemy.exc import DBAPIError

from asyncclient.entities import Metric, Param, RunTag
from asyncclient.exceptions import MlflowException


@pytest.fixture
def run_id(store):
    return store.create_run("0", "u", 1, [], None).info.run_id


def _history(store, run_id, key):
    return [(m.timestamp, m.step, m.value) for m in store.get_metric_history(run_id, key)]


def test_large_tuple_batch_with_many_keys_params_and_tags(store, run_id):
    metrics = [(f"k{k}", float(s * 10 + k), 1000 + s, s) for s in range(2000) for k in range(10)]
    params = [(f"p{i:04d}", str(i)) for i in range(1000)]
    tags = [(f"t{i:04d}", "v" * (i % 7)) for i in range(1000)]
    store.log_batch_tuples(run_id, metrics, params, tags)
    store.log_batch_tuples(run_id, metrics, params, tags)  # a replay stores nothing new
    data = store.get_run(run_id).data
    assert data.metrics == {f"k{k}": float(1999 * 10 + k) for k in range(10)}
    assert data.params == dict(params)
    assert {k: v for k, v in data.tags.items() if k.startswith("t")} == dict(tags)
    hist = _history(store, run_id, "k3")
    assert hist == [(1000 + s, s, float(s * 10 + 3)) for s in range(2000)]


def test_latest_value_is_chosen_within_a_batch_and_against_stored_rows(store, run_id):
    store.log_batch(run_id, [Metric("a", 5.0, 10, 3), Metric("b", 1.0, 10, 1)], [], [])
    # "a": an older step loses to the stored one; "b": the newest in the batch wins, listed first.
    store.log_batch(run_id, [Metric("b", 7.0, 30, 2), Metric("a", 9.0, 99, 2), Metric("b", 3.0, 20, 2),
                             Metric("b", 6.0, 30, 2)], [], [])
    assert store.get_run(run_id).data.metrics == {"a": 5.0, "b": 7.0}
    assert len(_history(store, run_id, "b")) == 4


def test_int_nan_and_infinite_values_in_one_tuple_batch(store, run_id):
    store.log_batch_tuples(run_id, [("m", 1, 5, 0), ("m", 2.5, 6, 1), ("m", math.nan, 7, 2),
                                    ("m", math.inf, 8, 3), ("m", -math.inf, 9, 4)], [], [])
    values = [m.value for m in store.get_metric_history(run_id, "m")]
    assert values[:2] == [1.0, 2.5] and math.isnan(values[2])
    assert values[3:] == [1.7976931348623157e308, -1.7976931348623157e308]


def test_param_conflict_in_a_large_batch_stores_nothing(store, run_id):
    store.log_batch(run_id, [], [Param("lr", "0.1")], [])
    metrics = [("m", float(s), 1000 + s, s) for s in range(5000)]
    with pytest.raises(MlflowException, match="key='lr'"):
        store.log_batch_tuples(run_id, metrics, [("a", "1"), ("lr", "0.2")], [("t", "x")])
    data = store.get_run(run_id).data
    assert (data.metrics, data.params, "t" in data.tags) == ({}, {"lr": "0.1"}, False)
    assert _history(store, run_id, "m") == []


def test_over_long_tag_value_is_never_truncated(store, run_id, backend):
    # log_batch_tuples trusts its caller (which validated the length). What reaches it anyway is refused
    # where the column has a limit (PostgreSQL) or kept whole (SQLite has none), never cut short.
    value = "x" * 8001
    if backend == "postgresql":
        with pytest.raises((DBAPIError, MlflowException)):
            store.log_batch_tuples(run_id, [], [], [("t", value)])
        assert "t" not in store.get_run(run_id).data.tags
    else:
        store.log_batch_tuples(run_id, [], [], [("t", value)])
        assert store.get_run(run_id).data.tags["t"] == value


def test_strings_with_array_syntax_round_trip(store, run_id):
    odd = ['{a,b}', 'q"uo\\te', "NULL", "", "comma, brace } quote ' done", "ünï\u00e7ødé"]
    store.log_batch(run_id, [], [Param(f"p{i}", v) for i, v in enumerate(odd)],
                    [RunTag(f"t{i}", v) for i, v in enumerate(odd)])
    data = store.get_run(run_id).data
    assert [data.params[f"p{i}"] for i in range(len(odd))] == odd
    assert [data.tags[f"t{i}"] for i in range(len(odd))] == odd
