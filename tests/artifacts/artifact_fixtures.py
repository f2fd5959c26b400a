"""Real object stores and servers for the artifact tests (fixtures re-exported by conftest.py), all on 127.0.0.1 and free ports.

- S3: moto's server (``python -m moto.server``) in its own process, one bucket per test session.
- Azure Blob: Azurite from npm (installed by scripts/ensure-azurite.sh), one container per session.
- asyncclient servers: ``python -m asyncclient.server`` subprocesses over SQLite or PostgreSQL, with the
  artifact destination under test, their peak RSS read from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
AZURITE_DIR = Path(os.environ.get("ASYNCCLIENT_AZURITE_DIR", Path.home() / ".cache" / "asyncclient-azurite"))
# Azurite's well-known development account (documented by Microsoft; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
BUCKET = "artifacts"
CONTAINER = "artifacts"

_spec = importlib.util.spec_from_file_location(
    "asyncclient_store_test_fixtures_artifacts", REPO_ROOT / "tests" / "store" / "conftest.py")
_store_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_store_fixtures)
postgres_server_uri = _store_fixtures.postgres_server_uri


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, log: Path, ok=lambda r: r.status_code < 500, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:3]} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if ok(requests.get(url, timeout=1)):
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    _stop(proc)
    raise RuntimeError(f"{url} did not answer within {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _spawn(cmd: list[str], log: Path, env: dict | None = None, cwd: Path | None = None) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)


# ---- object stores ----

@dataclass
class S3Store:
    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                "MLFLOW_S3_ENDPOINT_URL": self.endpoint}

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1")

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def keys(self, prefix: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


@dataclass
class AzureStore:
    blob_endpoint: str

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                f"BlobEndpoint={self.blob_endpoint};")

    @property
    def env(self) -> dict[str, str]:
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string}

    def container(self):
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string).get_container_client(CONTAINER)

    def read(self, name: str) -> bytes:
        return self.container().download_blob(name).readall()

    def keys(self, prefix: str) -> list[str]:
        return sorted(b.name for b in self.container().list_blobs(name_starts_with=prefix))


@pytest.fixture(scope="session")
def s3_store(tmp_path_factory) -> Iterator[S3Store]:
    """moto's S3 server in its own process, with the bucket ``artifacts``."""
    workdir = tmp_path_factory.mktemp("moto")
    port = free_port()
    log = workdir / "moto.log"
    proc = _spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], log)
    store = S3Store(f"http://127.0.0.1:{port}")
    try:
        _wait(store.endpoint + "/moto-api/", proc, log)
        store.client().create_bucket(Bucket=BUCKET)
        yield store
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def azure_store(tmp_path_factory) -> Iterator[AzureStore]:
    """Azurite's blob service with the container ``artifacts``."""
    binary = AZURITE_DIR / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        message = f"Azurite not installed at {binary}; run scripts/ensure-azurite.sh"
        if os.environ.get("ASYNCCLIENT_REQUIRE_AZURITE"):  # scripts/test.sh installed it: missing is a failure
            pytest.fail(message)
        pytest.skip(message)
    import azure.storage.blob  # noqa: F401  (the test extra has it: missing is a failure, not a skip)
    workdir = tmp_path_factory.mktemp("azurite")
    port = free_port()
    log = workdir / "azurite.log"
    proc = _spawn([str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(workdir),
                   "--skipApiVersionCheck", "--loose", "--silent"], log)
    store = AzureStore(f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}")
    try:
        _wait(store.blob_endpoint + "?comp=list", proc, log, ok=lambda r: True)
        store.container().create_container()
        yield store
    finally:
        _stop(proc)


@pytest.fixture
def s3_env(s3_store, monkeypatch) -> S3Store:
    """This process (MLflow's and asyncclient's clients) configured for the S3 server."""
    for key, value in s3_store.env.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    return s3_store


@pytest.fixture
def azure_env(azure_store, monkeypatch) -> AzureStore:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azure_store.connection_string)
    return azure_store


# ---- asyncclient servers ----

@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    workdir: Path
    env: dict = field(default_factory=dict)

    def peak_rss_mib(self) -> float:
        """The process's peak resident set so far (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM in /proc status")

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS in /proc status")

    def reset_peak_rss(self) -> None:
        """Start a new peak measurement (writing 5 to clear_refs resets VmHWM to the current RSS)."""
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")


def start_server(workdir: Path, *args: str, env: dict | None = None, backend: str | None = None) -> Server:
    """``python -m asyncclient.server`` over ``backend`` (SQLite in ``workdir`` by default)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [sys.executable, "-m", "asyncclient.server", "--host", "127.0.0.1", "--port", str(port)]
    if "--artifacts-only" not in args:
        cmd += ["--backend-store-uri", backend or f"sqlite:///{workdir / 'server.db'}"]
    cmd += list(args)
    full_env = {**os.environ, **(env or {}),
                "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = workdir / f"server-{port}.log"
    proc = _spawn(cmd, log, env=full_env, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    _wait(url + "/health", proc, log, ok=lambda r: r.status_code == 200)
    return Server(url, proc, workdir, env or {})


@pytest.fixture
def server_factory(tmp_path) -> Iterator:
    """``server_factory(*args, env=..., backend=...)`` starts a server; all are stopped after the test."""
    started: list[Server] = []

    def factory(*args: str, env: dict | None = None, backend: str | None = None) -> Server:
        server = start_server(tmp_path / f"server{len(started)}", *args, env=env, backend=backend)
        started.append(server)
        return server

    yield factory
    for server in started:
        _stop(server.proc)


@pytest.fixture
def point_clients(monkeypatch) -> Iterator:
    """``point_clients(url)``: MLflow's fluent API and asyncclient's (a fresh session) both log to ``url``."""
    from asyncclient import config, fluent, session

    def point(url: str) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        session.reset_session()
        config.set_tracking_uri(url)

    yield point
    import asyncclient

    while fluent._runs.stack:
        asyncclient.end_run()
    session.reset_session()
    config.set_tracking_uri(None)
    fluent._active_experiment_id = None


@dataclass
class Destination:
    """One kind of artifact destination: its URI for the server, the env the server needs, and a way to
    read what landed in it without going through any server."""

    kind: str
    uri: str
    env: dict
    read: object
    keys: object
    key_prefix: str


@pytest.fixture(scope="module", params=["local", "s3", "azure"])
def destination(request, tmp_path_factory) -> Destination:
    """Each destination in turn (one per test module), under a fresh prefix."""
    prefix = f"d{uuid.uuid4().hex[:10]}"
    if request.param == "local":
        root = tmp_path_factory.mktemp("store")

        def read(key: str) -> bytes:
            return (root / key).read_bytes()

        def keys(pfx: str) -> list[str]:
            return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
                          and str(p.relative_to(root)).startswith(pfx))

        return Destination("local", str(root), {}, read, keys, "")
    if request.param == "s3":
        store = request.getfixturevalue("s3_store")
        return Destination("s3", f"s3://{BUCKET}/{prefix}", store.env, store.read, store.keys, prefix + "/")
    store = request.getfixturevalue("azure_store")
    return Destination("azure", f"wasbs://{CONTAINER}@{AZURITE_ACCOUNT}.blob.core.windows.net/{prefix}",
                       store.env, store.read, store.keys, prefix + "/")


@pytest.fixture(scope="module")
def destination_server(destination, tmp_path_factory) -> Iterator[Server]:
    """One asyncclient server proxying ``destination`` for the whole module (tests use their own runs)."""
    server = start_server(tmp_path_factory.mktemp(f"server-{destination.kind}"),
                          "--artifacts-destination", destination.uri, env=destination.env)
    yield server
    _stop(server.proc)


@pytest.fixture(scope="session")
def big_file() -> Iterator[Path]:
    """A file of random bytes, larger than what a buffering server could hold cheaply."""
    directory = Path(tempfile.mkdtemp(prefix="asyncclient-big-"))
    path = directory / "weights.bin"
    with open(path, "wb") as f:
        for _ in range(BIG_FILE_MIB):
            f.write(os.urandom(1024 * 1024))
    yield path
    shutil.rmtree(directory, ignore_errors=True)


BIG_FILE_MIB = 160
