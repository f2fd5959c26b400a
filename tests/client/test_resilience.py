"""A server that goes away loses nothing, and a process whose server is dead still exits on time."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from asyncclient.tracking import MlflowClient


def test_server_restarted_mid_run_loses_and_duplicates_nothing(own_mlflow_server, tracking_at):
    from mlflow.tracking import MlflowClient as PeerClient

    tracking_at(own_mlflow_server.url)
    client = MlflowClient()
    rid = client.create_run("0").info.run_id
    for s in range(1000):
        client.log_metric(rid, "loss", float(s), step=s)
    client.log_param(rid, "lr", "0.1")
    own_mlflow_server.stop()
    for s in range(1000, 2000):  # logged while the server is down: buffered, retried
        client.log_metric(rid, "loss", float(s), step=s)
    time.sleep(1.0)
    own_mlflow_server.start()
    assert client.flush(timeout=120)
    history = PeerClient(own_mlflow_server.url).get_metric_history(rid, "loss")
    assert sorted(m.step for m in history) == list(range(2000))
    assert PeerClient(own_mlflow_server.url).get_run(rid).data.params == {"lr": "0.1"}


@pytest.mark.parametrize("mode", ["agent", "thread"])
def test_exit_with_a_dead_server_is_bounded_and_says_what_was_not_delivered(own_mlflow_server, tmp_path, mode):
    script = textwrap.dedent(f"""
        import asyncclient as mlflow
        from asyncclient.tracking import MlflowClient
        mlflow.set_tracking_uri({own_mlflow_server.url!r})
        run = MlflowClient().create_run("0")
        mlflow.flush()
        print("RUN", run.info.run_id, flush=True)
        input()  # the test kills the server, then lets us go on
        for s in range(500):
            MlflowClient().log_metric(run.info.run_id, "late", float(s), step=s)
    """)
    spool = tmp_path / "spool"
    env = dict(os.environ, ASYNCCLIENT_EXIT_TIMEOUT="3", ASYNCCLIENT_SPOOL_DIR=str(spool),
               ASYNCCLIENT_DELIVERY=mode, PYTHONPATH=os.getcwd())
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    run_line = proc.stdout.readline()
    assert run_line.startswith("RUN"), proc.stderr.read()
    run_id = run_line.split()[1]
    own_mlflow_server.stop()
    started = time.monotonic()
    out, err = proc.communicate("\n", timeout=60)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, err
    assert elapsed < 3 + 2, f"exit took {elapsed:.1f}s"
    assert "500 logged entries were not delivered" in err
    assert run_id in err
    assert list(spool.glob("*.ring")), "undelivered entries are kept on disk"
    from mlflow.tracking import MlflowClient as PeerClient

    own_mlflow_server.start()
    if mode == "agent":
        # The agent outlives the process and delivers once the server is back: no `sync` needed.
        assert "delivery agent" in err and "goes on delivering" in err
        wait_until(lambda: len(PeerClient(own_mlflow_server.url).get_metric_history(run_id, "late")) == 500, 90)
        wait_until(lambda: not list(spool.glob("*.ring")), 30)
    else:
        assert "asyncclient sync" in err
        sync = subprocess.run([sys.executable, "-m", "asyncclient.cli", "sync", "--spool-dir", str(spool)],
                              capture_output=True, text=True, env=env, timeout=120)
        assert sync.returncode == 0, sync.stderr
        assert not list(spool.glob("*.ring"))
    history = PeerClient(own_mlflow_server.url).get_metric_history(run_id, "late")
    assert sorted(m.step for m in history) == list(range(500))


def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_full_buffer_makes_logging_wait_and_drops_nothing(tmp_path):
    # A 1 MiB ring holds ~30k points; logging 200k must wait for the worker, never drop.
    script = textwrap.dedent(f"""
        import asyncclient as mlflow
        mlflow.set_tracking_uri("sqlite:///{tmp_path}/bp.db")
        with mlflow.start_run() as run:
            for s in range(200_000):
                mlflow.log_metric("m", float(s), step=s)
        steps = [m.step for m in mlflow.MlflowClient().get_metric_history(run.info.run_id, "m")]
        assert sorted(steps) == list(range(200_000)), len(steps)
        print("OK")
    """)
    env = dict(os.environ, ASYNCCLIENT_BUFFER_MB="1", ASYNCCLIENT_SPOOL_DIR=str(tmp_path / "spool"))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "OK" in out.stdout
    assert "buffer (1 MiB) is full" in out.stderr  # the user is told why logging slowed down
