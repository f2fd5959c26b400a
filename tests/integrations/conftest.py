"""Fixtures for the integration tests: MLflow patched through asyncclient, against a real server."""

from __future__ import annotations

import os
import time

import pytest


@pytest.fixture
def unique_name() -> str:
    return f"integ-{os.getpid()}-{time.monotonic_ns()}"


@pytest.fixture(params=["mlflow_server", "asyncclient_server"])
def any_server(request):
    """Each test runs against the real `mlflow server` and against asyncclient's server."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def patched_mlflow(any_server, unique_name):
    """The installed `mlflow` patched, pointed at the server, in an experiment of the test's own."""
    import mlflow

    import asyncclient

    mlflow.set_tracking_uri(any_server.url)
    mlflow.set_experiment(unique_name)
    asyncclient.patch_mlflow()
    yield mlflow
    try:
        while mlflow.active_run() is not None:
            mlflow.end_run()
    finally:
        asyncclient.unpatch_mlflow(flush=False)
        mlflow.set_tracking_uri(None)
        mlflow.tracking.fluent._active_experiment_id = None  # the next test's set_experiment decides


@pytest.fixture
def peer(any_server):
    """MLflow's own client (never patched while it reads back) for the server under test."""
    from mlflow.tracking import MlflowClient

    return MlflowClient(any_server.url)
