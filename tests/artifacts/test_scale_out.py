"""Scale-out (docs/deploy.md): two asyncclient servers on two ports over one PostgreSQL and one S3 (moto's
server), written through both at once by MLflow's client and asyncclient's; everything reads back the same,
and byte-exact, from either server."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import mlflow
import pytest
import sqlalchemy as sa
from artifact_fixtures import BUCKET
from mlflow.entities import Metric, Param, RunTag

import asyncclient.tracking

RUNS_PER_WRITER = 3
POINTS = 300


@pytest.fixture
def shared_database(postgres_server_uri):
    name = "scale_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(postgres_server_uri.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))  # generated identifier, not user input
    base, _, _ = postgres_server_uri.rpartition("/")
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _write_runs(kind: str, url: str, exp: str, tmp_path) -> dict[str, bytes]:
    """One writer: RUNS_PER_WRITER runs with params, a tag, POINTS metric points and an artifact each."""
    client = mlflow.MlflowClient(url) if kind == "mlflow" else asyncclient.tracking.MlflowClient(url)
    written = {}
    for i in range(RUNS_PER_WRITER):
        run_id = client.create_run(exp, tags={"writer": f"{kind}@{url}"}).info.run_id
        ts = 1_700_000_000_000
        metrics = [Metric("loss", 1.0 / (step + 1), ts + step, step) for step in range(POINTS)]
        if kind == "mlflow":
            for start in range(0, POINTS, 100):
                client.log_batch(run_id, metrics=metrics[start:start + 100],
                                 params=[Param("i", str(i))] if start == 0 else [],
                                 tags=[RunTag("done", "no")] if start == 0 else [])
        else:
            client.log_batch(run_id, metrics=metrics, params=[Param("i", str(i))], tags=[RunTag("done", "no")])
        data = os.urandom(256 * 1024 + i)
        local = tmp_path / f"{kind}-{url.rsplit(':', 1)[1]}-{i}.bin"
        local.write_bytes(data)
        client.log_artifact(run_id, str(local), "files")
        client.set_tag(run_id, "done", "yes")
        client.set_terminated(run_id, "FINISHED")
        written[run_id] = data
    if kind == "asyncclient":
        assert client.flush(timeout=60)
    return written


def test_two_servers_over_one_postgres_and_one_s3_serve_the_same_runs(
        s3_env, shared_database, server_factory, point_clients, tmp_path):
    args = ("--default-artifact-root", "mlflow-artifacts:/", "--artifacts-destination", f"s3://{BUCKET}/team")
    a = server_factory(*args, env=s3_env.env, backend=shared_database)
    b = server_factory(*args, env=s3_env.env, backend=shared_database)
    point_clients(a.url)
    exp = mlflow.MlflowClient(a.url).create_experiment("shared")

    writers = [(kind, server.url) for kind in ("mlflow", "asyncclient") for server in (a, b)]
    with ThreadPoolExecutor(len(writers)) as pool:
        results = list(pool.map(lambda w: _write_runs(w[0], w[1], exp, tmp_path), writers))
    written = {run_id: data for result in results for run_id, data in result.items()}
    assert len(written) == len(writers) * RUNS_PER_WRITER

    seen = []
    for server in (a, b):
        client = mlflow.MlflowClient(server.url)
        runs = client.search_runs([exp], max_results=1000)
        assert sorted(r.info.run_id for r in runs) == sorted(written)
        for run in runs:
            assert run.info.status == "FINISHED"
            assert run.data.tags["done"] == "yes"
            assert run.data.metrics == {"loss": pytest.approx(1.0 / POINTS)}
            history = client.get_metric_history(run.info.run_id, "loss")
            assert [m.step for m in history] == list(range(POINTS))
            artifacts = client.list_artifacts(run.info.run_id, "files")
            assert len(artifacts) == 1
            down = client.download_artifacts(run.info.run_id, artifacts[0].path, str(tmp_path / "down"))
            assert open(down, "rb").read() == written[run.info.run_id]
        seen.append(sorted((r.info.run_id, r.data.params["i"], r.data.tags["writer"]) for r in runs))
    assert seen[0] == seen[1]
    # The artifacts are in the one bucket, not on either server's disk.
    keys = s3_env.keys("team/")
    assert len([k for k in keys if "/files/" in k]) == len(written)
