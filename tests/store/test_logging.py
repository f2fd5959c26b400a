"""log_batch: params immutable, tags last-wins, metrics append-only with NaN/inf, latest values, history."""

import math

import pytest

from asyncclient.entities import Metric, Param, RunTag
from asyncclient.exceptions import MlflowException

MAX_DOUBLE = 1.7976931348623157e308


@pytest.fixture
def run_id(store):
    return store.create_run("0", "u", 1, [], None).info.run_id


def test_logged_params_tags_and_metrics_are_read_back(store, run_id):
    store.log_batch(run_id, [Metric("m", 1.5, 10, 2)], [Param("p", "x")], [RunTag("t", "y")])
    data = store.get_run(run_id).data
    assert (data.metrics, data.params, data.tags["t"]) == ({"m": 1.5}, {"p": "x"}, "y")


def test_relogging_the_same_param_value_is_accepted(store, run_id):
    store.log_param(run_id, Param("lr", "0.1"))
    store.log_batch(run_id, [], [Param("lr", "0.1")], [])
    assert store.get_run(run_id).data.params == {"lr": "0.1"}


def test_changing_a_param_value_is_rejected_with_mlflow_message(store, run_id):
    store.log_param(run_id, Param("lr", "0.1"))
    with pytest.raises(MlflowException) as err:
        store.log_param(run_id, Param("lr", "0.2"))
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert err.value.message.startswith("Changing param values is not allowed. Param with key='lr'")


def test_a_rejected_batch_stores_nothing(store, run_id):
    store.log_param(run_id, Param("lr", "0.1"))
    with pytest.raises(MlflowException):
        store.log_batch(run_id, [Metric("m", 1.0, 1, 0)], [Param("lr", "0.2")], [RunTag("t", "v")])
    data = store.get_run(run_id).data
    assert (data.metrics, "t" in data.tags) == ({}, False)


def test_same_param_key_with_two_values_in_one_batch_is_rejected(store, run_id):
    with pytest.raises(MlflowException) as err:
        store.log_batch(run_id, [], [Param("a", "1"), Param("a", "2")], [])
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_tags_are_mutable_and_last_value_in_a_batch_wins(store, run_id):
    store.set_tag(run_id, RunTag("t", "1"))
    store.log_batch(run_id, [], [], [RunTag("t", "2"), RunTag("t", "3")])
    assert store.get_run(run_id).data.tags["t"] == "3"


def test_exact_duplicate_metric_points_are_stored_once(store, run_id):
    point = Metric("m", 0.5, 100, 1)
    store.log_batch(run_id, [point, point], [], [])
    store.log_metric(run_id, point)
    assert len(store.get_metric_history(run_id, "m")) == 1


def test_same_step_and_timestamp_with_another_value_is_a_new_point(store, run_id):
    store.log_batch(run_id, [Metric("m", 0.5, 100, 1), Metric("m", 0.6, 100, 1)], [], [])
    assert [m.value for m in store.get_metric_history(run_id, "m")] == [0.5, 0.6]


def test_nan_is_read_back_as_nan_and_infinities_as_max_double(store, run_id):
    store.log_batch(run_id, [Metric("nan", float("nan"), 1, 0), Metric("pinf", float("inf"), 1, 0),
                             Metric("ninf", float("-inf"), 1, 0)], [], [])
    metrics = store.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert (metrics["pinf"], metrics["ninf"]) == (MAX_DOUBLE, -MAX_DOUBLE)
    assert math.isnan(store.get_metric_history(run_id, "nan")[0].value)


def test_latest_metric_is_max_by_step_then_timestamp_then_value(store, run_id):
    store.log_batch(run_id, [Metric("m", 9.0, 500, 1), Metric("m", 1.0, 100, 2), Metric("m", 2.0, 100, 2)], [], [])
    store.log_batch(run_id, [Metric("m", 5.0, 999, 1)], [], [])  # older step, later timestamp: not latest
    assert store.get_run(run_id).data.metrics["m"] == 2.0


def test_nan_counts_as_zero_when_choosing_the_latest_value(store, run_id):
    store.log_batch(run_id, [Metric("m", -1.0, 5, 3), Metric("m", float("nan"), 5, 3)], [], [])
    assert math.isnan(store.get_run(run_id).data.metrics["m"])  # (3, 5, 0) > (3, 5, -1)


def test_metric_history_is_ordered_by_timestamp_step_value_and_paged(store, run_id):
    store.log_batch(run_id, [Metric("m", float(i), 100 - i, i) for i in range(5)], [], [])
    page1 = store.get_metric_history(run_id, "m", max_results=3)
    page2 = store.get_metric_history(run_id, "m", max_results=3, page_token=page1.token)
    assert [m.timestamp for m in page1] == [96, 97, 98]
    assert [m.timestamp for m in page2] == [99, 100] and page2.token is None
    assert page1.token is not None


def test_metric_history_of_unknown_run_is_resource_does_not_exist(store):
    with pytest.raises(MlflowException) as err:
        store.get_metric_history("a" * 32, "m")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_metric_history_of_unknown_key_is_empty(store, run_id):
    assert store.get_metric_history(run_id, "never") == []


def test_log_batch_to_deleted_run_is_invalid_parameter_value(store, run_id):
    store.delete_run(run_id)
    with pytest.raises(MlflowException) as err:
        store.log_batch(run_id, [Metric("m", 1.0, 1, 0)], [], [])
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_log_batch_to_unknown_run_is_resource_does_not_exist(store):
    with pytest.raises(MlflowException) as err:
        store.log_batch("b" * 32, [Metric("m", 1.0, 1, 0)], [], [])
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_log_batch_rejects_invalid_keys_and_oversized_batches(store, run_id):
    with pytest.raises(MlflowException):
        store.log_batch(run_id, [Metric("../x", 1.0, 1, 0)], [], [])
    with pytest.raises(MlflowException) as err:
        store.log_batch(run_id, [Metric("m", 1.0, i, 0) for i in range(1001)], [], [])
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_bulk_interval_samples_evenly_keeping_first_and_last_step(store, run_id):
    store.log_batch(run_id, [Metric("m", float(i), i, i) for i in range(100)], [], [])
    sampled = store.get_metric_history_bulk_interval([run_id], "m", max_results=10)
    steps = [m.step for m in sampled]
    assert len(steps) == 10 and steps[0] == 0 and steps[-1] == 99
    assert steps == sorted(steps) and all(m.run_id == run_id for m in sampled)


def test_bulk_interval_restricts_to_the_step_range(store, run_id):
    store.log_batch(run_id, [Metric("m", float(i), i, i) for i in range(20)], [], [])
    sampled = store.get_metric_history_bulk_interval([run_id], "m", 100, start_step=5, end_step=8)
    assert [m.step for m in sampled] == [5, 6, 7, 8]


def test_bulk_interval_needs_both_or_neither_step_bound(store, run_id):
    with pytest.raises(MlflowException):
        store.get_metric_history_bulk_interval([run_id], "m", 10, start_step=1)
