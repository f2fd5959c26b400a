"""Fixtures for the integration tests: MLflow patched through asyncclient, against a real server."""

from __future__ import annotations

import os
import socket
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


@pytest.fixture
def autolog_to(asyncclient_server, unique_name):
    """asyncclient pointed at asyncclient's server in an experiment of the test's own; autolog undone after."""
    import asyncclient
    from asyncclient import config, fluent, session
    from asyncclient.autolog import _common

    session.reset_session()
    asyncclient.set_tracking_uri(asyncclient_server.url)
    experiment = asyncclient.set_experiment(unique_name)
    _common._warned.clear()
    yield experiment
    asyncclient.autolog(disable=True)
    while fluent._runs.stack:
        asyncclient.end_run()
    session.reset_session()
    config.set_tracking_uri(None)
    fluent._active_experiment_id = None


@pytest.fixture
def dead_destination(monkeypatch):
    """A tracking server that is not there (nothing listens on the port), given up on after 0.5 s."""
    import asyncclient
    from asyncclient import config, fluent, session
    from asyncclient.autolog import _common

    with socket.socket() as s:  # a free port, closed again: nothing listens there
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    monkeypatch.setenv("ASYNCCLIENT_REQUEST_RETRY_SECONDS", "0.5")
    session.reset_session()
    asyncclient.set_tracking_uri(f"http://127.0.0.1:{free_port}")
    _common._warned.clear()
    yield
    asyncclient.autolog(disable=True)
    fluent._runs.stack.clear()
    session.reset_session(flush_timeout=0)
    config.set_tracking_uri(None)
