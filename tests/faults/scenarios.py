"""The fault suite: real training processes, a real `mlflow server`, real faults; count what arrives.

Each scenario runs a training script in its own process (delivery through the agent, as users run it),
injects one fault (through ``fault_proxy.py`` in front of the server, or by killing a process), then
counts the points logged, stored and duplicated, and how long the process took to exit after its loop.
``test_faults.py`` asserts on every row; ``python tests/faults/scenarios.py`` prints the README's table.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _root_fixtures():
    # tests/conftest.py by path: under pytest, the module name "conftest" may be another folder's conftest.
    import importlib.util

    spec = importlib.util.spec_from_file_location("asyncclient_root_test_fixtures",
                                                  os.path.join(os.path.dirname(HERE), "conftest.py"))
    module = sys.modules.get(spec.name)
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


_fixtures = _root_fixtures()
AsyncclientServer, MlflowServer = _fixtures.AsyncclientServer, _fixtures.MlflowServer
free_port, wait_for_health = _fixtures.free_port, _fixtures.wait_for_health

EXIT_TIMEOUT = 10.0
POINTS = 10_000

TRAIN = """
import os, sys, time
{preamble}
import asyncclient as mlflow
mlflow.set_tracking_uri(os.environ["URI"])
n, pace = int(os.environ["POINTS"]), float(os.environ.get("PACE", "0.02"))
with mlflow.start_run() as run:
    print("RUN", run.info.run_id, flush=True)
    mlflow.log_param("lr", "0.1")
    mlflow.set_tag("phase", "train")
    for i in range(n):
        mlflow.log_metric("m", float(i), step=i)
        if i % 500 == 499:
            print("RETURNED", i + 1, flush=True)
            time.sleep(pace)
    print("LOOP_DONE", time.monotonic(), flush=True)
"""

POOL = """
import os, sys, time, multiprocessing
{preamble}
import asyncclient as mlflow
from asyncclient.tracking import MlflowClient
sys.path.insert(0, os.environ["HERE"])
from pool_tasks import log_points

if __name__ == "__main__":
    mlflow.set_tracking_uri(os.environ["URI"])
    run = MlflowClient().create_run("0")
    print("RUN", run.info.run_id, flush=True)
    pool = multiprocessing.get_context("fork").Pool(4)
    pool.map(log_points, [(run.info.run_id, w, int(os.environ["POINTS"]) // 8) for w in range(8)])
    print("LOOP_DONE", time.monotonic(), flush=True)
    {ending}
"""


@dataclasses.dataclass
class Result:
    scenario: str
    logged: int
    stored: int
    duplicated: int
    exit_seconds: float
    note: str = ""

    @property
    def lost(self) -> int:
        """Points whose call returned but that are not stored (stored ones are a prefix of the steps)."""
        return max(0, self.logged - (self.stored - self.duplicated))


class Bench:
    """A server, a fault proxy in front of it, and a spool folder of our own (so our own agent)."""

    def __init__(self, workdir: str, server_class=MlflowServer):
        self.workdir = workdir
        self.server = server_class(workdir).start()
        self.proxy_port = free_port()
        self.proxy_url = f"http://127.0.0.1:{self.proxy_port}"
        self.proxy = None
        self.start_proxy()

    def start_proxy(self) -> None:
        log = open(os.path.join(self.workdir, "proxy.log"), "ab")
        self.proxy = subprocess.Popen([sys.executable, os.path.join(HERE, "fault_proxy.py"), "--port",
                                       str(self.proxy_port), "--upstream", self.server.url],
                                      stdout=log, stderr=subprocess.STDOUT)
        wait_for_health(self.proxy_url, proc=self.proxy)

    def inject(self, **rule) -> None:
        req = urllib.request.Request(self.proxy_url + "/_fault", data=json.dumps(rule).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.kill()
            self.proxy.wait()
        self.server.stop()


def _env(spool: str, uri: str, **extra) -> dict:
    env = dict(os.environ, URI=uri, POINTS=str(POINTS), HERE=HERE, ASYNCCLIENT_SPOOL_DIR=spool,
               ASYNCCLIENT_EXIT_TIMEOUT=str(EXIT_TIMEOUT), ASYNCCLIENT_AGENT_IDLE_SECONDS="5",
               ASYNCCLIENT_DELIVERY="agent")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_training(name: str, bench: Bench, during=None, script: str = TRAIN, preamble: str = "",
                 ending: str = "", expect_kill: bool = False, **env_extra) -> Result:
    spool = tempfile.mkdtemp(prefix="faults-spool-", dir=bench.workdir)
    code = textwrap.dedent(script).format(preamble=preamble, ending=ending)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env(spool, bench.proxy_url, **env_extra), cwd=bench.workdir)
    # The moment the process ends, seen by a thread of its own (the test may be busy restarting a server).
    exited: list[float] = []
    watcher = threading.Thread(target=lambda: (proc.wait(), exited.append(time.monotonic())), daemon=True)
    watcher.start()
    first = proc.stdout.readline()
    assert first.startswith("RUN"), proc.stderr.read()
    run_id = first.split()[1]
    returned, loop_done = 0, None
    if during is not None:
        returned = during(bench, proc, spool) or 0
    for line in proc.stdout:
        if line.startswith("RETURNED"):
            returned = int(line.split()[1])
        elif line.startswith("LOOP_DONE"):
            loop_done = float(line.split()[1])
    proc.wait(timeout=120)
    watcher.join(10)
    ended = exited[0]
    stderr = proc.stderr.read()
    if not expect_kill:
        assert proc.returncode == 0, stderr
    logged = POINTS if loop_done is not None else returned
    stored, distinct = _wait_stored(bench, run_id, logged, kill_mode=expect_kill)
    if not expect_kill and script is TRAIN:
        _wait_finished(bench, run_id)
    return Result(name, logged, stored, stored - distinct,
                  (ended - loop_done) if loop_done is not None else float("nan"),
                  note=stderr.strip().splitlines()[-1][:120] if stderr.strip() else "")


def _history(bench: Bench, run_id: str) -> list:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(bench.server.url)
    keys = client.get_run(run_id).data.metrics.keys()
    return [m for key in keys for m in client.get_metric_history(run_id, key)]


def _wait_stored(bench: Bench, run_id: str, logged: int, timeout: float = 90, kill_mode: bool = False):
    """(points stored, distinct (key, step) stored), once everything logged arrived or `timeout` passed."""
    deadline = time.monotonic() + timeout
    while True:
        history = _history(bench, run_id)
        distinct = len({(m.key, m.step) for m in history})
        if distinct >= logged or time.monotonic() > deadline:
            if kill_mode:  # the process died mid-loop: let the agent finish what the ring still held
                time.sleep(1.0)
                history = _history(bench, run_id)
                distinct = len({(m.key, m.step) for m in history})
            return len(history), distinct
        time.sleep(0.3)


def _wait_finished(bench: Bench, run_id: str, timeout: float = 60) -> None:
    from mlflow.tracking import MlflowClient

    deadline = time.monotonic() + timeout
    while MlflowClient(bench.server.url).get_run(run_id).info.status != "FINISHED":
        assert time.monotonic() < deadline, "the run was not ended"
        time.sleep(0.3)


def _agent_pid(spool: str) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(os.path.join(spool, "agent.lock")) as f:
                pid = int(f.read().strip() or 0)
            if pid:
                return pid
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError("no agent")


def _after_points(proc, n: int) -> int:
    """Let the training loop get n points in (reads its RETURNED lines); the count it reported."""
    for line in proc.stdout:
        if line.startswith("RETURNED") and int(line.split()[1]) >= n:
            return int(line.split()[1])
    return 0


# ---- the scenarios ----

def server_killed_and_restarted(bench: Bench) -> Result:
    def during(bench, proc, spool):
        returned = _after_points(proc, 2000)
        os.killpg(bench.server.proc.pid, signal.SIGKILL)
        bench.server.proc.wait()
        time.sleep(1.0)
        bench.server.start()
        return returned
    return run_training("server SIGKILLed mid-run, restarted", bench, during)


def rate_limited(bench: Bench) -> Result:
    bench.inject(match="log-batch", mode="status", status=429, retry_after=1, count=3)
    return run_training("429 with Retry-After: 1 (3 times)", bench)


def unavailable_bursts(bench: Bench) -> Result:
    # Eight in a row already cost about 24 s of backoff (0.1 s doubling, capped at 10 s); fifteen cost 95 s,
    # as long as the wait for the points below, and the case was then decided by the jitter.
    bench.inject(match="log-batch", mode="status", status=503, count=8)
    return run_training("503 burst (8 answers in a row)", bench)


def slow_past_timeout(bench: Bench) -> Result:
    bench.inject(match="log-batch", mode="slow", delay=3, count=3)
    return run_training("answer 3 s late, client timeout 1 s (3 times)", bench, ASYNCCLIENT_REQUEST_TIMEOUT=1)


def connection_reset(bench: Bench) -> Result:
    bench.inject(match="log-batch", mode="reset", count=3)
    bench.inject(match="log-batch", mode="reset_after", count=3)
    return run_training("connection reset before / after the server applied (3 + 3)", bench)


def html_200(bench: Bench) -> Result:
    bench.inject(match="log-batch", mode="html200", count=5)
    return run_training("200 with an HTML body (5 times)", bench)


def agent_killed(bench: Bench) -> Result:
    def during(bench, proc, spool):
        returned = _after_points(proc, 2000)
        os.kill(_agent_pid(spool), signal.SIGKILL)
        return returned
    return run_training("delivery agent SIGKILLed mid-run", bench, during)


def training_killed(bench: Bench) -> Result:
    def during(bench, proc, spool):
        returned = _after_points(proc, 3000)
        proc.kill()
        return returned
    return run_training("training process SIGKILLed mid-loop", bench, during, expect_kill=True)


def pool_terminated(bench: Bench) -> Result:
    return run_training("fork Pool.terminate() right after map", bench, script=POOL, ending="pool.terminate()")


def pool_left_to_exit(bench: Bench) -> Result:
    # concurrent.futures imports multiprocessing first (as torch, joblib, scikit-learn do): its exit handler
    # then terminates the workers after ours ran.
    return run_training("Pool left to multiprocessing's exit cleanup", bench, script=POOL,
                        preamble="import concurrent.futures", ending="pass")


SCENARIOS = [server_killed_and_restarted, rate_limited, unavailable_bursts, slow_past_timeout, connection_reset,
             html_200, agent_killed, training_killed, pool_terminated, pool_left_to_exit]


def main() -> None:
    workdir = tempfile.mkdtemp(prefix="asyncclient-faults-")
    bench = Bench(workdir)
    try:
        print(f"| scenario | logged | stored | lost | duplicated | exit after the loop (limit {EXIT_TIMEOUT:g} + 2 s) |")
        print("|---|---|---|---|---|---|")
        for scenario in SCENARIOS:
            r = scenario(bench)
            exit_s = "killed" if r.exit_seconds != r.exit_seconds else f"{r.exit_seconds:.2f} s"
            print(f"| {r.scenario} | {r.logged:,} | {r.stored - r.duplicated:,} | {r.lost} | {r.duplicated} | {exit_s} |",
                  flush=True)
    finally:
        bench.close()


if __name__ == "__main__":
    main()
