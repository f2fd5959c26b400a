"""Fixtures: a shared asyncclient server (real subprocess, SQLite) and a JSON helper.

PostgreSQL comes from the store's fixtures (tests/store/conftest.py: ``ASYNCCLIENT_TEST_POSTGRES_URI`` or a
throwaway server), loaded by path so both folders share one way of getting a database.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from server_procs import ServerProcess, start_server, stop

_spec = importlib.util.spec_from_file_location(
    "asyncclient_store_test_fixtures", Path(__file__).resolve().parents[1] / "store" / "conftest.py")
_store_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_store_fixtures)
postgres_server_uri = _store_fixtures.postgres_server_uri


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    """One shared server on SQLite; tests use unique experiment names."""
    srv = start_server(tmp_path_factory.mktemp("server"))
    yield srv
    stop(srv.proc)


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


_counter = iter(range(10**9))


@pytest.fixture
def unique() -> str:
    """A name no other test uses (the session server is shared)."""
    return f"t{os.getpid()}-{next(_counter)}-{time.monotonic_ns()}"


class Api:
    """Thin JSON helper over requests: ``post(path, body)`` / ``get(path, **params)`` -> (status, json)."""

    def __init__(self, session: requests.Session, server: ServerProcess, prefix: str = "/api/2.0/mlflow/"):
        self.session = session
        self.server = server
        self.prefix = prefix

    def post(self, path: str, body=None, **kwargs):
        r = self.session.post(self.server.url + self.prefix + path, json=body if body is not None else {}, **kwargs)
        return r.status_code, _json(r)

    def get(self, path: str, params=None):
        r = self.session.get(self.server.url + self.prefix + path, params=params)
        return r.status_code, _json(r)

    def ok_post(self, path: str, body=None):
        status, data = self.post(path, body)
        assert status == 200, (path, status, data)
        return data

    def ok_get(self, path: str, params=None):
        status, data = self.get(path, params)
        assert status == 200, (path, status, data)
        return data

    def new_run(self, unique: str, **extra) -> tuple[str, str]:
        exp = self.ok_post("experiments/create", {"name": unique})["experiment_id"]
        run = self.ok_post("runs/create", {"experiment_id": exp, "start_time": 1000, **extra})["run"]
        return exp, run["info"]["run_id"]


def _json(r: requests.Response):
    try:
        return r.json()
    except ValueError:
        return r.text


@pytest.fixture
def api(http, server) -> Api:
    return Api(http, server)
