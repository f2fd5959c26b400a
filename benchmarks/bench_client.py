"""The batching core against MLflow, side by side in one run (issue: the batching core).

(a) caller cost per log_metric: the Python floor (a call that appends a tuple to a deque), asyncclient,
    and MLflow's ``synchronous=False``; median over blocks of 1000 calls.
(b) end-to-end points/s until stored in the same `mlflow server`: asyncclient, MLflow async (default and
    MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS=1) and MlflowClient.log_batch 1000 at a time (the server's
    capacity).
(c) a sweep of 8 processes logging to that server: asyncclient vs MLflow async (buffered).
(d) asyncclient's client -> asyncclient's server (msgpack, same SQLite backend kind) end to end, against the
    mlflow server's own log_batch capacity from (b).
(e) what logging costs a training loop: wall time of a CPU-bound loop with and without one log_metric per
    step, per point, against a minimal process-safe log_metric (timestamp, type check, stream lookup, lock,
    pack into an mmap); delivery agent and in-process thread, embedded and to the server, and MLflow async.
(f) responsiveness through the agent: 1,000 short runs in a row (start, 10 params, 100 points, end), and
    flush() after one point (median), agent vs in-process thread.
(g) a sweep of 8 processes into the embedded SQLite store: agent vs in-process thread (each process
    writing the file itself, as before the agent).

Each contender runs in its own process (so MLflow's settings and exit handlers stay apart) and prints one
JSON line. Usage: python benchmarks/bench_client.py [--quick] [--only abcdefg]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from conftest import AsyncclientServer, MlflowServer  # noqa: E402  (the launchers the tests use)

CALLER_COST = r"""
import json, os, sys, time
from collections import deque
N, which = int(sys.argv[1]), sys.argv[2]
def blocks(fn):
    out = []
    for b in range(N // 1000):
        t = time.perf_counter()
        for i in range(b * 1000, b * 1000 + 1000):
            fn("loss", 0.5, step=i)
        out.append((time.perf_counter() - t) / 1000 * 1e6)
    out.sort()
    return out[len(out) // 2], sum(out) / len(out)
# Every contender is called the same way: fn("loss", 0.5, step=i).
if which == "floor":
    d = deque()
    def floor(key, value, step=None, timestamp=None):
        d.append((key, value, time.time(), step))
    med, mean = blocks(floor)
elif which == "asyncclient":
    import asyncclient as mlflow
    with mlflow.start_run():
        med, mean = blocks(mlflow.log_metric)
elif which == "mlflow_async":
    import functools
    import mlflow
    mlflow.start_run()
    med, mean = blocks(functools.partial(mlflow.log_metric, synchronous=False))
print(json.dumps({"median_us": med, "mean_us": mean}), flush=True)
os._exit(0)  # measured the caller only; do not wait for MLflow's drain
"""

END_TO_END = r"""
import json, os, sys, time
N, which = int(sys.argv[1]), sys.argv[2]
if which == "asyncclient":
    import asyncclient
else:
    import mlflow
    from mlflow.entities import Metric
t0 = time.perf_counter()  # imports excluded: they are not part of logging
if which == "asyncclient":
    mlflow = asyncclient
    with mlflow.start_run():
        for i in range(N):
            mlflow.log_metric("loss", 0.5, step=i)
elif which.startswith("mlflow_async"):
    with mlflow.start_run():
        for i in range(N):
            mlflow.log_metric("loss", 0.5, step=i, synchronous=False)
        mlflow.flush_async_logging()
elif which == "mlflow_log_batch":
    c = mlflow.MlflowClient()
    run = c.create_run("0")
    ts = int(time.time() * 1000)
    for b in range(0, N, 1000):
        c.log_batch(run.info.run_id, metrics=[Metric("loss", 0.5, ts, i) for i in range(b, min(N, b + 1000))])
    c.set_terminated(run.info.run_id)
elapsed = time.perf_counter() - t0
print(json.dumps({"points_per_s": N / elapsed, "seconds": elapsed}), flush=True)
"""

SWEEP = r"""
import json, multiprocessing, os, sys, time
P, N, which = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def trial(i):
    if which == "asyncclient":
        import asyncclient as mlflow
        with mlflow.start_run(run_name=f"trial-{i}"):
            for s in range(N):
                mlflow.log_metric("loss", 1.0 / (s + 1), step=s)
    else:
        import mlflow
        with mlflow.start_run(run_name=f"trial-{i}"):
            for s in range(N):
                mlflow.log_metric("loss", 1.0 / (s + 1), step=s, synchronous=False)
            mlflow.flush_async_logging()
if __name__ == "__main__":
    t0 = time.perf_counter()
    procs = [multiprocessing.get_context("spawn").Process(target=trial, args=(i,)) for i in range(P)]
    for p in procs: p.start()
    for p in procs: p.join()
    elapsed = time.perf_counter() - t0
    print(json.dumps({"points_per_s": P * N / elapsed, "seconds": elapsed}), flush=True)
"""


TRAINING_LOOP = r"""
import json, mmap, os, struct, sys, threading, time
N, which = int(sys.argv[1]), sys.argv[2]

def work(i):  # a CPU-bound training step of a few microseconds
    acc = 0.0
    for j in range(12):
        acc += (i ^ j) * 0.5
    return acc

if which == "floor":
    # The least a process-safe log_metric can do: a timestamp, a type check, a stream lookup, a lock, a pack
    # into shared memory, a published write offset.
    mm = mmap.mmap(-1, 64 << 20)
    lock, rec, u64, streams, pos = threading.Lock(), struct.Struct("<BIdqq"), struct.Struct("<Q"), {}, [4096]
    def log_metric(key, value, step=None):
        ts = int(time.time() * 1000)
        if type(value) is not float:
            value = float(value)
        sid = streams.get(key)
        if sid is None:
            sid = streams[key] = len(streams)
        with lock:
            p = pos[0]
            if p + 29 > len(mm):
                p = 4096
            rec.pack_into(mm, p, 1, sid, value, ts, step)
            pos[0] = p + 29
            u64.pack_into(mm, 16, p + 29)
elif which == "none":
    log_metric = None
elif which == "mlflow_async":
    import functools
    import mlflow
    mlflow.start_run()
    log_metric = functools.partial(mlflow.log_metric, synchronous=False)
else:
    import asyncclient as mlflow
    mlflow.start_run()
    log_metric = mlflow.log_metric
    log_metric("loss", 0.0, step=0)  # the session (ring, agent) is built before timing
# The loop without and with logging, alternately in this one process, best of several each: a host that
# slows down for a while shifts both sides, not one.
best_base = best_logged = best_stored = float("inf")
for _ in range(int(sys.argv[3]) if len(sys.argv) > 3 else 5):
    t = time.perf_counter()
    for i in range(N):
        work(i)
    best_base = min(best_base, time.perf_counter() - t)
    if log_metric is None:
        continue
    t = time.perf_counter()
    for i in range(N):
        work(i)
        log_metric("loss", 0.5, step=i)
    best_logged = min(best_logged, time.perf_counter() - t)
    # Until stored: delivery left over at the end of the loop, as the training process sees it (the thread
    # mode's drain runs on the loop's GIL; the agent's in another process).
    if which == "asyncclient":
        mlflow.flush()
    elif which == "mlflow_async":
        mlflow.flush_async_logging()
    best_stored = min(best_stored, time.perf_counter() - t)
print(json.dumps({"base": best_base, "logged": best_logged, "stored": best_stored}), flush=True)
os._exit(0)  # the loop is measured; what delivery does after it is (b), (c), (g)
"""

SHORT_RUNS = r"""
import json, statistics, sys, time
import asyncclient as mlflow
R = int(sys.argv[1])
mlflow.log_param  # imported
t = time.perf_counter()
for r in range(R):
    with mlflow.start_run():
        mlflow.log_params({f"p{i}": i for i in range(10)})
        for s in range(100):
            mlflow.log_metric("loss", 1.0 / (s + 1), step=s)
runs_s = time.perf_counter() - t
latencies = []
with mlflow.start_run():
    for i in range(300):
        mlflow.log_metric("x", 1.0, step=i)
        t = time.perf_counter()
        mlflow.flush()
        latencies.append(time.perf_counter() - t)
print(json.dumps({"runs_seconds": runs_s, "flush_median_ms": statistics.median(latencies) * 1000}), flush=True)
"""

SWEEP_EMBEDDED = r"""
import json, multiprocessing, os, sys, time
P, N = int(sys.argv[1]), int(sys.argv[2])
def trial(i):
    import asyncclient as mlflow
    with mlflow.start_run(run_name=f"trial-{i}"):
        for s in range(N):
            mlflow.log_metric("loss", 1.0 / (s + 1), step=s)
if __name__ == "__main__":
    import asyncclient as mlflow
    mlflow.MlflowClient().search_experiments()  # the store exists before the processes race to create it
    t0 = time.perf_counter()
    procs = [multiprocessing.get_context("spawn").Process(target=trial, args=(i,)) for i in range(P)]
    for p in procs: p.start()
    for p in procs: p.join()
    elapsed = time.perf_counter() - t0
    runs = mlflow.MlflowClient().search_runs("0", max_results=100)
    stored = sum(len(mlflow.MlflowClient().get_metric_history(r.info.run_id, "loss")) for r in runs)
    print(json.dumps({"points_per_s": P * N / elapsed, "seconds": elapsed, "stored": stored,
                      "exit_codes": [p.exitcode for p in procs]}), flush=True)
"""


def run(code: str, args: list, env: dict, cwd: str, timeout: float = 900) -> dict:
    path = os.path.join(cwd, "contender.py")
    with open(path, "w") as f:
        f.write(textwrap.dedent(code))
    out = subprocess.run([sys.executable, path, *map(str, args)], capture_output=True, text=True, env=env,
                         cwd=cwd, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{args}: {out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["stderr"] = out.stderr
    return result


def wait_until_quiet(max_wait: float = 90.0, busy_below: float = 0.15) -> None:
    """Wait until the host's CPUs are mostly idle (from /proc/stat, one-second windows). A freshly started
    `mlflow server` keeps booting its job runners and huey consumers for many seconds; a contender measured
    meanwhile competes with them for the two cores, the embedded agent (a second process) the most."""
    import time

    def busy_idle():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, idle

    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        b0, i0 = busy_idle()
        time.sleep(1.0)
        b1, i1 = busy_idle()
        if (b1 - b0) / max(1, (b1 - b0) + (i1 - i0)) < busy_below:
            return


def training_loop(env: dict, local: dict, workdir: str, quick: bool) -> None:
    n = 100_000 if quick else 300_000
    print(f"(e) what one log_metric per step costs a CPU-bound training loop ({n:,} steps), per point: "
          "best of 5 loops with and 5 without, alternating in one process")

    def overhead(which, environment, steps=n, repeats=5):
        r = run(TRAINING_LOOP, [steps, which, repeats], environment, workdir)
        return (r["logged"] - r["base"]) / steps * 1e6, (r["stored"] - r["base"]) / steps * 1e6

    wait_until_quiet()
    floor, _ = overhead("floor", local)
    print(f"  minimal process-safe log_metric (the floor)    {floor:6.2f} us/point")
    print("  (in the loop / until stored, per point)")
    for label, environment in (("asyncclient, embedded, delivery agent", dict(local, ASYNCCLIENT_DELIVERY="agent")),
                               ("asyncclient, embedded, in-process thread", dict(local, ASYNCCLIENT_DELIVERY="thread")),
                               ("asyncclient -> mlflow server, agent", dict(env, ASYNCCLIENT_DELIVERY="agent")),
                               ("asyncclient -> mlflow server, thread", dict(env, ASYNCCLIENT_DELIVERY="thread"))):
        cost, stored = overhead("asyncclient", environment)
        print(f"  {label:45} {cost:6.2f} us   {cost / floor:4.2f}x the floor   until stored {stored:6.2f} us")
    steps = 3_000 if quick else 10_000
    theirs, theirs_stored = overhead("mlflow_async", env, steps, 2)
    print(f"  MLflow log_metric(synchronous=False) -> server {theirs:6.1f} us   {theirs / floor:4.0f}x the floor   "
          f"until stored {theirs_stored:6.1f} us")


def responsiveness(local: dict, workdir: str, quick: bool) -> None:
    runs = 200 if quick else 1000
    print(f"(f) {runs:,} short runs in a row (start, 10 params, 100 points, end), then flush() after one point, "
          "embedded; best of 3")
    # Alternating agent, thread, agent, ...: a host that slows down for a while shifts both, not one.
    by_mode: dict[str, list] = {"agent": [], "thread": []}
    for attempt in range(3):
        for mode in by_mode:
            folder = os.path.join(workdir, f"short-{mode}-{attempt}")
            os.makedirs(folder, exist_ok=True)
            by_mode[mode].append(run(SHORT_RUNS, [runs], dict(local, ASYNCCLIENT_DELIVERY=mode), folder))
    for mode, results in by_mode.items():
        seconds = min(r["runs_seconds"] for r in results)
        flush_ms = min(r["flush_median_ms"] for r in results)
        print(f"  {mode:7} {seconds:7.2f} s for the runs ({seconds / runs * 1000:5.2f} ms a run)   "
              f"flush() after one point: median {flush_ms:5.2f} ms")


def embedded_sweep(local: dict, workdir: str, quick: bool) -> None:
    n = 20_000 if quick else 50_000
    print(f"(g) sweep: 8 spawned processes x {n:,} points into one embedded SQLite store, best of 3")
    for mode in ("agent", "thread"):
        best = None
        for attempt in range(3):
            folder = os.path.join(workdir, f"sweep-{mode}-{attempt}")
            os.makedirs(folder)
            r = run(SWEEP_EMBEDDED, [8, n], dict(local, ASYNCCLIENT_DELIVERY=mode), folder)
            assert r["stored"] == 8 * n, r
            assert "database is locked" not in r["stderr"], r["stderr"][-500:]
            best = r if best is None or r["seconds"] < best["seconds"] else best
        print(f"  {mode:7} {best['seconds']:6.2f} s  {best['points_per_s']:9,.0f} pts/s  all {8 * n:,} stored, "
              "no 'database is locked'")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="abcdefg", help="sections to run, e.g. efg")
    opts = parser.parse_args()
    n_calls = 200_000 if opts.quick else 1_000_000
    workdir = tempfile.mkdtemp(prefix="bench-client-")
    server = MlflowServer(workdir).start()
    env = dict(os.environ, MLFLOW_TRACKING_URI=server.url, ASYNCCLIENT_SPOOL_DIR=os.path.join(workdir, "spool"),
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    local = dict(env)
    local.pop("MLFLOW_TRACKING_URI")  # asyncclient's default: the embedded ./mlruns store
    try:
        if "e" in opts.only:
            training_loop(env, local, workdir, opts.quick)
        if "f" in opts.only:
            responsiveness(local, workdir, opts.quick)
        if "g" in opts.only:
            embedded_sweep(local, workdir, opts.quick)
        if not set("abcd") & set(opts.only):
            return
        print(f"(a) caller cost per log_metric, median of 1000-call blocks ({n_calls:,} calls; MLflow 20,000), "
              "best of 3 runs (MLflow: 2)")
        # Best of several runs for every contender: a run disturbed by the host shifts the whole median.
        def best(args, environment, repeats):
            return min((run(CALLER_COST, args, environment, workdir) for _ in range(repeats)),
                       key=lambda r: r["median_us"])

        floor = best([n_calls, "floor"], env, 3)
        ours = best([n_calls, "asyncclient"], local, 3)
        ours_rest = best([n_calls, "asyncclient"], env, 3)
        theirs = best([20_000, "mlflow_async"], env, 2)
        print(f"  Python floor (deque.append)         {floor['median_us']:8.2f} us")
        print(f"  asyncclient (embedded default)      {ours['median_us']:8.2f} us   {ours['median_us'] / floor['median_us']:5.1f}x floor")
        print(f"  asyncclient (-> mlflow server)      {ours_rest['median_us']:8.2f} us   {ours_rest['median_us'] / floor['median_us']:5.1f}x floor")
        print(f"  MLflow log_metric(synchronous=False) {theirs['median_us']:7.2f} us   "
              f"{theirs['median_us'] / ours_rest['median_us']:5.0f}x asyncclient")

        n_e2e = 20_000 if opts.quick else 50_000
        print(f"(b) end-to-end points/s until stored in the same mlflow server ({n_e2e:,} points)")
        capacity = run(END_TO_END, [n_e2e, "mlflow_log_batch"], env, workdir)
        ours = run(END_TO_END, [n_e2e, "asyncclient"], env, workdir)
        buffered = run(END_TO_END, [n_e2e // 2, "mlflow_async_buffered"],
                       dict(env, MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS="1"), workdir)
        default = run(END_TO_END, [1000 if opts.quick else 3000, "mlflow_async_default"], env, workdir)
        print(f"  MlflowClient.log_batch x1000 (server capacity) {capacity['points_per_s']:9,.0f} pts/s")
        print(f"  asyncclient                                    {ours['points_per_s']:9,.0f} pts/s   "
              f"{ours['points_per_s'] / capacity['points_per_s']:6.0%} of capacity")
        print(f"  MLflow async, buffering 1 s                    {buffered['points_per_s']:9,.0f} pts/s   "
              f"asyncclient {ours['points_per_s'] / buffered['points_per_s']:4.1f}x")
        print(f"  MLflow async, default                          {default['points_per_s']:9,.0f} pts/s   "
              f"asyncclient {ours['points_per_s'] / default['points_per_s']:4.1f}x")


        n_sweep = 1000 if opts.quick else 3000
        print(f"(c) sweep: 8 spawned processes x {n_sweep:,} points to the mlflow server")
        ours = run(SWEEP, [8, n_sweep, "asyncclient"], env, workdir)
        theirs = run(SWEEP, [8, n_sweep, "mlflow"], dict(env, MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS="1"), workdir)
        print(f"  asyncclient                  {ours['seconds']:6.1f} s  {ours['points_per_s']:8,.0f} pts/s")
        print(f"  MLflow async, buffering 1 s  {theirs['seconds']:6.1f} s  {theirs['points_per_s']:8,.0f} pts/s   "
              f"asyncclient {theirs['seconds'] / ours['seconds']:4.1f}x faster")
        own_dir = os.path.join(workdir, "own")
        os.makedirs(own_dir)
        own = AsyncclientServer(own_dir).start()
        try:
            n_own = 100_000 if opts.quick else 500_000
            fast = run(END_TO_END, [n_own, "asyncclient"], dict(env, MLFLOW_TRACKING_URI=own.url), workdir)
        finally:
            own.stop()
        print(f"(d) asyncclient client -> asyncclient server (msgpack), {n_own:,} points end to end")
        print(f"  asyncclient -> asyncclient server              {fast['points_per_s']:9,.0f} pts/s   "
              f"{fast['points_per_s'] / capacity['points_per_s']:5.1f}x the mlflow server's log_batch capacity")
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
