"""Real `mlflow server` and `asyncclient server` processes for the import/export tests, on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _serving(args: list[str], workdir: str, name: str):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(os.path.join(workdir, f"{name}-{port}.log"), "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", *args, "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
        try:
            deadline = time.monotonic() + 90
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see {log.name}")
                try:
                    if requests.get(url + "/health", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} at {url} not healthy after 90 s")
                time.sleep(0.2)
            yield url
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def mlflow_server(workdir: str):
    """`mlflow server` over SQLite, serving artifacts itself (mlflow-artifacts:/ URIs, MLflow 3's default)."""
    os.makedirs(workdir, exist_ok=True)
    return _serving(["mlflow", "server", "--backend-store-uri", f"sqlite:///{workdir}/mlflow.db",
                     "--artifacts-destination", f"{workdir}/mlartifacts", "--workers", "1"], workdir, "mlflow")


def asyncclient_server(workdir: str, backend_store_uri: str | None = None):
    """`asyncclient server` over a SQLite file (by default a new one in ``workdir``)."""
    os.makedirs(workdir, exist_ok=True)
    return _serving(["asyncclient.server", "--backend-store-uri",
                     backend_store_uri or f"sqlite:///{workdir}/asyncclient.db",
                     "--artifacts-destination", f"{workdir}/mlartifacts"], workdir, "asyncclient")


def run_cli(*args: str, check: bool = True, progress: bool = False,
            tracking_uri: str | None = None) -> subprocess.CompletedProcess:
    """``python -m asyncclient.cli ...`` of the checkout under test (tests/conftest.py sets PYTHONPATH);
    ``tracking_uri``: its MLFLOW_TRACKING_URI."""
    env = dict(os.environ, MLFLOW_TRACKING_URI=tracking_uri) if tracking_uri else None
    done = subprocess.run([sys.executable, "-m", "asyncclient.cli", *args, "--progress" if progress else "--no-progress"],
                          capture_output=True, text=True, timeout=300, env=env)
    if check and done.returncode != 0:
        raise AssertionError(f"asyncclient {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done
