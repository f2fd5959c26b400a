"""Regression tests for delivery defects found by trying asyncclient as a new user would (issue 13).

Each test reproduces the defect with real processes (and a real kill, signal, fork or kernel limit where
the defect needs one) and failed before its fix.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import msgpack
import pytest

from asyncclient.buffer import RingBuffer
from asyncclient.buffer.ring import HEADER_SIZE, OP_PARAM
from asyncclient.buffer.ring import RingFull as RingFull_

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_script(code: str, tmp_path, timeout: float = 120, **env_extra) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, ASYNCCLIENT_SPOOL_DIR=str(tmp_path / "spool"), ASYNCCLIENT_AGENT_IDLE_SECONDS="3")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
    env.pop("MLFLOW_TRACKING_URI", None)
    env.update({k: str(v) for k, v in env_extra.items()})
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=timeout)
    return out, time.monotonic() - started


@pytest.mark.parametrize("mode", ["agent", "thread"])
def test_embedded_default_stores_everything_when_a_script_just_ends(tmp_path, mode):
    """Defect 1: start_run(), 200,000 points, end of script: ~1,000 stored, run left RUNNING, 42 s exit."""
    out, elapsed = run_script("""
        import asyncclient as mlflow
        run = mlflow.start_run()
        print(run.info.run_id)
        for i in range(200_000):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
    """, tmp_path, ASYNCCLIENT_EXIT_TIMEOUT=20, ASYNCCLIENT_DELIVERY=mode)
    assert out.returncode == 0, out.stderr
    assert elapsed < 20 + 2, f"exit took {elapsed:.1f}s"
    check, _ = run_script(f"""
        import asyncclient as mlflow
        client = mlflow.tracking.MlflowClient()
        print(len(client.get_metric_history({out.stdout.strip()!r}, "loss")), client.get_run({out.stdout.strip()!r}).info.status)
    """, tmp_path)
    assert check.stdout.split() == ["200000", "FINISHED"], check.stderr


def test_flush_counts_the_gap_a_wrap_leaves(tmp_path):
    """Defect 5: after a wrap, the reader counted the skipped tail as delivered but the writer never
    counted it as written, so flush() passed while records were still in the ring."""
    size = HEADER_SIZE + 4096 + 1000
    ring = RingBuffer.create(str(tmp_path), {"tracking_uri": "x"}, size, 4096)
    record = msgpack.packb((OP_PARAM, "r" * 32, "k", "v" * 100))  # ~150 bytes a record
    for _ in range(5):
        ring.put_packed(record)
    ring.commit(*ring.read(100)[1:])
    for _ in range(3):  # the third no longer fits at the end: the ring wraps, leaving a gap
        ring.put_packed(record)
    ring.commit(*ring.read(100)[1:])
    assert ring.delivered_total() == ring.written_total
    ring.put_packed(b"\x90")  # one more record, not delivered yet
    assert ring.delivered_total() < ring.written_total, "flush() would return with a record still pending"


def test_the_reader_never_moves_the_write_offset(tmp_path):
    """Defect 7: the empty-ring reset wrote both offsets; a kill between the two left read past write."""
    ring = RingBuffer.create(str(tmp_path), {"tracking_uri": "x"}, HEADER_SIZE + 4096 + 10_000, 4096)
    ring.put_packed(msgpack.packb((OP_PARAM, "r", "k", "v")))
    w = ring._w
    reader = RingBuffer.open_existing(ring.path)
    reader.commit(*reader.read(10)[1:])
    assert reader.is_drained() and ring._w == w and reader.read(10)[0] == []


def test_a_forked_child_starts_its_own_run_and_otherwise_logs_to_the_inherited_one(tmp_path):
    """Defect 6: in a fork child, start_run() raised "Run ... is already active" (MLflow resets the stack)."""
    out, _ = run_script("""
        import multiprocessing, os
        import asyncclient as mlflow

        def trial(lr):
            with mlflow.start_run(parent_run_id=parent_id) as run:
                mlflow.log_param("lr", lr)
                mlflow.log_metric("score", lr * 2)
            mlflow.log_metric("trials_done", 1.0, step=int(lr * 10))  # no run of its own: the inherited one
            return run.info.run_id

        with mlflow.start_run() as parent:
            parent_id = parent.info.run_id
            with multiprocessing.get_context("fork").Pool(2) as pool:
                children = pool.map(trial, [0.1, 0.2, 0.3])
        client = mlflow.tracking.MlflowClient()
        for child in children:
            run = client.get_run(child)
            assert run.data.tags["mlflow.parentRunId"] == parent_id, run.data.tags
            assert run.info.status == "FINISHED" and "score" in run.data.metrics
        steps = sorted(m.step for m in client.get_metric_history(parent_id, "trials_done"))
        assert steps == [1, 2, 3], steps
        print("OK", len(set(children)))
    """, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["OK", "3"]


def test_leaving_start_run_with_the_server_down_is_bounded(own_mlflow_server, tmp_path):
    """Defect 4: over 120 s with ASYNCCLIENT_EXIT_TIMEOUT=3 (the flush waited, then the status update retried)."""
    script = textwrap.dedent(f"""
        import time
        import asyncclient as mlflow
        mlflow.set_tracking_uri({own_mlflow_server.url!r})
        with mlflow.start_run() as run:
            mlflow.log_metric("before", 1.0)
            mlflow.flush()
            print("RUN", run.info.run_id, flush=True)
            input()
            for s in range(100):
                mlflow.log_metric("after", float(s), step=s)
            left = time.monotonic()
        print("WITH_EXIT", time.monotonic() - left, flush=True)
    """)
    env = dict(os.environ, ASYNCCLIENT_EXIT_TIMEOUT="3", ASYNCCLIENT_SPOOL_DIR=str(tmp_path / "spool"),
               ASYNCCLIENT_AGENT_IDLE_SECONDS="3")
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().startswith("RUN"), proc.stderr.read()
    own_mlflow_server.stop()
    started = time.monotonic()
    out, err = proc.communicate("\n", timeout=120)
    total = time.monotonic() - started
    assert proc.returncode == 0, err
    with_exit = float(out.split("WITH_EXIT")[1].split()[0])
    assert with_exit < 3 + 1, f"leaving `with start_run()` took {with_exit:.1f}s"
    assert total < 3 + 2, f"the whole exit took {total:.1f}s"
    assert "goes on delivering" in err


def test_flush_timeout_is_one_deadline(own_mlflow_server, tmp_path):
    """Defect 7: flush(timeout=3) returned after 6 s (the orphan scan and the wait each had the timeout)."""
    script = textwrap.dedent(f"""
        import time
        import asyncclient as mlflow
        mlflow.set_tracking_uri({own_mlflow_server.url!r})
        run = mlflow.start_run()
        mlflow.flush()
        print("RUN", flush=True)
        input()
        mlflow.log_metric("m", 1.0)
        started = time.monotonic()
        done = mlflow.flush(timeout=3)
        print("FLUSH", done, time.monotonic() - started, flush=True)
        import os
        os._exit(0)
    """)
    env = dict(os.environ, ASYNCCLIENT_SPOOL_DIR=str(tmp_path / "spool"), ASYNCCLIENT_AGENT_IDLE_SECONDS="3")
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().startswith("RUN"), proc.stderr.read()
    own_mlflow_server.stop()
    out, err = proc.communicate("\n", timeout=60)
    _, done, took = out.split()
    assert done == "False" and 2.9 < float(took) < 3.5, (out, err)


def test_a_full_spool_is_a_clear_error_not_a_sigbus(tmp_path):
    """Defect 7: a sparse ring on a full /dev/shm killed the process with SIGBUS at the first write to an
    unbacked page. Here the kernel refuses the allocation (a file-size limit stands in for a full tmpfs)."""
    out, _ = run_script("""
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 << 20, 8 << 20))
        import asyncclient as mlflow
        from asyncclient.exceptions import MlflowException
        try:
            mlflow.start_run()
        except MlflowException as e:
            print("ERROR", e.error_code, e.message)
    """, tmp_path, ASYNCCLIENT_BUFFER_MB=32)
    assert out.returncode == 0, out.stderr
    assert "ERROR RESOURCE_EXHAUSTED" in out.stdout
    assert "no room for a 32 MiB log buffer" in out.stdout and "ASYNCCLIENT_BUFFER_MB" in out.stdout
    assert not list((tmp_path / "spool").glob("*.tmp")), "the failed ring file is removed"


def test_fork_while_another_thread_builds_the_store(tmp_path):
    """Defect 7: the store registry's lock, held by a thread at fork time, deadlocked the child."""
    out, _ = run_script(f"""
        import os, threading, time
        from asyncclient.store import uri as store_uri
        held, release = threading.Event(), threading.Event()
        def builder():
            with store_uri._lock:  # as store_from_uri holds it while it creates and migrates a store
                held.set()
                release.wait()
        threading.Thread(target=builder, daemon=True).start()
        held.wait()
        pid = os.fork()
        if pid == 0:
            import signal
            signal.alarm(20)  # a deadlock ends the child instead of the test
            store_uri.store_from_uri("sqlite:///{tmp_path}/child.db")
            os._exit(0)
        release.set()
        _, status = os.waitpid(pid, 0)
        print("CHILD", os.waitstatus_to_exitcode(status))
    """, tmp_path)
    assert out.stdout.strip() == "CHILD 0", out.stderr


@pytest.mark.parametrize("mode", ["agent", "thread"])
def test_logging_from_a_signal_handler_neither_deadlocks_nor_loses(tmp_path, mode):
    """Defect 7: a signal handler that logs while the main thread holds the ring lock deadlocked."""
    out, _ = run_script("""
        import itertools, signal
        import asyncclient as mlflow
        counter, fired = itertools.count(), [0]
        def on_alarm(signum, frame):
            # One atomic step per call: a handler may itself be interrupted by the next alarm.
            step = next(counter)
            mlflow.log_metric("from_handler", 1.0, step=step)
            fired[0] += 1
        with mlflow.start_run() as run:
            mlflow.log_metric("warmup", 0.0)
            signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
            for i in range(300_000):
                mlflow.log_metric("loop", float(i), step=i)
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
        client = mlflow.tracking.MlflowClient()
        handler = client.get_metric_history(run.info.run_id, "from_handler")
        loop = client.get_metric_history(run.info.run_id, "loop")
        assert len(loop) == 300_000
        assert sorted(m.step for m in handler) == list(range(next(counter))), (len(handler), fired[0])
        print("OK", fired[0] > 10)
    """, tmp_path, timeout=120, ASYNCCLIENT_DELIVERY=mode)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["OK", "True"]


def test_a_corrupt_orphan_ring_does_not_stop_delivery(tmp_path):
    """Defect 3: a corrupt orphan ring raised in the worker and stopped delivery for good."""
    spool = tmp_path / "spool"
    spool.mkdir()
    pid = os.fork()
    if pid == 0:  # a writer that dies leaving a ring whose second record is damaged
        ring = RingBuffer.create(str(spool), {"tracking_uri": f"sqlite:///{tmp_path}/x.db", "ancestors": []},
                                 HEADER_SIZE + 4096 + 10_000, 4096)
        ring.put_packed(msgpack.packb((OP_PARAM, "r" * 32, "k", "v")))
        at = ring._w
        ring.put_packed(msgpack.packb((OP_PARAM, "r" * 32, "k2", "v")))
        ring._mm[at] = 0x7E  # no such record kind
        os._exit(0)
    os.waitpid(pid, 0)
    out, elapsed = run_script("""
        import asyncclient as mlflow
        with mlflow.start_run() as run:
            for i in range(1000):
                mlflow.log_metric("m", float(i), step=i)
        print(len(mlflow.tracking.MlflowClient().get_metric_history(run.info.run_id, "m")))
    """, tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1000"
    assert elapsed < 30
    assert "corrupt ring" in (spool / "agent.log").read_text()


def test_the_agent_follows_a_store_deleted_between_experiments(tmp_path):
    """Found here: `rm -rf mlruns` between two scripts left the long-lived agent writing into the deleted
    SQLite file, and every point of the second script was refused ("Run ... not found")."""
    script = """
        import asyncclient as mlflow
        with mlflow.start_run() as run:
            for i in range(2000):
                mlflow.log_metric("m", float(i), step=i)
        print(len(mlflow.tracking.MlflowClient().get_metric_history(run.info.run_id, "m")))
    """
    first, _ = run_script(script, tmp_path, ASYNCCLIENT_AGENT_IDLE_SECONDS=30)
    assert first.stdout.strip() == "2000", first.stderr
    import shutil

    shutil.rmtree(tmp_path / "mlruns")
    second, _ = run_script(script, tmp_path, ASYNCCLIENT_AGENT_IDLE_SECONDS=30)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "2000"


def test_an_in_process_ring_never_gets_the_agent_as_a_second_reader(tmp_path):
    """Found here: a thread-mode ring was flagged only after it got its name, and an agent scanning the
    folder in between drained it too; two readers corrupted it ("corrupt ring ... kind 0")."""
    ring = RingBuffer.create(str(tmp_path), {"tracking_uri": "x"}, HEADER_SIZE + 4096 + 10_000, 4096,
                             in_process=True)
    seen = RingBuffer.open_existing(ring.path)  # what an agent scanning right after the rename sees
    assert seen.drained_in_process()


def test_the_reader_never_sees_a_half_written_offset(tmp_path):
    """Found here: offsets were stored with struct.pack_into, which zero-fills a field before writing its
    bytes; an agent reading in between saw a write offset of 0 and gave the ring up as corrupt."""
    ring = RingBuffer.create(str(tmp_path), {"tracking_uri": "x"}, HEADER_SIZE + 4096 + (1 << 20), 4096)
    pid = os.fork()
    if pid == 0:  # the reader, in another process as the agent is: drain and check every offset it sees
        code = 0
        try:
            reader = RingBuffer.open_existing(ring.path)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                w = int.from_bytes(reader._mm[16:24], "little")  # the write offset, as one copy
                if not reader.data_start <= w <= reader.size:
                    code = 1
                    break
                items, new_read, consumed = reader.read(100_000)
                reader.commit(new_read, consumed)
        except Exception:
            code = 2
        os._exit(code)
    deadline = time.monotonic() + 3
    step = 0
    while time.monotonic() < deadline:
        try:
            ring.append_metric("r" * 32, "m", 1.0, 0, step)
            step += 1
        except RingFull_:
            time.sleep(0.0001)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the reader saw a write offset out of range"
