from __future__ import annotations

import pytest

import asyncclient
from asyncclient import config, fluent, session


@pytest.fixture
def peer(mlflow_server):
    """MLflow's own client, to read back what asyncclient wrote."""
    from mlflow.tracking import MlflowClient

    return MlflowClient(mlflow_server.url)


@pytest.fixture
def tracking_at():
    """Point asyncclient at a tracking URI of the test's choosing (fresh session, no active run after)."""

    def point(uri: str) -> None:
        session.reset_session()
        asyncclient.set_tracking_uri(uri)

    yield point
    while fluent._runs.stack:
        asyncclient.end_run()
    session.reset_session()
    config.set_tracking_uri(None)
    fluent._active_experiment_id = None


@pytest.fixture
def tracking(mlflow_server, tracking_at):
    """asyncclient pointed at the shared mlflow server, with a fresh session and no active run."""
    tracking_at(mlflow_server.url)
    return mlflow_server


@pytest.fixture
def own_server(asyncclient_server, tracking_at):
    """asyncclient pointed at the shared asyncclient server."""
    tracking_at(asyncclient_server.url)
    return asyncclient_server
