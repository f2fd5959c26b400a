"""Operations: Prometheus metrics summed over workers, JSON access logs, graceful shutdown on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import msgpack
import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "auth"))
from auth_servers import free_port, wait_for_health  # noqa: E402

MSGPACK = {"Content-Type": "application/x-asyncclient-msgpack"}


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log = tmp_path / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "asyncclient.server", "--backend-store-uri", f"sqlite:///{tmp_path}/a.db",
         "--artifacts-destination", str(tmp_path / "art"), "--host", "127.0.0.1", "--port", str(port), *args],
        stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_for_health(url, 60, proc)
    return proc, url, log


def _stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    return proc.wait(60)


def _new_run(url: str) -> str:
    exp = requests.post(url + "/api/2.0/mlflow/experiments/create", json={"name": f"ops-{time.time_ns()}"}).json()
    return requests.post(url + "/api/2.0/mlflow/runs/create",
                         json={"experiment_id": exp["experiment_id"]}).json()["run"]["info"]["run_id"]


def test_prometheus_metrics_sum_over_workers_and_access_log_is_json(tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    proc, url, log = _start(tmp_path, "--workers", "2", "--expose-prometheus", str(tmp_path / "prom"),
                            "--access-log")
    try:
        run_id = _new_run(url)
        for i in range(12):  # 12 connections: the kernel spreads them over both workers
            body = msgpack.packb({"run_id": run_id, "metrics": [["loss", 1.0, 1, i * 25 + s] for s in range(25)]})
            with requests.Session() as s:
                assert s.post(url + "/api/2.0/mlflow/runs/log-batch", data=body, headers=MSGPACK).status_code == 200
        assert requests.get(url + "/api/2.0/mlflow/runs/get", params={"run_id": "0" * 32}).status_code == 404
        text = requests.get(url + "/metrics").text
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append(sample)
        assert sum(s.value for s in samples["asyncclient_points_ingested_total"]) == 300
        batches = [s for s in samples["asyncclient_http_requests_total"]
                   if s.labels["route"] == "/api/2.0/mlflow/runs/log-batch" and s.labels["status"] == "200"]
        assert sum(s.value for s in batches) == 12
        assert any(s.labels["status"] == "404" for s in samples["asyncclient_http_requests_total"])
        assert "asyncclient_http_request_duration_seconds_bucket" in samples
        assert len(list((tmp_path / "prom").glob("*.db"))) >= 2  # both workers wrote samples
    finally:
        assert _stop(proc) == 0
    entries = [json.loads(line[line.index("{"):]) for line in log.read_text().splitlines()
               if '"method"' in line and "{" in line]
    assert any(e["route"] == "/api/2.0/mlflow/runs/log-batch" and e["status"] == 200 for e in entries)
    assert all({"ts", "method", "path", "status", "duration_ms", "user"} <= e.keys() for e in entries)
    assert not any("?" in e["path"] for e in entries)


def test_sigterm_lets_an_in_flight_upload_finish(tmp_path):
    """An upload whose body is still arriving when SIGTERM comes is answered 200 and kept; then the exit is 0."""
    proc, url, _log = _start(tmp_path)
    started = threading.Event()
    outcome = {}

    def slow_body():
        for _ in range(10):
            yield b"x" * 1000
            started.set()
            time.sleep(0.2)

    def upload():
        try:
            r = requests.put(url + f"/api/2.0/mlflow-artifacts/artifacts/0/{run_id}/artifacts/slow.bin",
                             data=slow_body(), timeout=60)
            outcome["status"] = r.status_code
        except requests.RequestException as e:
            outcome["error"] = repr(e)

    try:
        run_id = _new_run(url)
        thread = threading.Thread(target=upload)
        thread.start()
        assert started.wait(30)
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGTERM)  # while the body is still arriving
        thread.join(60)
        assert outcome.get("status") == 200, outcome
        assert (tmp_path / "art" / "0" / run_id / "artifacts" / "slow.bin").stat().st_size == 10_000
        assert proc.wait(30) == 0
        with pytest.raises(requests.ConnectionError):  # and it no longer listens
            requests.get(url + "/health", timeout=5)
    finally:
        _stop(proc)
