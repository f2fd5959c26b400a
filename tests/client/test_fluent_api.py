"""The fluent API logs what MLflow's would, read back with MLflow's own client from a real mlflow server."""

from __future__ import annotations

import math
import threading

import pytest

import asyncclient as mlflow
from asyncclient.exceptions import MlflowException


def test_with_block_logs_params_metrics_tags_and_finishes_the_run(tracking, peer):
    with mlflow.start_run(run_name="first", tags={"team": "vision"}, description="notes here") as run:
        mlflow.log_param("lr", 0.001)
        mlflow.log_params({"batch": 32, "opt": "adam"})
        for step in range(100):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=3)
        mlflow.set_tag("stage", "dev")
        mlflow.set_tags({"a": 1})
    stored = peer.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.run_name == "first"
    assert stored.data.params == {"lr": "0.001", "batch": "32", "opt": "adam"}
    assert stored.data.metrics == {"loss": 0.01, "acc": 0.9, "f1": 0.8}
    assert [m.step for m in peer.get_metric_history(run.info.run_id, "loss")] == list(range(100))
    tags = stored.data.tags
    assert tags["team"] == "vision" and tags["stage"] == "dev" and tags["a"] == "1"
    assert tags["mlflow.note.content"] == "notes here"
    assert tags["mlflow.source.type"] == "LOCAL"
    assert "mlflow.user" in tags and "mlflow.source.name" in tags


def test_exception_in_with_block_marks_run_failed(tracking, peer):
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run() as run:
            mlflow.log_metric("x", 1.0)
            raise ZeroDivisionError("boom")
    stored = peer.get_run(run.info.run_id)
    assert stored.info.status == "FAILED"
    assert stored.data.metrics == {"x": 1.0}


def test_nested_run_carries_parent_tag(tracking, peer):
    with mlflow.start_run() as parent:
        with mlflow.start_run(nested=True) as child:
            mlflow.log_metric("m", 2.0)
        assert mlflow.active_run().info.run_id == parent.info.run_id
    stored = peer.get_run(child.info.run_id)
    assert stored.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert stored.data.metrics == {"m": 2.0}


def test_second_top_level_run_is_refused_while_one_is_active(tracking):
    with mlflow.start_run():
        with pytest.raises(MlflowException, match="already active"):
            mlflow.start_run()


def test_set_experiment_creates_it_and_runs_land_there(tracking, peer):
    exp = mlflow.set_experiment("exp-fluent-1")
    with mlflow.start_run() as run:
        mlflow.log_metric("a", 1)
    assert peer.get_run(run.info.run_id).info.experiment_id == exp.experiment_id
    assert peer.get_experiment_by_name("exp-fluent-1").experiment_id == exp.experiment_id


def test_resuming_a_run_by_id_appends_to_it(tracking, peer):
    with mlflow.start_run() as run:
        mlflow.log_metric("a", 1, step=0)
    with mlflow.start_run(run_id=run.info.run_id):
        mlflow.log_metric("a", 2, step=1)
    assert [m.value for m in peer.get_metric_history(run.info.run_id, "a")] == [1.0, 2.0]


def test_nan_and_infinity_round_trip_as_mlflow_stores_them(tracking, peer):
    with mlflow.start_run() as run:
        mlflow.log_metric("nan", float("nan"))
        mlflow.log_metric("inf", float("inf"))
    metrics = peer.get_run(run.info.run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] > 1e308


def test_delete_tag_is_ordered_after_set_tag(tracking, peer):
    with mlflow.start_run() as run:
        mlflow.set_tag("temp", "1")
        mlflow.delete_tag("temp")
        mlflow.set_tag("kept", "yes")
    tags = peer.get_run(run.info.run_id).data.tags
    assert "temp" not in tags and tags["kept"] == "yes"


@pytest.mark.parametrize("key", ["", "a//b", "bad!key", "/abs", "x" * 251])
def test_bad_metric_key_raises_at_the_call_site(tracking, key):
    with mlflow.start_run():
        with pytest.raises(MlflowException) as e:
            mlflow.log_metric(key, 1.0)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_non_numeric_metric_value_raises_at_the_call_site(tracking):
    with mlflow.start_run():
        with pytest.raises(MlflowException, match="invalid value"):
            mlflow.log_metric("loss", "high")


def test_param_relogged_with_another_value_raises_at_the_call_site(tracking):
    with mlflow.start_run():
        mlflow.log_param("lr", 0.1)
        mlflow.log_param("lr", 0.1)  # same value: fine, as in MLflow
        with pytest.raises(MlflowException, match="Changing param values is not allowed"):
            mlflow.log_param("lr", 0.2)


def test_logging_without_a_run_starts_one_like_mlflow(tracking, peer):
    mlflow.log_metric("auto", 1.0)
    run = mlflow.active_run()
    assert run is not None
    mlflow.end_run()
    assert peer.get_run(run.info.run_id).data.metrics == {"auto": 1.0}


def test_thread_without_its_own_run_logs_to_the_main_threads_run(tracking, peer):
    with mlflow.start_run() as run:
        t = threading.Thread(target=lambda: mlflow.log_metric("from_thread", 7.0))
        t.start()
        t.join()
    assert peer.get_run(run.info.run_id).data.metrics == {"from_thread": 7.0}


def test_thread_with_its_own_run_logs_to_it(tracking, peer):
    runs = {}

    def worker():
        with mlflow.start_run(nested=False) as r:
            runs["thread"] = r.info.run_id
            mlflow.log_metric("own", 1.0)

    with mlflow.start_run() as main_run:
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        mlflow.log_metric("main", 1.0)
    assert peer.get_run(runs["thread"]).data.metrics == {"own": 1.0}
    assert peer.get_run(main_run.info.run_id).data.metrics == {"main": 1.0}


def test_environment_variables_choose_uri_and_experiment(tracking, peer, monkeypatch):
    exp_id = peer.create_experiment("env-exp")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", exp_id)
    with mlflow.start_run() as run:
        pass
    assert peer.get_run(run.info.run_id).info.experiment_id == exp_id


def test_log_metric_takes_mlflows_parameters_in_mlflows_order(tracking, peer):
    """``mlflow.log_metric(key, value, step, synchronous, timestamp, run_id, model_id, dataset)``: code that
    passes them by position logs the same point as with MLflow."""
    import inspect

    import mlflow as real_mlflow

    for name in ("log_metric", "log_metrics"):
        ours = list(inspect.signature(getattr(mlflow, name)).parameters)
        theirs = list(inspect.signature(getattr(real_mlflow, name)).parameters)
        assert ours == theirs, name
    with mlflow.start_run() as run:
        mlflow.log_metric("positional", 2.0, 7, True, 1_700_000_000_000)
        mlflow.log_metrics({"many": 1.0}, 8, False, None, 1_700_000_000_001)
    (point,) = peer.get_metric_history(run.info.run_id, "positional")
    assert (point.step, point.timestamp) == (7, 1_700_000_000_000)
    (point,) = peer.get_metric_history(run.info.run_id, "many")
    assert (point.step, point.timestamp) == (8, 1_700_000_000_001)
