"""Artifact transfers through the proxy, side by side: asyncclient's server vs ``mlflow server`` over the
same destination (a local folder, S3 on moto's server, Azure Blob on Azurite), all on loopback.

For each destination, and each server in turn (``--workers 1`` both):
  - a 1 GiB file of random bytes uploaded with MLflow's client (one streamed PUT), with MLflow's client in
    multipart mode (``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true``) and with asyncclient's client;
  - that file downloaded with MLflow's client and with asyncclient's;
  - 1,000 small files (4 KiB) uploaded and downloaded with MLflow's client.
Every download is compared with the source by SHA-256 (byte-exact or the run fails). Each row prints MB/s
(or files/s) and the peak RSS of the serving process during that transfer (VmHWM, reset before each).

Usage: ``python benchmarks/bench_artifacts.py [--size-mib 1024] [--only local,s3,azure]``; ports from
``--port-base`` (default 5700). Azurite comes from scripts/ensure-azurite.sh.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
AZURITE_BIN = Path(os.environ.get("ASYNCCLIENT_AZURITE_DIR", Path.home() / ".cache" / "asyncclient-azurite")) \
    / "node_modules" / ".bin" / "azurite-blob"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
MIB = 1024 * 1024
SMALL_FILES = 1000


class Ports:
    def __init__(self, base: int):
        self.next = base

    def take(self) -> int:
        self.next += 1
        return self.next - 1


def _wait(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited with {proc.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


def _spawn(cmd, log: Path, env=None, cwd=None) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _tree(pid: int) -> list[int]:
    """pid and all its descendants (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


@dataclass
class Server:
    name: str
    url: str
    proc: subprocess.Popen

    def reset_peak(self) -> None:
        for pid in _tree(self.proc.pid):
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")

    def peak_mib(self) -> float:
        """The largest peak RSS among the server's processes (the one serving requests)."""
        peaks = []
        for pid in _tree(self.proc.pid):
            with contextlib.suppress(OSError):
                peaks.append(_status(pid, "VmHWM"))
        return max(peaks) / 1024


def start_server(kind: str, destination: str, env: dict, work: Path, port: int) -> Server:
    work.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{work / 'db.sqlite'}"
    if kind == "asyncclient":
        cmd = [sys.executable, "-m", "asyncclient.server", "--backend-store-uri", db]
    else:
        cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", db, "--workers", "1"]
    cmd += ["--artifacts-destination", destination, "--host", "127.0.0.1", "--port", str(port)]
    full_env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
    proc = _spawn(cmd, work / f"{kind}.log", env=full_env, cwd=work)
    url = f"http://127.0.0.1:{port}"
    _wait(url + "/health", proc)
    return Server(kind, url, proc)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 * MIB):
            h.update(chunk)
    return h.hexdigest()


def mlflow_repo(server: Server, root: str):
    from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository

    return HttpArtifactRepository(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{root}")


def our_repo(server: Server, root: str):
    from asyncclient.artifacts.http import HttpArtifactRepository

    return HttpArtifactRepository(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{root}", server.url, root)


@contextlib.contextmanager
def env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def timed(server: Server, fn) -> tuple[float, float]:
    server.reset_peak()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start, server.peak_mib()


def measure(server: Server, big: Path, big_sha: str, small_dir: Path, scratch: Path) -> dict[str, tuple]:
    """Every transfer through one server: {row: (rate, unit, peak RSS MiB, note)}."""
    size_mb = big.stat().st_size / 1e6
    rows: dict[str, tuple] = {}
    tag = f"bench-{time.time_ns()}"

    def download_check(fn, name):
        dst = scratch / f"dl-{name}"
        shutil.rmtree(dst, ignore_errors=True)
        dst.mkdir()
        seconds, peak = timed(server, lambda: fn(dst))
        got = dst / big.name
        if sha256(got) != big_sha:
            raise AssertionError(f"{server.name}: {name} download is not byte-exact")
        got.unlink()
        return seconds, peak

    with env(MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD="false"):
        seconds, peak = timed(server, lambda: mlflow_repo(server, f"{tag}/put").log_artifact(str(big)))
    rows["1 GiB up, MLflow client, one PUT"] = (size_mb / seconds, "MB/s", peak, "")
    seconds, peak = download_check(lambda d: mlflow_repo(server, f"{tag}/put").download_artifacts(big.name, str(d)),
                                   "mlflow")
    rows["1 GiB down, MLflow client"] = (size_mb / seconds, "MB/s", peak, "")
    seconds, peak = download_check(lambda d: our_repo(server, f"{tag}/put").download_file(big.name, str(d / big.name)),
                                   "ours")
    rows["1 GiB down, asyncclient client"] = (size_mb / seconds, "MB/s", peak, "")
    mlflow_repo(server, tag).delete_artifacts("put")

    with env(MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD="true", MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE=1,
             MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE=100 * MIB):
        from mlflow.exceptions import MlflowException, _UnsupportedMultipartUploadException

        repo = mlflow_repo(server, f"{tag}/mpu")
        failed = None
        try:
            seconds, peak = timed(server, lambda: repo._try_multipart_upload(str(big)))
            note = ""
        except _UnsupportedMultipartUploadException:
            seconds, peak = timed(server, lambda: repo.log_artifact(str(big)))
            note = "server refuses multipart: MLflow's client fell back to one PUT"
        except MlflowException as e:
            failed = str(e).split("Response text")[0][-200:]
    if failed:
        rows["1 GiB up, MLflow client, multipart (100 MiB parts)"] = (0.0, "MB/s", server.peak_mib(),
                                                                      f"multipart upload failed: {failed}")
    else:
        rows["1 GiB up, MLflow client, multipart (100 MiB parts)"] = (size_mb / seconds, "MB/s", peak, note)
        download_check(lambda d: our_repo(server, f"{tag}/mpu").download_file(big.name, str(d / big.name)), "mpu")
        mlflow_repo(server, tag).delete_artifacts("mpu")

    seconds, peak = timed(server, lambda: our_repo(server, f"{tag}/ours").log_artifact(str(big)))
    rows["1 GiB up, asyncclient client"] = (size_mb / seconds, "MB/s", peak, "")
    download_check(lambda d: mlflow_repo(server, f"{tag}/ours").download_artifacts(big.name, str(d)), "ours-up")
    mlflow_repo(server, tag).delete_artifacts("ours")

    seconds, peak = timed(server, lambda: mlflow_repo(server, f"{tag}/small").log_artifacts(str(small_dir)))
    rows[f"{SMALL_FILES:,} x 4 KiB up, MLflow client"] = (SMALL_FILES / seconds, "files/s", peak, "")
    dst = scratch / "small-down"
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir()
    seconds, peak = timed(server, lambda: mlflow_repo(server, f"{tag}/small").download_artifacts("", str(dst)))
    for f in small_dir.iterdir():
        if (dst / f.name).read_bytes() != f.read_bytes():
            raise AssertionError(f"{server.name}: small file {f.name} differs")
    rows[f"{SMALL_FILES:,} x 4 KiB down, MLflow client"] = (SMALL_FILES / seconds, "files/s", peak, "")
    mlflow_repo(server, tag).delete_artifacts("small")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--only", default="local,s3,azure")
    parser.add_argument("--port-base", type=int, default=5700)
    # `mlflow server` alone takes far longer at 1 GiB on S3 (ranged GETs of about 1 s from moto): the
    # RSS bound of our server at full size can be shown on its own, the ratios at a smaller size.
    parser.add_argument("--servers", default="asyncclient,mlflow", help="which servers to run")
    args = parser.parse_args()
    ports = Ports(args.port_base)
    work = Path(tempfile.mkdtemp(prefix="bench-artifacts-"))
    started: list[subprocess.Popen] = []
    try:
        big = work / "weights.bin"
        with open(big, "wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(MIB))
        big_sha = sha256(big)
        small_dir = work / "small"
        small_dir.mkdir()
        for i in range(SMALL_FILES):
            (small_dir / f"f{i:04d}.txt").write_bytes(os.urandom(4096))
        # Flush the generated files to disk now, so writeback does not slow the first measured transfer.
        os.sync()

        destinations = {}
        kinds = args.only.split(",")
        if "local" in kinds:
            destinations["local"] = (None, {})
        if "s3" in kinds:
            port = ports.take()
            moto = _spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], work / "moto.log")
            started.append(moto)
            endpoint = f"http://127.0.0.1:{port}"
            _wait(endpoint + "/moto-api/", moto)
            s3_env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                      "AWS_DEFAULT_REGION": "us-east-1", "MLFLOW_S3_ENDPOINT_URL": endpoint}
            import boto3

            boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                         region_name="us-east-1").create_bucket(Bucket="bench")
            os.environ.update(s3_env)  # MLflow's multipart client PUTs parts to S3 itself
            destinations["s3"] = ("s3://bench/{kind}", s3_env)
        if "azure" in kinds:
            port = ports.take()
            (work / "azurite").mkdir()
            azurite = _spawn([str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location",
                              str(work / "azurite"), "--skipApiVersionCheck", "--loose", "--silent"], work / "azurite.log")
            started.append(azurite)
            blob = f"http://127.0.0.1:{port}/devstoreaccount1"
            _wait(blob + "?comp=list", azurite)
            conn = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
                    f"BlobEndpoint={blob};")
            from azure.storage.blob import BlobServiceClient

            BlobServiceClient.from_connection_string(conn).create_container("bench")
            destinations["azure"] = ("wasbs://bench@devstoreaccount1.blob.core.windows.net/{kind}",
                                     {"AZURE_STORAGE_CONNECTION_STRING": conn})

        print(f"\nArtifacts through the proxy, {args.size_mib} MiB file, 127.0.0.1, both servers --workers 1; "
              "rate (peak RSS of the serving process)\n")
        print("| destination | transfer | asyncclient server | `mlflow server` | ratio |")
        print("|---|---|---|---|---|", flush=True)
        notes = set()
        for name, (uri, dest_env) in destinations.items():
            by_kind = {}
            for kind in args.servers.split(","):
                target = uri.format(kind=kind) if uri else str(work / f"store-{kind}")
                server = start_server(kind, target, dest_env, work / f"{name}-{kind}", ports.take())
                started.append(server.proc)
                try:
                    print(f"[{name}] {kind} server ...", file=sys.stderr, flush=True)
                    # Warm-up (first connection, imports on first use), not measured.
                    mlflow_repo(server, "warmup").log_artifact(str(small_dir / "f0000.txt"))
                    mlflow_repo(server, "warmup").delete_artifacts()
                    by_kind[kind] = measure(server, big, big_sha, small_dir, work)
                finally:
                    _stop(server.proc)
                    shutil.rmtree(work / f"store-{kind}", ignore_errors=True)
            # Printed per destination, so a long run shows its figures as it goes.
            for row, (rate, unit, peak, note) in by_kind["asyncclient"].items():
                peer_rate, _, peer_peak, peer_note = by_kind["mlflow"][row] if "mlflow" in by_kind \
                    else (0.0, unit, 0.0, "`mlflow server` not run (--servers)")
                notes.update(n for n in (note, peer_note) if n)
                label = row.replace("1 GiB", f"{args.size_mib} MiB") if args.size_mib != 1024 else row
                ours = f"{rate:,.0f} {unit} ({peak:.0f} MiB)" + (" ¹" if note else "")
                theirs = f"{peer_rate:,.0f} {unit} ({peer_peak:.0f} MiB)" + (" ¹" if peer_note else "")
                ratio = f"{rate / peer_rate:.2f}x" if peer_rate else "—"
                print(f"| {name} | {label} | {ours} | {theirs} | {ratio} |", flush=True)
        for note in sorted(notes):
            print(f"\n¹ {note}")
    finally:
        for proc in started:
            _stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
