"""Starting asyncclient servers as real subprocesses on 127.0.0.1 and a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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
    stop(proc)
    raise RuntimeError(f"server at {url} not healthy after {timeout}s:\n{_output(proc)}")


def _output(proc: subprocess.Popen) -> str:
    log = getattr(proc, "log_path", None)
    return Path(log).read_text(errors="replace")[-5000:] if log and Path(log).exists() else ""


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the group: worker processes too
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
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
    # Output goes to a file: an unread pipe would block the server once its buffer fills.
    log_path = workdir / f"server-{port}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    proc.log_path = log_path
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc)
    return ServerProcess(url, proc, workdir)
