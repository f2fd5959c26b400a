"""Fixtures: asyncclient servers started as real subprocesses on 127.0.0.1 and a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}:\n{_output(proc)}")
        try:
            if requests.get(url + "/health", timeout=1).text == "OK":
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server at {url} not healthy after {timeout}s:\n{_output(proc)}")


def _output(proc: subprocess.Popen) -> str:
    try:
        out, _ = proc.communicate(timeout=5)
        return out.decode(errors="replace") if out else ""
    except Exception:
        return ""


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class ServerProcess:
    """A running ``python -m asyncclient.server`` and its URL."""

    def __init__(self, url: str, proc: subprocess.Popen, workdir: Path):
        self.url = url
        self.proc = proc
        self.workdir = workdir

    def api(self, path: str) -> str:
        return f"{self.url}/api/2.0/mlflow/{path}"


def start_server(workdir: Path, *args: str, backend: str | None = "default") -> ServerProcess:
    """Start a server whose files live in ``workdir``; ``backend="default"`` = SQLite in workdir."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [sys.executable, "-m", "asyncclient.server", "--host", "127.0.0.1", "--port", str(port)]
    if backend == "default":
        backend = f"sqlite:///{workdir / 'server.db'}"
    if backend:
        cmd += ["--backend-store-uri", backend]
    if "--artifacts-destination" not in args:
        cmd += ["--artifacts-destination", str(workdir / "mlartifacts")]
    cmd += list(args)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc)
    return ServerProcess(url, proc, workdir)


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
