"""Many clients at once against ``--workers 2``: same run and different runs, SQLite and PostgreSQL.

Every request must succeed (no 5xx, no "database is locked") and every point must be stored exactly once.
"""

from __future__ import annotations

import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import msgpack
import pytest
import requests
import sqlalchemy as sa
from server_procs import start_server, stop

CLIENTS = 8
REQUESTS_PER_CLIENT = 12
POINTS_PER_REQUEST = 250
MSGPACK = {"Content-Type": "application/x-asyncclient-msgpack"}


@pytest.fixture(scope="module")
def sqlite_workers_server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("conc-sqlite"), "--workers", "2")
    yield srv
    stop(srv.proc)


@pytest.fixture(scope="module")
def postgres_workers_server(postgres_server_uri, tmp_path_factory):
    name = "srv_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(postgres_server_uri.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))  # generated identifier
    base = postgres_server_uri.rpartition("/")[0]
    srv = start_server(tmp_path_factory.mktemp("conc-pg"), "--workers", "2", backend=f"{base}/{name}")
    yield srv
    stop(srv.proc)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _new_run(url: str, name: str) -> str:
    api = url + "/api/2.0/mlflow/"
    exp = requests.post(api + "experiments/create", json={"name": name}).json()["experiment_id"]
    return requests.post(api + "runs/create", json={"experiment_id": exp}).json()["run"]["info"]["run_id"]


def _client(url: str, run_id: str, client: int) -> list[int]:
    """Log distinct steps for ``client`` (JSON and msgpack alternating, each request sent twice as a retry
    would), plus the same param and a per-client tag; return every HTTP status seen."""
    statuses = []
    with requests.Session() as s:
        for r in range(REQUESTS_PER_CLIENT):
            base = (client * REQUESTS_PER_CLIENT + r) * POINTS_PER_REQUEST
            steps = range(base, base + POINTS_PER_REQUEST)
            for _attempt in range(2):
                if r % 2:
                    body = {"run_id": run_id, "metrics": [["m", float(st), 1000 + st, st] for st in steps],
                            "params": [["shared", "same"]], "tags": [[f"client{client}", str(r)]]}
                    resp = s.post(url + "/api/2.0/mlflow/runs/log-batch", data=msgpack.packb(body), headers=MSGPACK)
                else:
                    body = {"run_id": run_id, "metrics": [{"key": "m", "value": float(st), "timestamp": 1000 + st,
                                                           "step": st} for st in steps],
                            "params": [{"key": "shared", "value": "same"}],
                            "tags": [{"key": f"client{client}", "value": str(r)}]}
                    resp = s.post(url + "/api/2.0/mlflow/runs/log-batch", json=body)
                statuses.append(resp.status_code)
    return statuses


def _history_steps(url: str, run_id: str) -> list[int]:
    r = requests.get(url + "/api/2.0/mlflow/metrics/get-history", params={"run_id": run_id, "metric_key": "m"})
    return sorted(m["step"] for m in r.json().get("metrics", []))


def _check_same_run(srv) -> None:
    run_id = _new_run(srv.url, "same-" + uuid.uuid4().hex)
    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [s for result in pool.map(lambda c: _client(srv.url, run_id, c), range(CLIENTS)) for s in result]
    assert set(statuses) == {200}
    assert _history_steps(srv.url, run_id) == list(range(CLIENTS * REQUESTS_PER_CLIENT * POINTS_PER_REQUEST))
    run = requests.get(srv.url + "/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()["run"]
    last = CLIENTS * REQUESTS_PER_CLIENT * POINTS_PER_REQUEST - 1
    assert run["data"]["metrics"] == [{"key": "m", "value": float(last), "timestamp": 1000 + last, "step": last}]
    assert run["data"]["params"] == [{"key": "shared", "value": "same"}]


def _check_different_runs(srv) -> None:
    run_ids = [_new_run(srv.url, "diff-" + uuid.uuid4().hex) for _ in range(CLIENTS)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda c: _client(srv.url, run_ids[c], c), range(CLIENTS)))
    assert {s for r in results for s in r} == {200}
    for c, run_id in enumerate(run_ids):
        first = c * REQUESTS_PER_CLIENT * POINTS_PER_REQUEST
        assert _history_steps(srv.url, run_id) == list(range(first, first + REQUESTS_PER_CLIENT * POINTS_PER_REQUEST))


def _assert_no_lock_errors(srv) -> None:
    log = srv.proc.log_path.read_text(errors="replace")
    assert "database is locked" not in log and "Traceback" not in log


def test_workers_are_separate_processes(sqlite_workers_server):
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(sqlite_workers_server.proc.pid)],
                              capture_output=True, text=True).stdout.split()
    assert len(children) >= 2


def test_sqlite_many_clients_one_run(sqlite_workers_server):
    _check_same_run(sqlite_workers_server)
    _assert_no_lock_errors(sqlite_workers_server)


def test_sqlite_many_clients_different_runs(sqlite_workers_server):
    _check_different_runs(sqlite_workers_server)
    _assert_no_lock_errors(sqlite_workers_server)


@pytest.mark.postgres
def test_postgres_many_clients_one_run(postgres_workers_server):
    _check_same_run(postgres_workers_server)
    _assert_no_lock_errors(postgres_workers_server)


@pytest.mark.postgres
def test_postgres_many_clients_different_runs(postgres_workers_server):
    _check_different_runs(postgres_workers_server)
    _assert_no_lock_errors(postgres_workers_server)
