"""MLflow's ecosystem through patch_mlflow(): the real Lightning MLFlowLogger and MLflow's own sklearn
autolog, unedited, against the real `mlflow server` and asyncclient's server."""

from __future__ import annotations

import os

import pytest

import asyncclient
from asyncclient.patch import _client_methods


def ring_bytes(url: str) -> int:
    """Bytes this process has written into asyncclient's ring for that server (0 before any)."""
    client = _client_methods._clients.get((os.getpid(), url))
    return 0 if client is None else client._session().ring.written_total


def history(peer, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in peer.get_metric_history(run_id, key))


def test_lightning_mlflow_logger_patched_stores_what_plain_mlflow_stores(any_server, peer, unique_name):
    pytest.importorskip("lightning")
    from lightning.pytorch.loggers import MLFlowLogger
    from tiny_lightning import train

    plain = MLFlowLogger(experiment_name=unique_name + "-plain", tracking_uri=any_server.url)
    train(plain, steps=20)
    before = ring_bytes(any_server.url)
    asyncclient.patch_mlflow()
    try:
        patched = MLFlowLogger(experiment_name=unique_name, tracking_uri=any_server.url)
        train(patched, steps=20)
    finally:
        asyncclient.unpatch_mlflow()
    assert ring_bytes(any_server.url) > before  # the patched run's writes went through asyncclient
    got, expected = peer.get_run(patched.run_id), peer.get_run(plain.run_id)
    assert got.info.status == expected.info.status == "FINISHED"
    assert got.data.params == expected.data.params == {"lr": "0.05", "hidden": "8"}
    assert set(got.data.metrics) == set(expected.data.metrics) >= {"train_loss", "val_loss", "epoch"}
    for key in got.data.metrics:
        assert history(peer, patched.run_id, key) == history(peer, plain.run_id, key), key
    assert [s for s, _ in history(peer, patched.run_id, "train_loss")] == list(range(20))


def test_mlflow_sklearn_autolog_patched(patched_mlflow, peer, any_server):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow = patched_mlflow
    X, y = load_iris(return_X_y=True)
    before = ring_bytes(any_server.url)
    mlflow.sklearn.autolog(log_models=False)
    try:
        with mlflow.start_run() as run:
            LogisticRegression(C=0.5, max_iter=200).fit(X, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    assert ring_bytes(any_server.url) > before
    stored = peer.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params["C"] == "0.5" and stored.data.params["max_iter"] == "200"
    assert stored.data.tags["estimator_name"] == "LogisticRegression"
    assert 0.9 < stored.data.metrics["training_accuracy_score"] <= 1.0
    found = peer.search_runs([run.info.experiment_id], "params.C = '0.5' and metrics.training_accuracy_score > 0.9")
    assert [r.info.run_id for r in found] == [run.info.run_id]
