"""A msgpack ``runs/log-batch`` larger than MLflow's per-call limits is still ONE transaction.

10000 metrics with a param that conflicts with the stored value: 400 naming the param, and nothing of the
request is stored (no metric, no other param, no tag). A clean 10000-metric batch posted twice is stored
exactly once. On the session's SQLite server and on a PostgreSQL-backed one.
"""

from __future__ import annotations

import uuid

import msgpack
import pytest
import requests
import sqlalchemy as sa
from server_procs import start_server, stop

MSGPACK = {"Content-Type": "application/x-asyncclient-msgpack"}
N = 10000


@pytest.fixture(scope="module")
def postgres_server(postgres_server_uri, tmp_path_factory):
    name = "atomic_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(postgres_server_uri.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))  # generated identifier
    base = postgres_server_uri.rpartition("/")[0]
    srv = start_server(tmp_path_factory.mktemp("atomic-pg"), backend=f"{base}/{name}")
    yield srv
    stop(srv.proc)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def srv(request):
    return request.getfixturevalue("server" if request.param == "sqlite" else "postgres_server")


def _new_run(http: requests.Session, srv) -> str:
    exp = http.post(srv.api("experiments/create"), json={"name": "atomic-" + uuid.uuid4().hex}).json()
    run = http.post(srv.api("runs/create"), json={"experiment_id": exp["experiment_id"], "start_time": 1}).json()
    return run["run"]["info"]["run_id"]


def _post(http: requests.Session, srv, body: dict):
    r = http.post(srv.api("runs/log-batch"), data=msgpack.packb(body), headers=MSGPACK)
    return r.status_code, r.json()


def _history(http: requests.Session, srv, run_id: str, key: str = "m") -> list:
    r = http.get(srv.api("metrics/get-history"), params={"run_id": run_id, "metric_key": key})
    assert r.status_code == 200, r.text
    return r.json().get("metrics", [])


def test_param_conflict_in_a_10000_metric_batch_stores_nothing(http, srv):
    run_id = _new_run(http, srv)
    assert _post(http, srv, {"run_id": run_id, "params": [["lr", "0.1"]]}) == (200, {})
    body = {"run_id": run_id, "metrics": [["m", float(i), 1000 + i, i] for i in range(N)],
            # more params than one MLflow call takes, the conflicting one sorted last
            "params": [[f"a{i:03d}", "1"] for i in range(150)] + [["lr", "0.2"]],
            "tags": [["t", "x"]]}
    status, err = _post(http, srv, body)
    assert (status, err["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "key='lr'" in err["message"] and "0.2" in err["message"]
    assert _history(http, srv, run_id) == []
    data = http.get(srv.api("runs/get"), params={"run_id": run_id}).json()["run"]["data"]
    assert data["params"] == [{"key": "lr", "value": "0.1"}]
    assert "metrics" not in data or data["metrics"] == []
    assert all(tag["key"] != "t" for tag in data.get("tags", []))


def test_10000_metric_batch_posted_twice_is_stored_once(http, srv):
    run_id = _new_run(http, srv)
    body = {"run_id": run_id, "metrics": [["m", i / 7, 1000 + i, i] for i in range(N)]}
    for _ in range(2):
        assert _post(http, srv, body) == (200, {})
    history = _history(http, srv, run_id)
    assert len(history) == N
    assert sorted((p["step"], p["timestamp"], p["value"]) for p in history) == [
        (i, 1000 + i, i / 7) for i in range(N)]
    data = http.get(srv.api("runs/get"), params={"run_id": run_id}).json()["run"]["data"]
    assert data["metrics"] == [{"key": "m", "value": (N - 1) / 7, "timestamp": 1000 + N - 1, "step": N - 1}]
