"""A script that never imports asyncclient, made to log through it: `python -m asyncclient.patch script.py`
and ASYNCCLIENT_PATCH_MLFLOW=1, against the real `mlflow server` and asyncclient's server; read back with
MLflow's own client."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPTS = os.path.join(HERE, "scripts")
PATCH_DIR = os.path.join("asyncclient", "patch")


def run_script(args: list[str], env_extra: dict | None = None, timeout: float = 180) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def installed_checkout(tmp_path_factory) -> str:
    """The checkout installed as pip installs it (with its entry points) into a folder of its own, which
    goes first on PYTHONPATH: MLflow finds asyncclient's plugin there exactly as after `pip install`."""
    # Built from a copy, so the build leaves no build/ or egg-info folder in the checkout.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(REPO_ROOT, name), source / name)
    shutil.copytree(os.path.join(REPO_ROOT, "asyncclient"), source / "asyncclient",
                    ignore=shutil.ignore_patterns("__pycache__", "node_modules", "frontend"))
    target = str(tmp_path_factory.mktemp("installed"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", target, str(source)], check=True, capture_output=True, timeout=300)
    return target


def history(peer, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in peer.get_metric_history(run_id, key))


def test_without_the_environment_variable_mlflow_is_left_alone(mlflow_server, unique_name, installed_checkout):
    out = run_script([os.path.join(SCRIPTS, "mlflow_fluent.py"), mlflow_server.url, unique_name, "5"],
                     {"PYTHONPATH": installed_checkout})
    assert PATCH_DIR not in out["log_metric"]


@pytest.mark.parametrize("how, server", [("python -m asyncclient.patch", "mlflow_server"),
                                         ("ASYNCCLIENT_PATCH_MLFLOW=1", "asyncclient_server")])
def test_plain_fluent_script(request, unique_name, installed_checkout, how, server):
    from mlflow.tracking import MlflowClient

    any_server = request.getfixturevalue(server)
    peer = MlflowClient(any_server.url)
    script = [os.path.join(SCRIPTS, "mlflow_fluent.py"), any_server.url, unique_name, "500"]
    if how.startswith("python"):
        out = run_script(["-m", "asyncclient.patch", *script])
    else:
        out = run_script(script, {"ASYNCCLIENT_PATCH_MLFLOW": "1", "PYTHONPATH": installed_checkout})
    assert PATCH_DIR in out["log_metric"]  # the fluent function itself, not only the client under it
    run = peer.get_run(out["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params == {"lr": "0.1", "batch": "32"} and run.data.tags["script"] == "fluent"
    assert history(peer, out["run_id"], "loss") == [(s, 1.0 / (s + 1)) for s in range(500)]
