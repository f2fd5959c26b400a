"""get_metric_history_bucketed: SQL GROUP BY buckets over step or time that keep every bucket's extremes."""

import math

import pytest

from asyncclient.exceptions import MlflowException


@pytest.fixture
def run_id(store):
    return store.create_run("0", "u", 1, [], None).info.run_id


def _log(store, run_id, points, key="loss"):
    """points: (step, value[, timestamp]) — logged through the embedded client's tuple path in chunks."""
    rows = [(key, v, p[2] if len(p) > 2 else 1000 + s, s) for p in points for s, v in [p[:2]]]
    for i in range(0, len(rows), 50_000):
        store.log_batch_tuples(run_id, rows[i:i + 50_000], [], [])


def test_a_single_step_spike_survives_as_its_bucket_max(store, run_id):
    n = 100_000
    _log(store, run_id, [(s, 1.0) for s in range(n) if s != 54_321] + [(54_321, 1e6)])
    h = store.get_metric_history_bucketed(run_id, "loss", 100)
    assert len(h.x_first) == 100 and sum(h.count) == n == h.total
    spiky = [i for i, mx in enumerate(h.max) if mx == 1e6]
    assert len(spiky) == 1
    i = spiky[0]
    assert h.x_first[i] <= 54_321 <= h.x_last[i]
    assert max(h.max[j] for j in range(100) if j != i) == 1.0


def test_buckets_report_first_last_step_min_max_mean_last(store, run_id):
    _log(store, run_id, [(s, float(s)) for s in range(10)])
    h = store.get_metric_history_bucketed(run_id, "loss", 5)
    assert h.bucket_width == 2 and h.x_range == (0, 9)
    assert h.x_first == [0, 2, 4, 6, 8] and h.x_last == [1, 3, 5, 7, 9]
    assert h.min == [0.0, 2.0, 4.0, 6.0, 8.0] and h.max == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert h.last == h.max and h.mean == [0.5, 2.5, 4.5, 6.5, 8.5] and h.count == [2] * 5


def test_a_range_narrower_than_the_bucket_count_returns_raw_points(store, run_id):
    _log(store, run_id, [(s, s * 0.5) for s in range(0, 30, 3)])
    h = store.get_metric_history_bucketed(run_id, "loss", 1000)
    assert h.bucket_width == 1 and h.x_first == h.x_last == list(range(0, 30, 3))
    assert h.last == [s * 0.5 for s in range(0, 30, 3)]


def test_a_step_window_zooms_into_detail(store, run_id):
    _log(store, run_id, [(s, float(s % 7)) for s in range(10_000)])
    h = store.get_metric_history_bucketed(run_id, "loss", 200, min_x=5_000, max_x=5_099)
    assert h.x_range == (5_000, 5_099) and h.x_first == list(range(5_000, 5_100))
    assert h.last == [float(s % 7) for s in range(5_000, 5_100)]


def test_buckets_over_wall_time(store, run_id):
    _log(store, run_id, [(s, float(s), 10_000 + 10 * s) for s in range(100)])
    h = store.get_metric_history_bucketed(run_id, "loss", 10, x="time")
    assert h.x_range == (10_000, 10_990) and h.bucket_width == 100  # ceil(991 / 10)
    assert h.x_first[0] == 10_000 and h.x_last[-1] == 10_990
    assert sum(h.count) == 100 and h.max[-1] == 99.0


def test_nan_points_count_but_do_not_bend_min_and_max(store, run_id):
    _log(store, run_id, [(0, 1.0), (1, math.nan), (2, 3.0)])
    h = store.get_metric_history_bucketed(run_id, "loss", 1)
    assert (h.min, h.max, h.count) == ([1.0], [3.0], [3])


def test_last_is_the_value_at_the_last_step_even_when_logged_earlier(store, run_id):
    # Wall-clock order differs from step order: "last" follows the x axis, not insertion time.
    _log(store, run_id, [(9, 42.0, 1), (0, 1.0, 5), (5, 2.0, 6)])
    h = store.get_metric_history_bucketed(run_id, "loss", 1)
    assert h.last == [42.0] and h.x_last == [9]


def test_other_runs_and_keys_are_not_mixed_in(store, run_id):
    other = store.create_run("0", "u", 1, [], None).info.run_id
    _log(store, run_id, [(s, 1.0) for s in range(10)])
    _log(store, other, [(s, 99.0) for s in range(10)])
    _log(store, run_id, [(s, 50.0) for s in range(10)], key="acc")
    h = store.get_metric_history_bucketed(run_id, "loss", 3)
    assert set(h.max) == {1.0} and sum(h.count) == 10


def test_an_unknown_metric_is_empty_and_an_unknown_run_is_an_error(store, run_id):
    h = store.get_metric_history_bucketed(run_id, "nope", 10)
    assert (h.total, h.x_range, h.x_first) == (0, None, [])
    with pytest.raises(MlflowException) as err:
        store.get_metric_history_bucketed("0" * 32, "loss", 10)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("kwargs", [{"buckets": 0}, {"buckets": 5001}, {"buckets": 10, "x": "epoch"},
                                    {"buckets": 10, "min_x": 5, "max_x": 4}])
def test_bad_requests_are_invalid_parameter_value(store, run_id, kwargs):
    with pytest.raises(MlflowException) as err:
        store.get_metric_history_bucketed(run_id, "loss", **kwargs)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_steps_logged_out_of_time_order_are_bucketed_over_their_true_range(store, run_id):
    # The first and last points in time are steps 3 and 5; the extremes 0 and 9 lie in between.
    _log(store, run_id, [(3, 3.0, 1), (9, 9.0, 2), (0, 0.0, 3), (5, 5.0, 4)])
    h = store.get_metric_history_bucketed(run_id, "loss", 10)
    assert h.x_range == (0, 9) and h.bucket_width == 1
    assert h.x_first == [0, 3, 5, 9] and h.last == [0.0, 3.0, 5.0, 9.0]
    h2 = store.get_metric_history_bucketed(run_id, "loss", 2)
    assert h2.bucket_width == 5 and h2.x_first == [0, 5] and h2.x_last == [3, 9] and h2.max == [3.0, 9.0]


def test_a_pause_in_logging_does_not_coarsen_step_buckets(store, run_id):
    # Steps 0-999 in the first second, 1000-1999 a day later: equal *step* buckets all the same.
    _log(store, run_id, [(s, float(s), s if s < 1000 else 86_400_000 + s) for s in range(2000)])
    h = store.get_metric_history_bucketed(run_id, "loss", 100)
    assert len(h.x_first) == 100 and h.bucket_width == 20 and h.count == [20] * 100


@pytest.mark.parametrize("x", ["step", "time"])
def test_time_slices_agree_with_group_by(store, x):
    from asyncclient.store import bucketing
    from asyncclient.store import schema as t

    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    _log(store, run_id, [(s, math.sin(s / 50) + (5.0 if s == 777 else 0.0), 1000 + 3 * s) for s in range(3000)])
    m = t.metrics
    xcol = m.c.step if x == "step" else m.c.timestamp
    with store.engine.connect() as conn:
        where = [m.c.run_key == bucketing._ingest.run_key_of(run_id),
                 m.c.key_id == bucketing.metric_key_id("loss")]
        sliced = bucketing._time_sliced(conn, where, xcol, x, 100)
        lo, hi = bucketing._estimate_range(conn, where, xcol)
        grouped = bucketing._aggregate(conn, where, xcol, x, 100, lo, hi)
    assert sliced is not None
    assert (sliced.x_first, sliced.x_last, sliced.count, sliced.last) == \
           (grouped.x_first, grouped.x_last, grouped.count, grouped.last)
    assert sliced.min == grouped.min and sliced.max == grouped.max  # exact: 17 digits round-trip
    assert sliced.mean == pytest.approx(grouped.mean)
    assert max(sliced.max) == pytest.approx(math.sin(777 / 50) + 5.0)
