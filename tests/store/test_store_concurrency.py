"""Several processes writing one SQLite file: no "database is locked" ever surfaces and nothing is lost."""

import multiprocessing as mp

from asyncclient.entities import Metric, Param, RunTag
from asyncclient.store import SqlStore

PROCESSES, BATCHES, PER_BATCH = 4, 15, 200


def _writer(db_uri: str, root: str, run_ids: list[str], worker: int, errors) -> None:
    try:
        store = SqlStore(db_uri, root)
        for b in range(BATCHES):
            for run_id in run_ids:  # every process writes to every run: maximal contention
                metrics = [Metric(f"m{i % 5}", float(b), worker * 10_000 + b * PER_BATCH + i, b)
                           for i in range(PER_BATCH)]
                store.log_batch(run_id, metrics, [Param(f"p{worker}", "v")], [RunTag("last", str(worker))])
        store.close()
    except Exception as e:  # reported to the parent: an assertion there names it
        errors.put(f"{type(e).__name__}: {e}")


def test_concurrent_processes_log_batch_into_one_sqlite_file_without_errors_or_loss(tmp_path):
    db_uri, root = f"sqlite:///{tmp_path / 'shared.db'}", f"file://{tmp_path}"
    store = SqlStore(db_uri, root)
    run_ids = [store.create_run("0", "u", 0, [], None).info.run_id for _ in range(2)]
    ctx = mp.get_context("spawn")  # a fresh interpreter per writer, as separate training processes
    errors = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(db_uri, root, run_ids, w, errors)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    reported = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert reported == [] and all(p.exitcode == 0 for p in procs)
    for run_id in run_ids:
        points = sum(len(store.get_metric_history(run_id, f"m{k}")) for k in range(5))
        assert points == PROCESSES * BATCHES * PER_BATCH
        assert set(store.get_run(run_id).data.params) == {f"p{w}" for w in range(PROCESSES)}


def test_first_open_of_a_fresh_file_by_many_processes_migrates_once(tmp_path):
    db_uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    ctx = mp.get_context("spawn")
    errors = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(db_uri, "file:///x", [], w, errors)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert errors.empty() and all(p.exitcode == 0 for p in procs)
    assert [e.name for e in SqlStore(db_uri, "file:///x").search_experiments()] == ["Default"]
