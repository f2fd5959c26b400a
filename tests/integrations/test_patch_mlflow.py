"""patch_mlflow(): the installed mlflow package's logging goes through asyncclient's buffer, with MLflow's
run ids and semantics, against the real `mlflow server` and asyncclient's server."""

from __future__ import annotations

import os

import pytest

import asyncclient
from asyncclient.patch import _client_methods


def _ring_bytes(url: str) -> int:
    """Bytes this process wrote into asyncclient's ring for that server: proof the writes took its path."""
    client = _client_methods._clients.get((os.getpid(), url))
    return 0 if client is None else client._session().ring.written_total


def test_plain_fluent_code_is_stored_through_the_ring(patched_mlflow, peer, any_server):
    mlflow = patched_mlflow
    with mlflow.start_run(run_name="fluent") as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"layers": 3, "opt": "adam"})
        mlflow.set_tag("team", "a")
        mlflow.set_tags({"stage": "dev"})
        for step in range(300):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        assert mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=7, synchronous=False) is None  # no RunOperations
        assert _ring_bytes(any_server.url) > 300 * 29
    stored = peer.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"lr": "0.01", "layers": "3", "opt": "adam"}
    assert stored.data.tags["team"] == "a" and stored.data.tags["stage"] == "dev"
    assert stored.data.metrics == {"loss": 1.0 / 300, "acc": 0.9, "f1": 0.8}
    history = peer.get_metric_history(run.info.run_id, "loss")
    assert sorted(m.step for m in history) == list(range(300))
    found = peer.search_runs([run.info.experiment_id], "params.opt = 'adam' and metrics.acc > 0.5")
    assert [r.info.run_id for r in found] == [run.info.run_id]


def test_mlflow_client_writes_are_buffered_and_reads_see_them(patched_mlflow, any_server, unique_name):
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(any_server.url)
    run = client.create_run(client.get_experiment_by_name(unique_name).experiment_id)
    run_id = run.info.run_id
    client.log_param(run_id, "p", 1)
    client.set_tag(run_id, "t", "x")
    client.log_metric(run_id, "m", 2.5, step=3)
    client.log_batch(run_id, metrics=[Metric("b", 1.5, 0, 1)], params=[Param("q", "z")], tags=[RunTag("u", "v")])
    client.set_tag(run_id, "gone", "1")
    client.delete_tag(run_id, "gone")
    assert _ring_bytes(any_server.url) > 0
    # Read your writes: MLflow's reads wait for this process's buffered writes, as its synchronous mode gives.
    seen = client.get_run(run_id)
    assert seen.data.params == {"p": "1", "q": "z"}
    assert seen.data.metrics == {"m": 2.5, "b": 1.5}
    assert seen.data.tags["t"] == "x" and seen.data.tags["u"] == "v" and "gone" not in seen.data.tags
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "m")] == [(3, 2.5)]
    client.log_param(run_id, "late", "yes")
    assert [r.info.run_id for r in client.search_runs([run.info.experiment_id], "params.late = 'yes'")] == [run_id]
    client.set_terminated(run_id)
    assert client.get_run(run_id).info.status == "FINISHED"


def test_a_refused_write_raises_mlflows_exception_at_flush_not_at_the_call(patched_mlflow, any_server):
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(any_server.url)
    missing_run = "0" * 32
    client.log_metric(missing_run, "loss", 1.0)  # buffered: no request yet, so no error here
    with pytest.raises(MlflowException, match=missing_run):
        patched_mlflow.flush_async_logging()


def test_bad_input_raises_mlflows_exception_at_the_call(patched_mlflow):
    from mlflow.exceptions import MlflowException

    with patched_mlflow.start_run():
        with pytest.raises(MlflowException, match="Invalid metric name|Invalid value|invalid"):
            patched_mlflow.log_metric("bad name?!", 1.0)
        patched_mlflow.log_param("x", 1)
        with pytest.raises(MlflowException, match="Changing param values is not allowed"):
            patched_mlflow.log_param("x", 2)


def test_unpatch_restores_mlflows_own_functions(any_server):
    import mlflow
    from mlflow.tracking import MlflowClient

    before = (mlflow.log_metric, mlflow.tracking.fluent.log_params, MlflowClient.log_batch, MlflowClient.get_run)
    asyncclient.patch_mlflow()
    try:
        assert mlflow.log_metric is not before[0] and MlflowClient.log_batch is not before[2]
        asyncclient.patch_mlflow()  # idempotent: patching twice does not wrap twice
    finally:
        asyncclient.unpatch_mlflow()
    after = (mlflow.log_metric, mlflow.tracking.fluent.log_params, MlflowClient.log_batch, MlflowClient.get_run)
    assert after == before


def test_other_tracking_uris_keep_mlflows_path(tmp_path):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/local.db")
    mlflow.set_experiment("local")
    asyncclient.patch_mlflow()
    try:
        with mlflow.start_run() as run:
            mlflow.log_metric("m", 1.0)
        assert mlflow.get_run(run.info.run_id).data.metrics == {"m": 1.0}
        assert not any(uri.startswith("sqlite") for _, uri in _client_methods._clients)
    finally:
        asyncclient.unpatch_mlflow()
        mlflow.set_tracking_uri(None)


def test_a_write_the_server_refuses_is_raised_by_end_run(patched_mlflow, peer, any_server):
    import requests
    from mlflow.exceptions import MlflowException

    mlflow = patched_mlflow
    mlflow.start_run()
    run_id = mlflow.active_run().info.run_id
    # Logged by another process (a plain REST call): this process cannot know.
    requests.post(f"{any_server.url}/api/2.0/mlflow/runs/log-parameter",
                  json={"run_id": run_id, "key": "lr", "value": "0.1"}, timeout=30).raise_for_status()
    mlflow.log_param("lr", "0.2")  # buffered; the server refuses a changed param
    with pytest.raises(MlflowException, match="lr"):
        mlflow.end_run()
    assert peer.get_run(run_id).data.params["lr"] == "0.1"


def test_metrics_linked_to_a_logged_model_take_mlflows_path(patched_mlflow, peer):
    mlflow = patched_mlflow
    with mlflow.start_run():
        model = mlflow.initialize_logged_model(name="tiny")
        mlflow.log_metric("accuracy", 0.75, model_id=model.model_id)
    assert {m.key: m.value for m in peer.get_logged_model(model.model_id).metrics} == {"accuracy": 0.75}
