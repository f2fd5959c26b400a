"""Fixtures shared by every test folder: real peer servers started on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

# Subprocesses (servers, children, scripts) import the checkout under test too.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (REPO_ROOT, os.environ.get("PYTHONPATH")) if p)

# Ring files of this test session live in their own folder, so nothing a test leaves behind
# (on purpose, e.g. the dead-server exit test) reaches another process.
os.environ.setdefault("ASYNCCLIENT_SPOOL_DIR", tempfile.mkdtemp(prefix="asyncclient-spool-"))


@pytest.fixture(autouse=True)
def _mlflow_environment_restored():
    """MLflow's own set_experiment / set_tracking_uri write MLFLOW_* variables into os.environ; a test's
    must not reach the next test's subprocesses (a later script then looked for "experiment 1")."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}
    yield
    for key in [k for k in os.environ if k.startswith("MLFLOW_") and k not in saved]:
        del os.environ[key]
    os.environ.update(saved)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(url: str, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy within {timeout}s")


class MlflowServer:
    """A real `mlflow server` process with a SQLite backend, on 127.0.0.1."""

    def __init__(self, workdir: str, port: int | None = None):
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> MlflowServer:
        db = os.path.join(self.workdir, "mlflow.db")
        self.log = open(os.path.join(self.workdir, f"server-{self.port}.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{db}",
             "--default-artifact-root", os.path.join(self.workdir, "artifacts"),
             "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True,
        )
        wait_for_health(self.url, proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.proc = None


class AsyncclientServer(MlflowServer):
    """A real `asyncclient server` process (SQLite backend) on 127.0.0.1."""

    def start(self) -> AsyncclientServer:
        db = os.path.join(self.workdir, "asyncclient.db")
        self.log = open(os.path.join(self.workdir, f"asyncclient-server-{self.port}.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "asyncclient.server", "--backend-store-uri", f"sqlite:///{db}",
             "--artifacts-destination", os.path.join(self.workdir, "mlartifacts"),
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True,
        )
        wait_for_health(self.url, proc=self.proc)
        return self


@pytest.fixture(scope="session")
def asyncclient_server(tmp_path_factory):
    server = AsyncclientServer(str(tmp_path_factory.mktemp("asyncclient-server"))).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    server = MlflowServer(str(tmp_path_factory.mktemp("mlflow-server"))).start()
    yield server
    server.stop()


@pytest.fixture
def own_mlflow_server(tmp_path):
    """A server a test may stop and restart."""
    server = MlflowServer(str(tmp_path)).start()
    yield server
    server.stop()
