"""The proxied artifact API over each destination (local folder, S3 on moto, Azure Blob on Azurite): what
MLflow's client and asyncclient's write through an asyncclient server lands byte-exact in the store, and
reads, ranges, listings, deletes and multipart uploads behave as with ``mlflow server``."""

from __future__ import annotations

import hashlib
import os

import mlflow
import pytest
import requests
from artifact_fixtures import BIG_FILE_MIB
from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository as MlflowHttpRepo

import asyncclient.tracking

SERVICE = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def served(destination, destination_server, point_clients):
    """The asyncclient server proxying ``destination``, and both clients pointed at it."""
    point_clients(destination_server.url)
    return destination_server, destination


def _new_run(url: str) -> tuple[str, str]:
    client = mlflow.MlflowClient(url)
    exp = client.create_experiment(f"e-{os.urandom(4).hex()}")
    return exp, client.create_run(exp).info.run_id


def _write(path, size: int, seed: bytes = b"") -> bytes:
    data = (hashlib.sha256(seed).digest() * (size // 32 + 1))[:size] if seed else os.urandom(size)
    path.write_bytes(data)
    return data


def test_mlflow_client_put_lands_byte_exact_in_the_store_and_reads_back(served, tmp_path):
    server, dest = served
    exp, run_id = _new_run(server.url)
    data = _write(tmp_path / "model.bin", 3 * 1024 * 1024 + 17)
    client = mlflow.MlflowClient(server.url)
    client.log_artifact(run_id, str(tmp_path / "model.bin"), "weights")

    assert dest.read(f"{dest.key_prefix}{exp}/{run_id}/artifacts/weights/model.bin") == data
    assert [(f.path, f.is_dir) for f in client.list_artifacts(run_id)] == [("weights", True)]
    assert [(f.path, f.file_size) for f in client.list_artifacts(run_id, "weights")] == \
        [("weights/model.bin", len(data))]
    local = client.download_artifacts(run_id, "weights/model.bin", str(tmp_path / "down"))
    assert open(local, "rb").read() == data


def test_asyncclient_client_round_trip_through_the_proxy(served, tmp_path):
    server, dest = served
    exp, run_id = _new_run(server.url)
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    a = _write(tmp_path / "tree" / "a.bin", 1024 * 1024 + 3)
    c = _write(tmp_path / "tree" / "sub" / "c.txt", 5)
    client = asyncclient.tracking.MlflowClient(server.url)
    client.log_artifacts(run_id, str(tmp_path / "tree"), "tree")

    root = f"{dest.key_prefix}{exp}/{run_id}/artifacts/"
    assert dest.keys(root) == [root + "tree/a.bin", root + "tree/sub/c.txt"]
    (tmp_path / "down").mkdir()
    down = client.download_artifacts(run_id, "tree", str(tmp_path / "down"))
    assert open(os.path.join(down, "a.bin"), "rb").read() == a
    assert open(os.path.join(down, "sub", "c.txt"), "rb").read() == c


def test_mlflow_multipart_upload_assembles_the_parts_byte_exact(served, tmp_path, monkeypatch):
    server, dest = served
    exp, run_id = _new_run(server.url)
    part = 5 * 1024 * 1024  # S3's smallest part
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(part))
    data = _write(tmp_path / "big.bin", 2 * part + 1234)
    repo = MlflowHttpRepo(f"{server.url}{SERVICE}/{exp}/{run_id}/artifacts")
    # MLflow's own multipart path, which raises (instead of falling back to one PUT) when unsupported.
    repo._try_multipart_upload(str(tmp_path / "big.bin"), "mpu")

    root = f"{dest.key_prefix}{exp}/{run_id}/artifacts/"
    assert dest.keys(root) == [root + "mpu/big.bin"]  # no part or staging file left behind
    assert dest.read(root + "mpu/big.bin") == data
    local = mlflow.MlflowClient(server.url).download_artifacts(run_id, "mpu/big.bin", str(tmp_path / "d"))
    assert open(local, "rb").read() == data


def test_mlflow_log_artifact_with_multipart_enabled_stores_the_file(served, tmp_path, monkeypatch):
    server, dest = served
    exp, run_id = _new_run(server.url)
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1024 * 1024))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * 1024 * 1024))
    data = _write(tmp_path / "ckpt.pt", 6 * 1024 * 1024)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_artifact(str(tmp_path / "ckpt.pt"))
    assert dest.read(f"{dest.key_prefix}{exp}/{run_id}/artifacts/ckpt.pt") == data


def test_aborted_multipart_upload_leaves_nothing(served, tmp_path):
    server, dest = served
    exp, run_id = _new_run(server.url)
    (tmp_path / "x.bin").write_bytes(b"x")
    repo = MlflowHttpRepo(f"{server.url}{SERVICE}/{exp}/{run_id}/artifacts")
    upload = repo.create_multipart_upload(str(tmp_path / "x.bin"), 2, "aborted")
    requests.put(upload.credentials[0].url, data=b"part one", headers=upload.credentials[0].headers,
                 timeout=30).raise_for_status()
    repo.abort_multipart_upload(str(tmp_path / "x.bin"), upload.upload_id, "aborted")
    assert dest.keys(f"{dest.key_prefix}{exp}/{run_id}/") == []
    assert mlflow.MlflowClient(server.url).list_artifacts(run_id) == []


def test_downloads_honour_byte_ranges(served, tmp_path):
    server, dest = served
    exp, run_id = _new_run(server.url)
    data = _write(tmp_path / "r.bin", 2 * 1024 * 1024 + 5)
    asyncclient.tracking.MlflowClient(server.url).log_artifact(run_id, str(tmp_path / "r.bin"))
    url = f"{server.url}{SERVICE}/{exp}/{run_id}/artifacts/r.bin"

    middle = requests.get(url, headers={"Range": "bytes=1048570-1048590"}, timeout=30)
    assert (middle.status_code, middle.content) == (206, data[1048570:1048591])
    assert middle.headers["Content-Range"] == f"bytes 1048570-1048590/{len(data)}"
    tail = requests.get(url, headers={"Range": "bytes=-7"}, timeout=30)
    assert (tail.status_code, tail.content) == (206, data[-7:])
    rest = requests.get(url, headers={"Range": f"bytes={len(data) - 3}-"}, timeout=30)
    assert (rest.status_code, rest.content) == (206, data[-3:])
    beyond = requests.get(url, headers={"Range": f"bytes={len(data)}-"}, timeout=30)
    assert beyond.status_code == 416
    whole = requests.get(url, timeout=30)
    assert (whole.status_code, whole.headers["Accept-Ranges"], whole.content) == (200, "bytes", data)


def test_delete_through_the_proxy_removes_a_file_or_a_tree(served, tmp_path):
    server, dest = served
    exp, run_id = _new_run(server.url)
    for name in ("keep.txt", "d/one.txt", "d/e/two.txt"):
        (tmp_path / "src" / os.path.dirname(name)).mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / name).write_text(name)
    client = mlflow.MlflowClient(server.url)
    client.log_artifacts(run_id, str(tmp_path / "src"))
    repo = MlflowHttpRepo(f"{server.url}{SERVICE}/{exp}/{run_id}/artifacts")

    repo.delete_artifacts("d")
    root = f"{dest.key_prefix}{exp}/{run_id}/artifacts/"
    assert dest.keys(root) == [root + "keep.txt"]
    repo.delete_artifacts("keep.txt")
    assert dest.keys(root) == []
    assert client.list_artifacts(run_id) == []


def test_missing_artifact_is_404_in_mlflow_format(served):
    server, _ = served
    r = requests.get(f"{server.url}{SERVICE}/0/nope/artifacts/missing.bin", timeout=30)
    assert r.status_code == 404
    assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_large_file_streams_through_the_server_in_flat_memory(served, big_file, tmp_path):
    """A file far larger than the server's memory growth allowance goes up (MLflow's client, one PUT) and
    down (asyncclient's client) byte-exact; the server's peak RSS grows by far less than the file."""
    server, dest = served
    exp, run_id = _new_run(server.url)
    server.reset_peak_rss()
    before = server.rss_mib()
    mlflow.MlflowClient(server.url).log_artifact(run_id, str(big_file))
    down = asyncclient.tracking.MlflowClient(server.url).download_artifacts(
        run_id, big_file.name, str(tmp_path))
    growth = server.peak_rss_mib() - before

    assert _sha256(down) == _sha256(big_file)
    assert os.path.getsize(down) == BIG_FILE_MIB * 1024 * 1024
    # A server that buffered the body would grow by at least the file's size.
    assert growth < 64, f"peak RSS grew by {growth:.0f} MiB moving a {BIG_FILE_MIB} MiB file ({dest.kind})"


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()
