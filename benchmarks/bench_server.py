"""Server ingest throughput, side by side: asyncclient's server vs ``mlflow server`` on loopback.

One run measures, on the same backend type (SQLite in a fresh temp folder):
  1. JSON ``runs/log-batch``, 1000 metrics per request, 4 concurrent connections, bodies pre-serialized:
     asyncclient server vs ``mlflow server`` at its defaults, and the ratio (target >= 10x, goal 20x);
  2. the msgpack fast path (``application/x-asyncclient-msgpack``) to asyncclient's server;
  3. 8 concurrent clients (JSON, 1000 metrics per request) to both;
  4. the same on PostgreSQL when one is available (``ASYNCCLIENT_TEST_POSTGRES_URI``, or initdb/pg_ctl);
  5. ingest with the basic-auth app on (a non-admin user, basic auth, permission checked per request) vs off,
     msgpack 1000/req, rounds interleaved; target >= 90% (``--auth-only`` runs just this).

Every point is stored exactly once (distinct steps per request), and the run's history is counted at the
end so a server that drops data cannot win. Usage: ``python benchmarks/bench_server.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import msgpack
import orjson
import requests

REPO = Path(__file__).resolve().parents[1]
JSON_TYPE = {"Content-Type": "application/json"}
MSGPACK_TYPE = {"Content-Type": "application/x-asyncclient-msgpack"}
# Credentials of the auth-on rounds (section 5): None talks to a server without auth.
_AUTH: tuple[str, str] | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    url: str
    proc: subprocess.Popen

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start(name: str, cmd: list[str], workdir: Path, port: int, timeout: float = 120.0) -> Server:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = open(workdir / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the server's lifetime
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited early; see {workdir / (name + '.log')}")
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return Server(name, url, proc)
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{name} did not become healthy in {timeout}s")


def start_asyncclient(workdir: Path, backend: str, workers: int) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "asyncclient.server", "--backend-store-uri", backend, "--host", "127.0.0.1",
           "--port", str(port), "--artifacts-destination", str(workdir / "mlartifacts"), "--workers", str(workers)]
    return start(f"asyncclient-w{workers}", cmd, workdir, port)


def start_mlflow(workdir: Path, backend: str) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend, "--default-artifact-root",
           str(workdir / "art"), "--host", "127.0.0.1", "--port", str(port)]
    return start("mlflow", cmd, workdir, port)


def new_run(url: str) -> str:
    api = url + "/api/2.0/mlflow/"
    exp = requests.post(api + "experiments/create", json={"name": "bench-" + uuid.uuid4().hex},
                        auth=_AUTH).json()["experiment_id"]
    return requests.post(api + "runs/create", json={"experiment_id": exp, "start_time": 0},
                         auth=_AUTH).json()["run"]["info"]["run_id"]


def json_bodies(run_id: str, count: int, per_request: int) -> list[bytes]:
    ts = int(time.time() * 1000)
    return [orjson.dumps({"run_id": run_id, "metrics": [
        {"key": "loss", "value": 1.0 / (1 + s), "timestamp": ts + s, "step": s}
        for s in range(i * per_request, (i + 1) * per_request)]}) for i in range(count)]


def msgpack_bodies(run_id: str, count: int, per_request: int) -> list[bytes]:
    ts = int(time.time() * 1000)
    return [msgpack.packb({"run_id": run_id, "metrics": [
        ["loss", 1.0 / (1 + s), ts + s, s] for s in range(i * per_request, (i + 1) * per_request)]})
        for i in range(count)]


async def _drive(url: str, bodies_per_conn: list[list[bytes]], headers: dict, seconds: float) -> tuple[int, float, int]:
    """Send each connection's bodies back to back until ``seconds`` pass; (requests done, elapsed, errors)."""
    done = errors = 0
    target = url + "/api/2.0/mlflow/runs/log-batch"
    connector = aiohttp.TCPConnector(limit=len(bodies_per_conn))
    if _AUTH:
        headers = {**headers, "Authorization": "Basic " + base64.b64encode(":".join(_AUTH).encode()).decode()}
    async with aiohttp.ClientSession(connector=connector) as session:
        t0 = time.perf_counter()
        deadline = t0 + seconds

        async def conn(bodies: list[bytes]) -> None:
            nonlocal done, errors
            for body in bodies:
                if time.perf_counter() > deadline:
                    return
                async with session.post(target, data=body, headers=headers) as r:
                    await r.read()
                    if r.status == 200:
                        done += 1
                    else:
                        errors += 1

        await asyncio.gather(*(conn(b) for b in bodies_per_conn))
        return done, time.perf_counter() - t0, errors


def stored_points(url: str, run_ids: list[str]) -> int:
    total = 0
    for rid in run_ids:
        r = requests.get(url + "/api/2.0/mlflow/metrics/get-history", params={"run_id": rid, "metric_key": "loss"},
                         auth=_AUTH)
        total += len(r.json().get("metrics", []))
    return total


def warm_up(server: Server, conns: int = 4) -> None:
    """A few untimed batches first: MLflow's workers import lazily and both servers fill their caches."""
    run_ids = [new_run(server.url) for _ in range(conns)]
    asyncio.run(_drive(server.url, [json_bodies(rid, 3, 1000) for rid in run_ids], JSON_TYPE, 60.0))


def measure(server: Server, conns: int, per_request: int, seconds: float, max_requests: int,
            codec: str = "json") -> float:
    """Points per second stored, one run per connection."""
    run_ids = [new_run(server.url) for _ in range(conns)]
    make = msgpack_bodies if codec == "msgpack" else json_bodies
    bodies = [make(rid, max_requests, per_request) for rid in run_ids]
    done, elapsed, errors = asyncio.run(_drive(server.url, bodies, MSGPACK_TYPE if codec == "msgpack" else JSON_TYPE,
                                               seconds))
    points = done * per_request
    stored = stored_points(server.url, run_ids)
    if errors or stored != points:
        raise RuntimeError(f"{server.name}: {errors} failed requests, {stored} stored of {points} sent")
    return points / elapsed


def _pg_binary(name: str) -> str | None:
    """PostgreSQL's server programs: on PATH, in /usr/local/bin, or where Debian puts them."""
    candidates = [shutil.which(name), f"/usr/local/bin/{name}",
                  *sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)]
    return next((c for c in candidates if c and os.path.exists(c)), None)


def postgres_uri() -> tuple[str | None, callable]:
    """(postgresql:// URI of an empty database or None, cleanup)."""
    env = os.environ.get("ASYNCCLIENT_TEST_POSTGRES_URI")
    if env:
        return env, lambda: None
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if not initdb or not pg_ctl:
        return None, lambda: None
    # Its own folder, not under the benchmark's private temp dir: the server runs as another user.
    base = Path(tempfile.mkdtemp(prefix="asyncclient-bench-pg-"))
    data = base / "pgdata"
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        import pwd
        user = "postgres" if any(p.pw_name == "postgres" for p in pwd.getpwall()) else "nobody"
        info = pwd.getpwnam(user)
        os.chown(base, info.pw_uid, info.pw_gid)
        as_user = ["runuser", "-u", user, "--"]
    port = free_port()
    subprocess.run(as_user + [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync",
                              "--locale=C", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run(as_user + [pg_ctl, "-D", str(data), "-o", f"-p {port} -h 127.0.0.1 -k {base}", "-l",
                              str(base / "pg.log"), "-w", "start"], check=True, capture_output=True)

    def cleanup() -> None:
        subprocess.run(as_user + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", cleanup


def create_database(server_uri: str) -> str:
    import sqlalchemy as sa

    name = "bench_" + uuid.uuid4().hex[:10]
    engine = sa.create_engine(server_uri.replace("postgresql://", "postgresql+psycopg://", 1),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_uri.rpartition("/")[0] + "/" + name


def auth_overhead(tmp_path: Path, seconds: float, max_requests: int, rounds: int = 3) -> None:
    """Section 5: the same ingest to a server with and without ``--app-name basic-auth``, interleaved."""
    global _AUTH
    admin = ("admin", "bench-admin-password")
    os.environ["MLFLOW_AUTH_ADMIN_PASSWORD"] = admin[1]
    servers = {}
    for mode in ("off", "on"):
        workdir = tmp_path / f"auth-{mode}"
        workdir.mkdir(parents=True)
        port = free_port()
        cmd = [sys.executable, "-m", "asyncclient.server", "--backend-store-uri", f"sqlite:///{workdir / 'a.db'}",
               "--host", "127.0.0.1", "--port", str(port), "--artifacts-destination", str(workdir / "art")]
        servers[mode] = start(f"asyncclient-auth-{mode}", cmd + (["--app-name", "basic-auth"] if mode == "on" else []),
                              workdir, port)
    try:
        user = ("bench-user", "bench-user-password")
        requests.post(servers["on"].url + "/api/2.0/mlflow/users/create",
                      json={"username": user[0], "password": user[1]}, auth=admin).raise_for_status()
        results: dict[str, list[float]] = {"off": [], "on": []}
        for mode in ("off", "on"):
            _AUTH = user if mode == "on" else None
            warm_up(servers[mode])
        for _ in range(rounds):
            for mode in ("off", "on"):
                _AUTH = user if mode == "on" else None
                results[mode].append(measure(servers[mode], 4, 1000, seconds, max_requests, "msgpack"))
        _AUTH = None
        off, on = (sorted(results[m])[len(results[m]) // 2] for m in ("off", "on"))
        print(f"{'[sqlite] msgpack 1000/req, 4 conns, auth off (median)':<58} {off:12,.0f}")
        print(f"{'[sqlite] msgpack 1000/req, 4 conns, auth on (median)':<58} {on:12,.0f}")
        print(f"auth on / auth off = {on / off:.1%} (target >= 90%); rounds off {[round(x) for x in results['off']]}"
              f" on {[round(x) for x in results['on']]}")
    finally:
        for server in servers.values():
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short windows (about a minute in all)")
    parser.add_argument("--workers", type=int, default=1, help="asyncclient server worker processes")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql (skipped when unavailable)")
    parser.add_argument("--auth-only", action="store_true", help="only section 5: ingest with auth on vs off")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else 8.0
    ours_max = 150 if args.quick else 400       # requests per connection, pre-serialized
    theirs_max = 40 if args.quick else 100
    rows: list[tuple[str, float, float | None]] = []

    def report(label: str, ours: float, theirs: float | None) -> None:
        rows.append((label, ours, theirs))
        ratio = f"{ours / theirs:6.1f}x" if theirs else "      -"
        theirs_s = f"{theirs:12,.0f}" if theirs else f"{'-':>12}"
        print(f"{label:<58} {ours:12,.0f} {theirs_s} {ratio}", flush=True)

    print(f"{'points/s stored (higher is better)':<58} {'asyncclient':>12} {'mlflow':>12}  ratio")
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        tmp_path = Path(tmp)
        auth_overhead(tmp_path, seconds, ours_max)
        for backend_name in ([] if args.auth_only else args.backends.split(",")):
            if backend_name == "postgresql":
                pg, cleanup_pg = postgres_uri()
                if pg is None:
                    print("PostgreSQL: not available (set ASYNCCLIENT_TEST_POSTGRES_URI or install initdb)")
                    break
                ours_backend = create_database(pg)
                theirs_backend = create_database(pg).replace("postgresql://", "postgresql+psycopg://", 1)
            else:
                cleanup_pg = lambda: None  # noqa: E731
                ours_backend = f"sqlite:///{tmp_path / 'asyncclient.db'}"
                theirs_backend = f"sqlite:///{tmp_path / 'mlflow.db'}"
            (tmp_path / backend_name / "a").mkdir(parents=True)
            (tmp_path / backend_name / "m").mkdir(parents=True)
            ours = start_asyncclient(tmp_path / backend_name / "a", ours_backend, args.workers)
            try:
                theirs = start_mlflow(tmp_path / backend_name / "m", theirs_backend)
                try:
                    tag = f"[{backend_name}]"
                    warm_up(ours)
                    warm_up(theirs)
                    a = measure(ours, 4, 1000, seconds, ours_max)
                    m = measure(theirs, 4, 1000, seconds, theirs_max)
                    report(f"{tag} JSON log-batch 1000/req, 4 conns", a, m)
                    a8 = measure(ours, 8, 1000, seconds, ours_max // 2)
                    m8 = measure(theirs, 8, 1000, seconds, theirs_max // 2)
                    report(f"{tag} JSON log-batch 1000/req, 8 clients", a8, m8)
                finally:
                    theirs.stop()
                report(f"{tag} msgpack log-batch 1000/req, 4 conns (asyncclient only)",
                       measure(ours, 4, 1000, seconds, ours_max, "msgpack"), m)
                report(f"{tag} msgpack log-batch 10000/req, 4 conns (asyncclient only)",
                       measure(ours, 4, 10000, seconds, max(ours_max // 10, 8), "msgpack"), m)
            finally:
                ours.stop()
                cleanup_pg()
    print("ratio = asyncclient / mlflow server (same backend, loopback, one machine, measured in this run);"
          " msgpack rows are compared with mlflow's JSON figure.")


if __name__ == "__main__":
    main()
