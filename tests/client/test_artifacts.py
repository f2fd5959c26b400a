"""Artifacts through asyncclient's client: the embedded store, a real `mlflow server` (local root and
proxied `mlflow-artifacts:`), asyncclient's server, and S3 (moto); read back with MLflow's own client."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

import asyncclient as mlflow
from asyncclient.exceptions import MlflowException
from asyncclient.tracking import MlflowClient

BINARY = bytes(range(256)) * 41  # every byte value, not a multiple of any chunk size


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def files(tmp_path):
    """A local tree to upload: a text file, a binary file, a nested file."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha\n")
    (src / "b.bin").write_bytes(BINARY)
    (src / "sub" / "c.txt").write_text("gamma")
    return src


@pytest.fixture
def embedded(tracking_at, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tracking_at(f"sqlite:///{tmp_path}/x.db")
    return tmp_path


@pytest.fixture(scope="module", autouse=True)
def _proxy_launch(tmp_path_factory):
    """`mlflow server --artifacts-destination <tmp>` without --default-artifact-root: runs get
    `mlflow-artifacts:/` URIs and files go through the server. Launched when the module starts so its
    slow start-up overlaps the tests that do not need it."""
    work = tmp_path_factory.mktemp("mlflow-proxy")
    port = _free_port()
    log = open(work / "server.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{work}/mlflow.db",
         "--artifacts-destination", str(work / "dest"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, cwd=work, start_new_session=True)
    yield proc, f"http://127.0.0.1:{port}", work
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:  # a throwaway server: no need to wait for a graceful stop
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


@pytest.fixture
def proxy_mlflow_server(_proxy_launch) -> str:
    proc, url, work = _proxy_launch
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not start; see {work / 'server.log'}") from None
            time.sleep(0.3)


def _log_everything(files) -> str:
    """Log the same artifacts through each fluent call; returns the run id."""
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(files / "a.txt"))
        mlflow.log_artifact(str(files / "b.bin"), artifact_path="bin")
        mlflow.log_artifacts(str(files), artifact_path="tree")
        mlflow.log_text("hello ✓", "notes/hello.txt")
        mlflow.log_dict({"lr": 0.1, "layers": [1, 2]}, "config.json")
    return run.info.run_id


def _assert_peer_reads(peer, run_id: str, dst) -> None:
    """What MLflow's own client sees of the run's artifacts."""
    assert [(f.path, f.is_dir) for f in peer.list_artifacts(run_id)] == [
        ("a.txt", False), ("bin", True), ("config.json", False), ("notes", True), ("tree", True)]
    assert [f.path for f in peer.list_artifacts(run_id, "tree")] == ["tree/a.txt", "tree/b.bin", "tree/sub"]
    local = peer.download_artifacts(run_id, "tree", str(dst))
    assert open(os.path.join(local, "b.bin"), "rb").read() == BINARY
    assert open(os.path.join(local, "sub", "c.txt")).read() == "gamma"
    assert open(peer.download_artifacts(run_id, "notes/hello.txt", str(dst)), encoding="utf-8").read() == "hello ✓"


# ---- embedded store ----

def test_embedded_round_trip_keeps_bytes_and_tree(embedded, files):
    run_id = _log_everything(files)
    client = MlflowClient()
    assert [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id, "tree")] == [
        ("tree/a.txt", False, 6), ("tree/b.bin", False, len(BINARY)), ("tree/sub", True, None)]
    (embedded / "out").mkdir()
    local = client.download_artifacts(run_id, "", str(embedded / "out"))
    assert open(os.path.join(local, "bin", "b.bin"), "rb").read() == BINARY
    assert open(os.path.join(local, "tree", "sub", "c.txt")).read() == "gamma"
    assert open(os.path.join(local, "notes", "hello.txt"), encoding="utf-8").read() == "hello ✓"


def test_embedded_artifacts_live_under_the_run_artifact_uri(embedded, files):
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(files / "a.txt"), "x")
        uri = mlflow.get_artifact_uri("x/a.txt")
    assert uri == run.info.artifact_uri + "/x/a.txt"
    assert uri.startswith("file://") and open(uri[len("file://"):]).read() == "alpha\n"


def test_log_dict_writes_json_or_yaml_by_extension(embedded):
    data = {"lr": 0.1, "layers": [1, 2], "name": "net"}
    with mlflow.start_run() as run:
        mlflow.log_dict(data, "c.json")
        mlflow.log_dict(data, "cfg/c.yaml")
    client = MlflowClient()
    assert json.load(open(client.download_artifacts(run.info.run_id, "c.json"))) == data
    assert yaml.safe_load(open(client.download_artifacts(run.info.run_id, "cfg/c.yaml"))) == data
    assert mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/cfg/c.yaml") == data


def test_download_of_a_single_file_returns_its_path(embedded, files):
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(files / "b.bin"), "deep/er")
    path = MlflowClient().download_artifacts(run.info.run_id, "deep/er/b.bin", str(embedded))
    assert path == str(embedded / "deep" / "er" / "b.bin")
    assert open(path, "rb").read() == BINARY


def test_artifact_path_escaping_the_run_root_is_refused(embedded, files):
    with mlflow.start_run():
        with pytest.raises(MlflowException) as e:
            mlflow.log_artifact(str(files / "a.txt"), "../../elsewhere")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert not (embedded / "elsewhere").exists()


def test_missing_local_file_raises_a_clear_error(embedded, tmp_path):
    with mlflow.start_run(), pytest.raises(MlflowException, match="no-such.txt"):
        mlflow.log_artifact(str(tmp_path / "no-such.txt"))


# ---- a real mlflow server ----

def test_mlflow_server_local_root_is_written_directly_and_mlflow_reads_it(tracking, peer, files, tmp_path):
    run_id = _log_everything(files)
    # The shared fixture runs with --default-artifact-root <folder>: a plain local path, no scheme.
    assert peer.get_run(run_id).info.artifact_uri.startswith(tracking.workdir)
    _assert_peer_reads(peer, run_id, tmp_path)


def test_mlflow_server_proxied_artifacts_round_trip(tracking_at, proxy_mlflow_server, files, tmp_path):
    from mlflow.tracking import MlflowClient as PeerClient

    tracking_at(proxy_mlflow_server)
    run_id = _log_everything(files)
    peer = PeerClient(proxy_mlflow_server)
    assert peer.get_run(run_id).info.artifact_uri.startswith("mlflow-artifacts:/")
    (tmp_path / "peer").mkdir()
    _assert_peer_reads(peer, run_id, tmp_path / "peer")
    local = MlflowClient().download_artifacts(run_id, "bin/b.bin", str(tmp_path))
    assert open(local, "rb").read() == BINARY


def test_proxied_download_of_a_missing_file_raises_the_server_error(tracking_at, proxy_mlflow_server, tmp_path):
    tracking_at(proxy_mlflow_server)
    with mlflow.start_run() as run:
        pass
    with pytest.raises(MlflowException) as e:
        MlflowClient().download_artifacts(run.info.run_id, "nope.txt", str(tmp_path))
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_asyncclient_server_proxied_artifacts_read_by_mlflow(tracking_at, asyncclient_server, files, tmp_path):
    from mlflow.tracking import MlflowClient as PeerClient

    tracking_at(asyncclient_server.url)
    run_id = _log_everything(files)
    peer = PeerClient(asyncclient_server.url)
    assert peer.get_run(run_id).info.artifact_uri.startswith("mlflow-artifacts:/")
    _assert_peer_reads(peer, run_id, tmp_path)


# ---- S3 (moto) ----

@pytest.fixture
def s3(monkeypatch):
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1",
                       "MLFLOW_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}"}.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    import boto3

    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}")
    client.create_bucket(Bucket="bucket")
    yield client
    server.stop()


def test_s3_experiment_artifacts_round_trip(embedded, s3, files, tmp_path):
    exp = mlflow.create_experiment("s3-exp", artifact_location="s3://bucket/prefix")
    with mlflow.start_run(experiment_id=exp) as run:
        mlflow.log_artifacts(str(files), "tree")
        mlflow.log_text("hi", "t.txt")
    run_id = run.info.run_id
    assert run.info.artifact_uri == f"s3://bucket/prefix/{run_id}/artifacts"
    body = s3.get_object(Bucket="bucket", Key=f"prefix/{run_id}/artifacts/tree/b.bin")["Body"].read()
    assert body == BINARY
    client = MlflowClient()
    assert [(f.path, f.is_dir) for f in client.list_artifacts(run_id)] == [("t.txt", False), ("tree", True)]
    assert [(f.path, f.file_size) for f in client.list_artifacts(run_id, "tree/sub")] == [("tree/sub/c.txt", 5)]
    local = client.download_artifacts(run_id, "tree", str(tmp_path))
    assert open(os.path.join(local, "b.bin"), "rb").read() == BINARY
    assert open(os.path.join(local, "sub", "c.txt")).read() == "gamma"
