"""Session fixtures: MLflow's basic-auth server and ours, populated alike (see auth_servers.py)."""

from __future__ import annotations

import pytest
from auth_servers import AuthServer, populate, start_auth_server


@pytest.fixture(scope="session")
def auth_servers(tmp_path_factory):
    """(mlflow's, ours), both populated alike."""
    started = []
    try:
        for kind in ("mlflow", "asyncclient"):
            started.append(start_auth_server(kind, tmp_path_factory.mktemp(f"auth-{kind}")))
            populate(started[-1])
        yield tuple(started)
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="session")
def ours(auth_servers) -> AuthServer:
    return auth_servers[1]
