"""Starting the auth app as MLflow's: no admin password, no start; the ini file's default permission; the
creator's MANAGE; routes without a rule (here /metrics) are for admins only."""

from __future__ import annotations

import os
import subprocess
import sys

import requests
from auth_servers import ADMIN, auth_env, start_auth_server


def _start_fails(tmp_path, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "asyncclient.server", "--app-name", "basic-auth", "--backend-store-uri",
         f"sqlite:///{tmp_path}/a.db", "--host", "127.0.0.1", "--port", "1"], env=env, capture_output=True,
        text=True, timeout=120, cwd=tmp_path)


def test_refuses_to_start_without_a_valid_admin_password(tmp_path):
    env = auth_env()
    del env["MLFLOW_AUTH_ADMIN_PASSWORD"]
    result = _start_fails(tmp_path, env)
    assert result.returncode != 0 and "MLFLOW_AUTH_ADMIN_PASSWORD" in result.stderr
    result = _start_fails(tmp_path, auth_env(MLFLOW_AUTH_ADMIN_PASSWORD="short"))
    assert result.returncode != 0 and "at least 12 characters" in result.stderr


def test_config_file_default_permission_creator_manage_and_admin_only_routes(tmp_path):
    ini = tmp_path / "auth.ini"
    ini.write_text("[mlflow]\ndefault_permission = NO_PERMISSIONS\ndatabase_uri = sqlite:///unused.db\n"
                   "admin_username = boss\n")
    env = auth_env(MLFLOW_AUTH_CONFIG_PATH=str(ini))
    server = start_auth_server("asyncclient", tmp_path, env=env,
                               extra_args=("--expose-prometheus", str(tmp_path / "prom")))
    boss = ("boss", ADMIN[1])
    try:
        api = server.url + "/api/2.0/mlflow/"
        assert requests.get(api + "experiments/search", auth=ADMIN, timeout=30).status_code == 401  # no "admin"
        requests.post(api + "users/create", json={"username": "ann", "password": "ann-password-12"}, auth=boss,
                      timeout=30).raise_for_status()
        ann = ("ann", "ann-password-12")
        theirs = requests.post(api + "experiments/create", json={"name": "boss-only"}, auth=boss,
                               timeout=30).json()["experiment_id"]
        assert requests.get(api + "experiments/get", params={"experiment_id": theirs}, auth=ann,
                            timeout=30).status_code == 403  # default NO_PERMISSIONS
        mine = requests.post(api + "experiments/create", json={"name": "ann's"}, auth=ann,
                             timeout=30).json()["experiment_id"]
        assert requests.post(api + "experiments/delete", json={"experiment_id": mine}, auth=ann,
                             timeout=30).status_code == 200  # the creator holds MANAGE
        assert requests.post(api + "registered-models/create", json={"name": "ann-model"}, auth=ann,
                             timeout=30).status_code == 200
        assert requests.delete(api + "registered-models/delete", json={"name": "ann-model"}, auth=ann,
                               timeout=30).status_code == 200
        seen = requests.post(api + "experiments/search", json={}, auth=ann, timeout=30).json()
        assert theirs not in {e["experiment_id"] for e in seen.get("experiments", [])}
        assert requests.get(server.url + "/metrics", auth=ann, timeout=30).status_code == 403
        assert "asyncclient_http_requests_total" in requests.get(server.url + "/metrics", auth=boss, timeout=30).text
    finally:
        server.stop()
    assert os.path.isdir(tmp_path / "prom")
