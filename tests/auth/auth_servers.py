"""Starting two real servers with the basic-auth app: ``mlflow server --app-name basic-auth`` and ours, set up alike.

Each gets the same users (an admin, and reader / editor / manager holding READ / EDIT / MANAGE on one
experiment), created through MLflow's own ``AuthServiceClient``, so a test can ask both the same question and
compare the answers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(url: str, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy within {timeout}s")

ADMIN = ("admin", "admin-password-1")
USERS = {"reader": ("reader", "reader-password-1"), "editor": ("editor", "editor-password-1"),
         "manager": ("manager", "manager-password-1"), "outsider": ("outsider", "outsider-password-1")}
GRANTS = {"reader": "READ", "editor": "EDIT", "manager": "MANAGE"}


def auth_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(MLFLOW_AUTH_ADMIN_PASSWORD=ADMIN[1], MLFLOW_FLASK_SERVER_SECRET_KEY="test-secret-key")
    env.pop("MLFLOW_AUTH_CONFIG_PATH", None)
    env.update(extra)
    return env


@dataclass
class AuthServer:
    name: str
    url: str
    proc: subprocess.Popen
    experiment_id: str = ""
    run_id: str = ""
    ids: dict = field(default_factory=dict)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()


def start_auth_server(kind: str, workdir: Path, env: dict | None = None, extra_args: tuple = ()) -> AuthServer:
    port = free_port()
    if kind == "mlflow":
        cmd = [sys.executable, "-m", "mlflow", "server", "--app-name", "basic-auth",
               "--backend-store-uri", f"sqlite:///{workdir}/mlflow.db",
               "--default-artifact-root", str(workdir / "artifacts"), "--workers", "1"]
    else:
        cmd = [sys.executable, "-m", "asyncclient.server", "--app-name", "basic-auth",
               "--backend-store-uri", f"sqlite:///{workdir}/asyncclient.db",
               "--artifacts-destination", str(workdir / "mlartifacts")]
    cmd += ["--host", "127.0.0.1", "--port", str(port), *extra_args]
    log = open(workdir / f"{kind}-{port}.log", "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True,
                            env=env or auth_env())
    server = AuthServer(kind, f"http://127.0.0.1:{port}", proc)
    try:
        wait_for_health(server.url, timeout=120, proc=proc)
    except Exception:
        server.stop()
        raise
    return server


def populate(server: AuthServer) -> None:
    """The same users, experiment, run and grants on either server, through MLflow's clients."""
    from mlflow.server import get_app_client

    os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = ADMIN
    try:
        auth = get_app_client("basic-auth", tracking_uri=server.url)
        for username, password in USERS.values():
            auth.create_user(username, password)
        body = requests.post(server.url + "/api/2.0/mlflow/experiments/create", json={"name": "shared"},
                             auth=ADMIN).json()
        server.experiment_id = body["experiment_id"]
        server.run_id = requests.post(server.url + "/api/2.0/mlflow/runs/create",
                                      json={"experiment_id": server.experiment_id}, auth=ADMIN).json()["run"]["info"]["run_id"]
        for username, permission in GRANTS.items():
            auth.grant_user_permission(username, "experiment", server.experiment_id, permission)
    finally:
        del os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"]
