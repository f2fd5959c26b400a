"""Every point logged by threads and child processes arrives exactly once, under every start method."""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

import pytest
import sweep_tasks

import asyncclient as mlflow
from asyncclient.tracking import MlflowClient

START_METHODS = ["fork", "spawn", "forkserver"]


def assert_exactly_once(peer, run_id: str, key: str, n: int) -> None:
    steps = sorted(m.step for m in peer.get_metric_history(run_id, key))
    assert steps == list(range(n)), f"{key}: {len(steps)} points, {len(set(steps))} distinct, expected {n}"


def test_sixteen_threads_deliver_every_point_once(tracking, peer):
    n = 400
    with mlflow.start_run() as run:
        threads = [threading.Thread(target=lambda i=i: [mlflow.log_metric(f"t{i}", float(s), step=s)
                                                        for s in range(n)]) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for i in range(16):
        assert_exactly_once(peer, run.info.run_id, f"t{i}", n)


@pytest.mark.parametrize("method", START_METHODS)
def test_pool_children_deliver_everything(tracking, peer, method):
    ctx = multiprocessing.get_context(method)
    run = MlflowClient().create_run("0")
    with ctx.Pool(3) as pool:
        pool.map(sweep_tasks.log_points, [(tracking.url, run.info.run_id, f"{method}{w}", 300) for w in range(6)])
        pool.close()
        pool.join()
    for w in range(6):
        assert_exactly_once(peer, run.info.run_id, f"{method}{w}", 300)


@pytest.mark.parametrize("method", START_METHODS)
def test_pool_terminate_right_after_tasks_loses_nothing(tracking, peer, method):
    # Pool.__exit__ calls terminate(): SIGTERM to workers that may still hold undelivered points.
    ctx = multiprocessing.get_context(method)
    run = MlflowClient().create_run("0")
    with ctx.Pool(3) as pool:
        pool.map(sweep_tasks.log_points, [(tracking.url, run.info.run_id, f"k{w}", 400) for w in range(6)])
    # The workers were killed; their rings are orphans that this process adopts and delivers.
    assert mlflow.flush(timeout=120)
    for w in range(6):
        assert_exactly_once(peer, run.info.run_id, f"k{w}", 400)


def test_fork_pool_children_log_to_the_parents_active_run(tracking, peer):
    ctx = multiprocessing.get_context("fork")
    with mlflow.start_run() as run:
        with ctx.Pool(2) as pool:
            pool.map(sweep_tasks.log_points_to_inherited_run, [(f"child{w}", 200) for w in range(4)])
    for w in range(4):
        assert_exactly_once(peer, run.info.run_id, f"child{w}", 200)
    assert peer.get_run(run.info.run_id).info.status == "FINISHED"


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_process_pool_executor_sweep_creates_nested_runs(tracking, peer, method):
    exp = MlflowClient().create_experiment(f"sweep-{method}")
    with mlflow.start_run(experiment_id=exp) as parent:
        with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context(method)) as pool:
            trial_ids = list(pool.map(sweep_tasks.sweep_trial,
                                      [(tracking.url, exp, parent.info.run_id, lr, 100) for lr in (0.1, 0.2, 0.3, 0.4)]))
    children = peer.search_runs([exp], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted(r.info.run_id for r in children) == sorted(trial_ids)
    for r in children:
        assert r.info.status == "FINISHED"
        assert_exactly_once(peer, r.info.run_id, "loss", 100)


def test_bare_fork_while_another_thread_logs(tracking, peer):
    """The child never deadlocks on the ring lock held at fork time and never re-sends the parent's entries."""
    stop = threading.Event()
    with mlflow.start_run() as run:
        rid = run.info.run_id
        counter = {"n": 0}

        def busy():
            while not stop.is_set():
                mlflow.log_metric("parent", float(counter["n"]), step=counter["n"])
                counter["n"] += 1

        t = threading.Thread(target=busy)
        t.start()
        pids = []
        for i in range(5):
            pid = os.fork()
            if pid == 0:  # the child: log, then leave without atexit, like a crashed worker
                try:
                    for s in range(200):
                        mlflow.log_metric(f"forked{i}", float(s), step=s, run_id=rid)
                finally:
                    os._exit(0)
            pids.append(pid)
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
        stop.set()
        t.join()
        assert mlflow.flush(timeout=120)
    for i in range(5):
        assert_exactly_once(peer, rid, f"forked{i}", 200)
    assert_exactly_once(peer, rid, "parent", counter["n"])


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_sweep_processes_share_one_embedded_sqlite_file(tmp_path, method, tracking_at):
    """The embedded default under a sweep: several processes write one SQLite file, none sees it locked."""
    uri = f"sqlite:///{tmp_path / 'sweep.db'}"
    tracking_at(uri)
    run = MlflowClient().create_run("0")
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(4) as pool:
        pool.map(sweep_tasks.log_points, [(uri, run.info.run_id, f"p{w}", 3000) for w in range(8)])
    assert mlflow.flush(timeout=120)
    client = MlflowClient()
    for w in range(8):
        steps = sorted(m.step for m in client.get_metric_history(run.info.run_id, f"p{w}"))
        assert steps == list(range(3000))
