"""The server's artifact modes end to end with MLflow's own client: ``--no-serve-artifacts`` (clients write
to the object store themselves), ``--artifacts-only`` (tracking routes refused as ``mlflow server`` refuses
them) and an experiment created with its own ``artifact_location="s3://..."`` on a proxying server."""

from __future__ import annotations

import os
import subprocess
import sys

import mlflow
import pytest
import requests
from artifact_fixtures import AZURITE_ACCOUNT, BUCKET, CONTAINER, _stop, _wait, free_port
from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository as MlflowHttpRepo

import asyncclient.tracking


def _file(tmp_path, name: str, size: int = 200_000) -> tuple[str, bytes]:
    data = os.urandom(size)
    (tmp_path / name).write_bytes(data)
    return str(tmp_path / name), data


def test_no_serve_artifacts_clients_write_to_s3_themselves(s3_env, server_factory, point_clients, tmp_path):
    server = server_factory("--no-serve-artifacts", "--default-artifact-root", f"s3://{BUCKET}/direct",
                            env=s3_env.env)
    point_clients(server.url)
    path, data = _file(tmp_path, "m.bin")
    with mlflow.start_run() as run:
        mlflow.log_artifact(path, "mlflow")
    run_id = run.info.run_id
    exp = run.info.experiment_id
    assert run.info.artifact_uri == f"s3://{BUCKET}/direct/{exp}/{run_id}/artifacts"
    assert s3_env.read(f"direct/{exp}/{run_id}/artifacts/mlflow/m.bin") == data

    ours = asyncclient.tracking.MlflowClient(server.url)
    ours.log_text(run_id, "from asyncclient", "ours/t.txt")
    assert s3_env.read(f"direct/{exp}/{run_id}/artifacts/ours/t.txt") == b"from asyncclient"
    (tmp_path / "d").mkdir()
    assert open(ours.download_artifacts(run_id, "mlflow/m.bin", str(tmp_path / "d")), "rb").read() == data
    # The server lists what the clients wrote, reading S3 itself.
    listing = requests.get(f"{server.url}/api/2.0/mlflow/artifacts/list", params={"run_id": run_id}, timeout=30)
    assert [f["path"] for f in listing.json()["files"]] == ["mlflow", "ours"]
    # ...but does not proxy.
    refused = requests.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/x", timeout=30)
    assert refused.status_code == 503 and "--no-serve-artifacts" in refused.text


def test_no_serve_artifacts_with_azure_blob_both_clients(azure_env, server_factory, point_clients, tmp_path):
    root = f"wasbs://{CONTAINER}@{AZURITE_ACCOUNT}.blob.core.windows.net/direct"
    server = server_factory("--no-serve-artifacts", "--default-artifact-root", root, env=azure_env.env)
    point_clients(server.url)
    path, data = _file(tmp_path, "w.bin")
    with mlflow.start_run() as run:
        mlflow.log_artifact(path)  # MLflow's AzureBlobArtifactRepository
    run_id, exp = run.info.run_id, run.info.experiment_id
    assert run.info.artifact_uri == f"{root}/{exp}/{run_id}/artifacts"
    assert azure_env.read(f"direct/{exp}/{run_id}/artifacts/w.bin") == data

    ours = asyncclient.tracking.MlflowClient(server.url)
    ours.log_dict(run_id, {"a": 1}, "cfg.json")
    assert [(f.path, f.is_dir) for f in ours.list_artifacts(run_id)] == [("cfg.json", False), ("w.bin", False)]
    (tmp_path / "d").mkdir()
    assert open(ours.download_artifacts(run_id, "w.bin", str(tmp_path / "d")), "rb").read() == data
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/cfg.json") == {"a": 1}


@pytest.fixture
def mlflow_artifacts_only(s3_store, tmp_path):
    """A real ``mlflow server --artifacts-only`` over the same S3, to compare refusals with."""
    port = free_port()
    log = tmp_path / "mlflow.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--artifacts-only", "--artifacts-destination",
             f"s3://{BUCKET}/mlflow-ao", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True,
            env={**os.environ, **s3_store.env})
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/health", proc, log, ok=lambda r: r.status_code == 200, timeout=120)
        yield url
    finally:
        _stop(proc)


def test_artifacts_only_serves_s3_and_refuses_tracking_as_mlflow(s3_env, server_factory, mlflow_artifacts_only,
                                                                  tmp_path):
    server = server_factory("--artifacts-only", "--artifacts-destination", f"s3://{BUCKET}/ao", env=s3_env.env)
    path, data = _file(tmp_path, "only.bin")
    repo = MlflowHttpRepo(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/team/x")
    repo.log_artifact(path, "sub")
    assert s3_env.read("ao/team/x/sub/only.bin") == data
    assert [f.path for f in repo.list_artifacts("sub")] == ["sub/only.bin"]
    repo.download_artifacts("sub/only.bin", str(tmp_path))
    assert (tmp_path / "sub" / "only.bin").read_bytes() == data

    for method, route in [("POST", "/api/2.0/mlflow/experiments/create"), ("GET", "/api/2.0/mlflow/runs/get"),
                          ("GET", "/api/2.0/mlflow/artifacts/list")]:
        ours = requests.request(method, server.url + route, json={"name": "e"}, timeout=30)
        theirs = requests.request(method, mlflow_artifacts_only + route, json={"name": "e"}, timeout=30)
        assert (ours.status_code, ours.text) == (theirs.status_code, theirs.text), route


def test_experiment_with_its_own_s3_location_on_a_proxying_server(s3_env, server_factory, point_clients, tmp_path):
    server = server_factory("--artifacts-destination", str(tmp_path / "proxied"), env=s3_env.env)
    point_clients(server.url)
    exp = mlflow.create_experiment("own-location", artifact_location=f"s3://{BUCKET}/own")
    path, data = _file(tmp_path, "e.bin")
    with mlflow.start_run(experiment_id=exp) as run:
        mlflow.log_artifact(path)
    run_id = run.info.run_id
    assert run.info.artifact_uri == f"s3://{BUCKET}/own/{run_id}/artifacts"
    assert s3_env.read(f"own/{run_id}/artifacts/e.bin") == data
    assert not (tmp_path / "proxied").exists() or not any((tmp_path / "proxied").iterdir())

    # The server reads the experiment's own location for the UI's routes.
    got = requests.get(f"{server.url}/get-artifact", params={"run_id": run_id, "path": "e.bin"}, timeout=30)
    assert (got.status_code, got.content) == (200, data)
    ours = asyncclient.tracking.MlflowClient(server.url)
    assert [(f.path, f.file_size) for f in ours.list_artifacts(run_id)] == [("e.bin", len(data))]
