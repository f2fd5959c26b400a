"""`asyncclient import` from a real `mlflow server`, against MLflow-side ways of copying the same runs.

The source: one experiment of RUNS runs x METRICS metrics x STEPS steps (default 100 x 10 x 10,000 = 10 M
points) in a real `mlflow server` (SQLite). Runs, params and tags are created with MLflow's client; the
metric rows are written straight into the server's database (through MLflow's client that would take
longer than the benchmark itself). Every contender reads the source through the server's REST API and
writes into a local SQLite store:

- asyncclient: ``asyncclient import URL --to DIR`` (the embedded store);
- mlflow-export-import (``export-experiment`` to files, then ``import-experiment``), when its commands are
  found (``--export-import-bin``, else on PATH); its import writes through a tracking server only, so it
  writes into a second `mlflow server` (SQLite);
- MLflow's ``MlflowClient`` copying run by run: ``get_metric_history`` per metric, ``log_batch`` of 1000.

The peers copy only the first PEER_RUNS runs (at their speed all 100 would take hours); points/s compares
like with like. Every copy is checked: the destination holds every point.

    python benchmarks/bench_import.py [--runs 100] [--metrics 10] [--steps 10000] [--peer-runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings

import requests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T0 = 1_700_000_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mlflow_server(workdir: str) -> tuple[subprocess.Popen, str]:
    os.makedirs(workdir, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(os.path.join(workdir, "mlflow-server.log"), "ab")
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
                             f"sqlite:///{workdir}/mlflow.db", "--artifacts-destination", f"{workdir}/mlartifacts",
                             "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.3)
    raise RuntimeError("mlflow server did not start")


def populate(url: str, db: str, runs: int, metrics: int, steps: int) -> list[str]:
    from mlflow.entities import Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(url)
    experiment_id = client.create_experiment("bench-import")
    run_ids = []
    for i in range(runs):
        run = client.create_run(experiment_id, start_time=T0 + i, run_name=f"run-{i}")
        client.log_batch(run.info.run_id, params=[Param("lr", str(0.001 * (i + 1)))], tags=[RunTag("sweep", "a")])
        client.set_terminated(run.info.run_id, "FINISHED", end_time=T0 + i + 60_000)
        run_ids.append(run.info.run_id)
    keys = [f"metric_{k}" for k in range(metrics)]
    with sqlite3.connect(db) as conn:
        for run_id in run_ids:
            conn.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                             "VALUES (?, ?, ?, ?, ?, 0)",
                             ((key, 1.0 / (s + 1 + k), T0 + s, run_id, s)
                              for k, key in enumerate(keys) for s in range(steps)))
            conn.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
                             "VALUES (?, ?, ?, ?, 0, ?)",
                             ((key, 1.0 / (steps + k), T0 + steps - 1, steps - 1, run_id)
                              for k, key in enumerate(keys)))
    return run_ids


def warm_up(url: str, run_id: str) -> None:
    """A fresh `mlflow server` answers its first reads several times slower: nobody should pay for that."""
    for _ in range(3):
        requests.get(url + "/api/2.0/mlflow/metrics/get-history", params={"run_id": run_id, "metric_key": "metric_0"})
        requests.get(url + "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
                     params={"run_id": run_id, "metric_key": "metric_0", "max_results": 25000})
        requests.post(url + "/api/2.0/mlflow/runs/search", json={"experiment_ids": ["1"], "max_results": 10})


def count_points(db: str, table: str = "metrics") -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def bench_asyncclient(url: str, workdir: str) -> float:
    dest = os.path.join(workdir, "asyncclient-dest")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH")) if p))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "asyncclient.cli", "import", url, "--to", dest, "--no-progress"],
                   check=True, env=env)
    return time.perf_counter() - started


def bench_mlflow_client(url: str, run_ids: list[str], workdir: str) -> float:
    from mlflow.tracking import MlflowClient

    source, dest = MlflowClient(url), MlflowClient(f"sqlite:///{workdir}/mlflowclient-dest.db")
    started = time.perf_counter()
    experiment_id = dest.create_experiment("bench-import")
    for run_id in run_ids:
        run = source.get_run(run_id)
        copy = dest.create_run(experiment_id, start_time=run.info.start_time, run_name=run.info.run_name)
        for key, value in run.data.params.items():
            dest.log_param(copy.info.run_id, key, value)
        for key in run.data.metrics:
            history = source.get_metric_history(run_id, key)
            for start in range(0, len(history), 1000):
                dest.log_batch(copy.info.run_id, metrics=history[start:start + 1000])
        dest.set_terminated(copy.info.run_id, run.info.status, run.info.end_time)
    return time.perf_counter() - started


def bench_export_import(url: str, dest_url: str, run_ids: list[str], workdir: str, bin_dir: str) -> float:
    export_dir = os.path.join(workdir, "exported")
    started = time.perf_counter()
    subprocess.run([os.path.join(bin_dir, "export-experiment"), "--experiment", "bench-import", "--output-dir",
                    export_dir, "--run-ids", ",".join(run_ids)], check=True, capture_output=True,
                   env=dict(os.environ, MLFLOW_TRACKING_URI=url))
    subprocess.run([os.path.join(bin_dir, "import-experiment"), "--experiment-name", "bench-import",
                    "--input-dir", export_dir], check=True, capture_output=True,
                   env=dict(os.environ, MLFLOW_TRACKING_URI=dest_url))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--peer-runs", type=int, default=3)
    parser.add_argument("--export-import-bin", default=None,
                        help="folder holding mlflow-export-import's commands (default: found on PATH)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    workdir = tempfile.mkdtemp(prefix="bench-import-")
    proc, url = start_mlflow_server(workdir)
    servers = [proc]
    try:
        t = time.perf_counter()
        run_ids = populate(url, os.path.join(workdir, "mlflow.db"), args.runs, args.metrics, args.steps)
        points = args.runs * args.metrics * args.steps
        print(f"source: {url}, {args.runs} runs x {args.metrics} metrics x {args.steps:,} steps = {points:,} points "
              f"(populated in {time.perf_counter() - t:.0f} s)")
        warm_up(url, run_ids[0])
        rows = []
        seconds = bench_asyncclient(url, workdir)
        stored = count_points(os.path.join(workdir, "asyncclient-dest", "mlflow.db"))
        assert stored == points, f"asyncclient stored {stored:,} of {points:,} points"
        rows.append(("asyncclient import", args.runs, points, seconds))

        peer_ids = run_ids[:args.peer_runs]
        peer_points = len(peer_ids) * args.metrics * args.steps
        bin_dir = args.export_import_bin or os.path.dirname(shutil.which("export-experiment") or "")
        if bin_dir and os.path.exists(os.path.join(bin_dir, "export-experiment")):
            # Its import writes through a tracking server only (it asks the store for HTTP credentials).
            dest_dir = os.path.join(workdir, "export-import-dest")
            dest_proc, dest_url = start_mlflow_server(dest_dir)
            servers.append(dest_proc)
            seconds = bench_export_import(url, dest_url, peer_ids, workdir, bin_dir)
            stored = count_points(os.path.join(dest_dir, "mlflow.db"))
            assert stored == peer_points, f"mlflow-export-import stored {stored:,} of {peer_points:,} points"
            rows.append(("mlflow-export-import", len(peer_ids), peer_points, seconds))
        else:
            print("mlflow-export-import not found (pip install databricks-mlflow-export-import): skipped")
        seconds = bench_mlflow_client(url, peer_ids, workdir)
        stored = count_points(os.path.join(workdir, "mlflowclient-dest.db"))
        assert stored == peer_points, f"MlflowClient copy stored {stored:,} of {peer_points:,} points"
        rows.append(("MlflowClient run by run", len(peer_ids), peer_points, seconds))

        ours = rows[0][2] / rows[0][3]
        print("\n| copy (mlflow server -> local SQLite) | runs | points | seconds | points/s | asyncclient is |")
        print("|---|---|---|---|---|---|")
        for name, n_runs, n_points, secs in rows:
            rate = n_points / secs
            ratio = "" if name.startswith("asyncclient") else f"{ours / rate:.1f}x faster"
            print(f"| {name} | {n_runs} | {n_points:,} | {secs:.1f} | {rate:,.0f} | {ratio} |")
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
