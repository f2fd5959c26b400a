"""Requests whose answer was lost after the server applied them: retried without doubling anything."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from scenarios import REPO, AsyncclientServer, Bench, MlflowServer


@pytest.fixture(scope="module", params=[MlflowServer, AsyncclientServer], ids=["mlflow-server", "asyncclient-server"])
def bench(request, tmp_path_factory):
    b = Bench(str(tmp_path_factory.mktemp("lost-answers")), request.param)
    yield b
    b.close()


def run_client(bench: Bench, code: str, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, MLFLOW_TRACKING_URI=bench.proxy_url, ASYNCCLIENT_SPOOL_DIR=str(tmp_path / "spool"),
               ASYNCCLIENT_AGENT_IDLE_SECONDS="3")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=120)


def test_a_retried_create_run_creates_one_run(bench, tmp_path):
    from mlflow.tracking import MlflowClient as PeerClient

    peer = PeerClient(bench.server.url)
    experiment_id = peer.create_experiment(f"lost-create-{tmp_path.name}")
    bench.inject(match="runs/create", mode="reset_after", count=1)  # created, but the answer never comes
    out = run_client(bench, f"""
        import asyncclient as mlflow
        with mlflow.start_run(experiment_id={experiment_id!r}) as run:
            mlflow.log_metric("m", 1.0)
        print(run.info.run_id)
    """, tmp_path)
    assert out.returncode == 0, out.stderr
    runs = peer.search_runs([experiment_id])
    assert [r.info.run_id for r in runs] == [out.stdout.strip()]
    assert runs[0].info.status == "FINISHED" and runs[0].data.metrics == {"m": 1.0}


def test_a_re_sent_delete_tag_is_not_reported_as_refused(bench, tmp_path):
    bench.inject(match="runs/delete-tag", mode="reset_after", count=1)  # deleted, then the answer is lost
    out = run_client(bench, """
        import asyncclient as mlflow
        with mlflow.start_run() as run:
            mlflow.set_tag("keep", "1")
            mlflow.set_tag("drop", "1")
            mlflow.delete_tag("drop")
        print(run.info.run_id)
    """, tmp_path)
    assert out.returncode == 0, out.stderr  # no DeliveryError from leaving the `with`
    from mlflow.tracking import MlflowClient as PeerClient

    tags = PeerClient(bench.server.url).get_run(out.stdout.strip()).data.tags
    assert tags["keep"] == "1" and "drop" not in tags
