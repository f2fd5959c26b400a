"""asyncclient.tracking.MlflowClient mirrors MLflow's client, and reads see this process's writes."""

from __future__ import annotations

import pytest

import asyncclient as mlflow
from asyncclient.entities import Metric, Param, RunTag, ViewType
from asyncclient.exceptions import DeliveryError, MlflowException
from asyncclient.tracking import MlflowClient


def test_reads_wait_for_pending_writes(tracking):
    client = MlflowClient()
    exp = client.create_experiment("client-ryw")
    run = client.create_run(exp)
    for i in range(3000):
        client.log_metric(run.info.run_id, "m", float(i), step=i)
    history = client.get_metric_history(run.info.run_id, "m")
    assert [m.step for m in history] == list(range(3000))
    assert client.get_run(run.info.run_id).data.metrics["m"] == 2999.0


def test_search_runs_orders_and_pages_like_the_seed_example(tracking):
    client = MlflowClient()
    exp = client.create_experiment("client-search")
    for loss in (0.5, 0.1, 0.3):
        with mlflow.start_run(experiment_id=exp):
            mlflow.log_metric("val_loss", loss)
    best = client.search_runs(exp, order_by=["metrics.val_loss ASC"], max_results=1)
    assert best[0].data.metrics["val_loss"] == 0.1
    assert best.token is not None
    rest = client.search_runs([exp], order_by=["metrics.val_loss ASC"], max_results=5, page_token=best.token)
    assert [r.data.metrics["val_loss"] for r in rest] == [0.3, 0.5]
    filtered = client.search_runs(exp, "metrics.val_loss > 0.2", ViewType.ACTIVE_ONLY)
    assert sorted(r.data.metrics["val_loss"] for r in filtered) == [0.3, 0.5]


def test_log_batch_and_set_terminated(tracking, peer):
    client = MlflowClient()
    run = client.create_run("0")
    client.log_batch(run.info.run_id, metrics=[Metric("a", 1.0, 1000, 0)], params=[Param("p", "v")],
                     tags=[RunTag("t", "x")])
    client.set_terminated(run.info.run_id)
    stored = peer.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert (stored.data.metrics, stored.data.params, stored.data.tags["t"]) == ({"a": 1.0}, {"p": "v"}, "x")


def test_delete_and_restore_run(tracking, peer):
    client = MlflowClient()
    run = client.create_run("0")
    client.delete_run(run.info.run_id)
    assert peer.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run.info.run_id)
    assert peer.get_run(run.info.run_id).info.lifecycle_stage == "active"


def test_get_experiment_by_name_returns_none_when_missing(tracking):
    assert MlflowClient().get_experiment_by_name("no-such-experiment-xyz") is None


def test_log_batch_over_mlflow_limits_raises_at_the_call_site(tracking):
    client = MlflowClient()
    with pytest.raises(MlflowException, match="at most 1000"):
        client.log_batch("0" * 32, metrics=[Metric("a", 1.0, 1, i) for i in range(1001)])


def test_server_refusal_surfaces_at_flush_naming_run_and_keys(tracking, peer):
    client = MlflowClient()
    run = client.create_run("0")
    peer.delete_run(run.info.run_id)  # writes to a deleted run are refused with a 400
    client.log_metric(run.info.run_id, "refused_key", 1.0)
    with pytest.raises(DeliveryError) as e:
        client.flush()
    assert run.info.run_id in str(e.value) and "refused_key" in str(e.value)
    assert e.value.failures[0]["error_code"] == "INVALID_PARAMETER_VALUE"
    client.flush()  # reported once, then cleared


def test_refused_param_does_not_cost_the_metrics_of_its_batch(tracking, peer):
    client = MlflowClient()
    run = client.create_run("0")
    peer.log_param(run.info.run_id, "lr", "0.1")  # another process logged lr first
    client.log_param(run.info.run_id, "lr", "0.2")
    for i in range(10):
        client.log_metric(run.info.run_id, "loss", float(i), step=i)
    with pytest.raises(DeliveryError, match="lr"):
        client.flush()
    assert len(peer.get_metric_history(run.info.run_id, "loss")) == 10


def test_end_run_raises_what_the_server_refused(tracking, peer):
    run = mlflow.start_run()
    peer.log_param(run.info.run_id, "p", "server-value")
    mlflow.log_param("p", "client-value")
    with pytest.raises(DeliveryError, match="Changing param values"):
        mlflow.end_run()
    assert peer.get_run(run.info.run_id).info.status == "FINISHED"
