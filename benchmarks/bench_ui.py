"""The UI side by side: asyncclient's UI vs MLflow's, same data, same headless Chromium.

Data (identical values in both databases):
  - one run with a 1,000,000-step metric ``loss`` holding a one-step spike in the middle;
  - one experiment with 10,000 runs (2 params, 2 metrics each).
asyncclient's database is written through its own store; MLflow's schema comes from MLflow's own store and
the bulk rows are inserted with SQL (through MLflow's REST API loading a million points takes minutes).

Each figure is milliseconds from navigation start (``performance.now()`` in the page, so both UIs are timed
by the same clock) in a fresh browser context (cold cache), best and median of ``--repeat`` loads:
  1. chart: the run's ``loss`` chart drawn; the spike is checked in the drawn data;
  2. runs table: the 10,000-run experiment listed (first rows shown);
  3. sorted: the same opened sorted by ``metrics.loss`` ascending (the URL's orderByKey / orderByAsc,
     MLflow's own parameters), until the smallest-loss run is the first row.
Usage: ``python benchmarks/bench_ui.py [--quick] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("ASYNCCLIENT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
T0 = 1_700_000_000_000
SPIKE_VALUE = 100.0


@dataclass
class Data:
    steps: int
    runs: int

    @property
    def spike_step(self) -> int:
        # Off any round number: a sampler keeping every n-th step must not hit it by luck.
        return self.steps // 2 + 7

    def loss(self, step: int) -> float:
        return SPIKE_VALUE if step == self.spike_step else 1.0 / (1.0 + step * 1e-4)

    @staticmethod
    def run_values(i: int) -> tuple[float, float, str, str]:
        """(loss, acc, lr, batch) of run i; loss is unique per run, smallest for run 0."""
        loss = ((i * 7919) % 10_000) / 10_000 + 0.001
        return loss, 1 - loss, str(10 ** -(1 + i % 4)), str(16 << (i % 3))


# ---- data ----

def build_asyncclient(db: Path, data: Data) -> dict:
    sys.path.insert(0, str(REPO))
    from asyncclient.entities import RunStatus, RunTag
    from asyncclient.store import SqlStore

    store = SqlStore(f"sqlite:///{db}", f"file://{db.parent / 'ac-artifacts'}")
    big = store.create_experiment("bench-big-metric")
    run = store.create_run(big, "bench", T0, [RunTag("mlflow.runName", "big")], "big").info.run_id
    for lo in range(0, data.steps, 100_000):
        store.log_batch_tuples(run, [("loss", data.loss(s), T0 + s, s) for s in range(lo, min(data.steps, lo + 100_000))],
                               [], [])
    many = store.create_experiment("bench-10k-runs")
    for i in range(data.runs):
        rid = store.create_run(many, "bench", T0 + i, [RunTag("mlflow.runName", f"run-{i:05d}")], f"run-{i:05d}").info.run_id
        loss, acc, lr, batch = data.run_values(i)
        store.log_batch_tuples(rid, [("loss", loss, T0 + i, 0), ("acc", acc, T0 + i, 0)], [("lr", lr), ("batch", batch)], [])
        store.update_run_info(rid, RunStatus.FINISHED, T0 + i + 1000, None)
    store.close()
    return {"big": big, "run": run, "many": many}


def build_mlflow(db: Path, data: Data) -> dict:
    from mlflow.entities import RunStatus
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{db}", str(db.parent / "mlflow-artifacts"))
    big = store.create_experiment("bench-big-metric")
    run = store.create_run(big, "bench", T0, [], "big", ).info.run_id
    store.update_run_info(run, RunStatus.FINISHED, T0 + data.steps, "big")
    many = store.create_experiment("bench-10k-runs")
    template = store.create_run(many, "bench", T0, [], "template").info.run_id
    store.engine.dispose()
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
    row = dict(zip(cols, con.execute("SELECT * FROM runs WHERE run_uuid = ?", (template,)).fetchone(), strict=True))
    con.execute("DELETE FROM tags WHERE run_uuid = ?", (template,))
    con.execute("DELETE FROM runs WHERE run_uuid = ?", (template,))
    points = [("loss", data.loss(s), T0 + s, run, s, 0) for s in range(data.steps)]
    con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", points)
    con.execute("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?,?,?,?,?,?)",
                ("loss", points[-1][1], points[-1][2], points[-1][4], 0, run))
    runs, params, metrics, tags = [], [], [], []
    for i in range(data.runs):
        rid = uuid.uuid4().hex
        loss, acc, lr, batch = data.run_values(i)
        runs.append({**row, "run_uuid": rid, "name": f"run-{i:05d}", "start_time": T0 + i, "end_time": T0 + i + 1000,
                     "status": "FINISHED", "artifact_uri": row["artifact_uri"].replace(template, rid)})
        params += [("lr", lr, rid), ("batch", batch, rid)]
        metrics += [("loss", loss, T0 + i, rid, 0, 0), ("acc", acc, T0 + i, rid, 0, 0)]
        tags.append(("mlflow.runName", f"run-{i:05d}", rid))
    con.executemany(f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})", runs)
    con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", params)
    con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tags)
    con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", metrics)
    con.executemany("INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)",
                    metrics)
    con.commit()
    con.close()
    return {"big": big, "run": run, "many": many}


# ---- servers ----

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], workdir: Path, name: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = open(workdir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen([*cmd, "--host", "127.0.0.1", "--port", str(port)], cwd=workdir, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: see {workdir / name}.log")
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.3)
    raise RuntimeError(f"{name} did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ---- what "drawn" and "shown" mean in each UI (JS predicates returning performance.now() when true) ----

def _until(cond: str) -> str:
    return f"() => {{ try {{ return ({cond}) ? performance.now() : false }} catch (e) {{ return false }} }}"


OURS = {
    "chart": lambda ids: f"#/experiments/{ids['big']}/runs/{ids['run']}",
    "chart_done": _until("document.querySelector('section.chart[data-metric=loss]')?.dataset.drawn > 0"),
    "chart_max": "() => document.querySelector('section.chart[data-metric=loss]')._uplot.data[4].reduce((m, v) => v > m ? v : m, -Infinity)",
    "table": lambda ids: f"#/experiments/{ids['many']}",
    "sorted": lambda ids: f"#/experiments/{ids['many']}?orderByKey={urllib.parse.quote('metrics.`loss`')}&orderByAsc=true",
    "first_row": "document.querySelector('#runs-table tbody tr a.run-link')?.textContent",
}
# MLflow 3's React UI: the run's "Model metrics" tab draws each metric with Plotly (gd.data on the element);
# the runs table (/runs: MLflow 3 opens an experiment on its GenAI overview) is an ag-grid whose rows
# carry row-index.
MLFLOW = {
    "chart": lambda ids: f"#/experiments/{ids['big']}/runs/{ids['run']}/model-metrics",
    "chart_done": _until("[...document.querySelectorAll('.js-plotly-plot')].some(g => g.data && g.data.some(t => (t.y || []).length > 1) && g.querySelector('.scatterlayer path.js-line'))"),
    "chart_max": "() => Math.max(...[...document.querySelectorAll('.js-plotly-plot')].flatMap(g => (g.data || []).flatMap(t => (t.y || []).filter(v => typeof v === 'number'))))",
    "table": lambda ids: f"#/experiments/{ids['many']}/runs",
    "sorted": lambda ids: f"#/experiments/{ids['many']}/runs?orderByKey={urllib.parse.quote('metrics.`loss`')}&orderByAsc=true",
    "first_row": "document.querySelector('.ag-row[row-index=\"0\"] a[href*=\"/runs/\"]')?.textContent",
}


def measure(browser, url: str, predicate: str, timeout_ms: int, after: str | None = None):
    """ms from navigation start until ``predicate`` holds (None on timeout), and ``after``'s value then."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    try:
        page.goto(url, wait_until="commit")
        handle = page.wait_for_function(predicate, polling="raf", timeout=timeout_ms)
        ms = handle.json_value()
        return ms, (page.evaluate(after) if after else None), page
    except Exception as e:  # noqa: BLE001 - a UI that never shows it: reported as such
        print(f"    {url}: not shown within {timeout_ms} ms ({type(e).__name__})")
        page.screenshot(path=str(Path(tempfile.gettempdir()) / f"bench-ui-timeout-{abs(hash(url))}.png"))
        return None, None, page
    finally:
        ctx.close()


def bench(name, browser, base, ids, ui, data, repeat, timeout_ms):
    out = {}
    first_ok = _until(f"({ui['first_row']}) === 'run-00000'")
    listed = _until(f"!!({ui['first_row']})")
    for what, url, pred, after in [
        ("chart", ui["chart"](ids), ui["chart_done"], ui["chart_max"]),
        ("table", ui["table"](ids), listed, None),
        ("sorted", ui["sorted"](ids), first_ok, None),
    ]:
        times, extra = [], None
        for _ in range(repeat):
            ms, value, _page = measure(browser, f"{base}/{url}", pred, timeout_ms, after)
            if ms is not None:
                times.append(ms)
                extra = value
        out[what] = (times, extra)
        shown = f"best {min(times):,.0f} ms, median {statistics.median(times):,.0f} ms" if times else "not shown"
        note = ""
        if what == "chart" and extra is not None:
            note = f"  (largest drawn value {extra:g}; spike {SPIKE_VALUE:g} {'kept' if extra >= SPIKE_VALUE else 'LOST'})"
        print(f"  {name:12s} {what:7s} {shown}{note}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100k steps, 1,000 runs")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=60, help="seconds to wait for one page")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = ap.parse_args()
    data = Data(100_000, 1_000) if args.quick else Data(1_000_000, 10_000)
    work = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    print(f"data: a {data.steps:,}-step metric with a spike at step {data.spike_step:,}; {data.runs:,} runs  ({work})")
    t = time.perf_counter()
    ac_ids = build_asyncclient(work / "asyncclient.db", data)
    ml_ids = build_mlflow(work / "mlflow.db", data)
    print(f"  loaded both databases in {time.perf_counter() - t:.0f} s", flush=True)

    procs = []
    try:
        ac, ac_url = start([sys.executable, "-m", "asyncclient.cli", "ui", "--backend-store-uri",
                            f"sqlite:///{work / 'asyncclient.db'}", "--artifacts-destination", str(work / "ac-art")],
                           work, "asyncclient")
        procs.append(ac)
        ml, ml_url = start([sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
                            f"sqlite:///{work / 'mlflow.db'}", "--default-artifact-root", str(work / "ml-art"),
                            "--workers", "1"], work, "mlflow")
        procs.append(ml)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            timeout_ms = int(args.timeout * 1000)
            # One warm-up load each: server caches and the browser's own first start are not the UI's cost.
            for base, ui, ids in ((ac_url, OURS, ac_ids), (ml_url, MLFLOW, ml_ids)):
                measure(browser, f"{base}/{ui['table'](ids)}", _until(f"!!({ui['first_row']})"), timeout_ms)
            ours = bench("asyncclient", browser, ac_url, ac_ids, OURS, data, args.repeat, timeout_ms)
            theirs = bench("mlflow", browser, ml_url, ml_ids, MLFLOW, data, args.repeat, timeout_ms)
            browser.close()
        print("\nside by side (best of", args.repeat, "loads, ms from navigation):")
        print(f"  {'':8s} {'asyncclient':>12s} {'mlflow':>12s} {'ratio':>8s}")
        for what in ("chart", "table", "sorted"):
            a, m = ours[what][0], theirs[what][0]
            fa = f"{min(a):,.0f}" if a else "—"
            fm = f"{min(m):,.0f}" if m else f">{args.timeout * 1000:,.0f}"
            ratio = f"{min(m) / min(a):.1f}x" if a and m else "—"
            print(f"  {what:8s} {fa:>12s} {fm:>12s} {ratio:>8s}")
    finally:
        for p in procs:
            stop(p)
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
