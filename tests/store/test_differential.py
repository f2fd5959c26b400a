"""Differential tests: our SqlStore and MLflow's own SqlAlchemyStore, loaded with identical data (same run
ids), must answer every search_runs filter / order_by / view type identically, errors included."""

from __future__ import annotations

import math
import random

import pytest

from asyncclient import entities as ours
from asyncclient.exceptions import MlflowException
from asyncclient.store import SqlStore

mlflow_store_mod = pytest.importorskip("mlflow.store.tracking.sqlalchemy_store")
import mlflow.entities as theirs  # noqa: E402
from mlflow.exceptions import MlflowException as TheirMlflowException  # noqa: E402

N_RUNS = 40


def _dataset(module, name, digest):
    return module.DatasetInput(module.Dataset(name, digest, "local", '{"uri": "x"}'),
                               [module.InputTag("mlflow.data.context", "eval" if digest.endswith("2") else "train")])


def _plan(rng: random.Random) -> list[dict]:
    """What to log per run, as plain values applied identically to both stores."""
    runs = []
    for i in range(N_RUNS):
        metrics = []
        if i % 7 != 0:  # some runs lack "loss"
            for step in range(3):
                value = rng.choice([0.25, 0.5, 0.75, rng.random(), float("nan")]) if step == 2 else rng.random()
                metrics.append(("loss", value, 1000 + step, step))
        if i % 3 != 0:
            metrics.append(("acc", rng.choice([0.1, 0.5, 0.9, rng.random()]), 2000, 0))
        if i % 4 == 0:
            metrics.append(("m with space", rng.choice([-1.0, 0.0, 1.0, float("inf")]), 5, 0))
        params = [("lr", rng.choice(["0.1", "0.01", "0.001"]))]
        if i % 2 == 0:
            params.append(("opt", rng.choice(["adam", "Adam", "sgd", "adagrad"])))
        tags = [("team", rng.choice(["red", "blue", "green"]))]
        if i % 5 != 0:
            tags.append(("env", rng.choice(["prod", "Prod-1", "staging", "PRODUCTION"])))
        runs.append({
            "experiment": "0" if i < 30 else "1",
            "user": rng.choice(["alice", "bob"]),
            "start_time": 1000 + rng.randint(0, 8),  # ties exercise the run_id tiebreak
            "name": f"run-{i}",
            "metrics": metrics, "params": params, "tags": tags,
            "finish": rng.random() < 0.5, "end_time": 5000 + i,
            "delete": i % 9 == 4,
            "datasets": [("train", "d1")] + ([("test", "d2")] if i % 2 else []) if i % 3 == 1 else [],
        })
    return runs


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """(ours, MLflow's) with the same experiments, runs, run ids and data."""
    tmp = tmp_path_factory.mktemp("differential")
    theirs_store = mlflow_store_mod.SqlAlchemyStore(f"sqlite:///{tmp / 'mlflow.db'}", str(tmp / "mlflow-art"))
    ours_store = SqlStore(f"sqlite:///{tmp / 'ours.db'}", str(tmp / "mlflow-art"))
    assert theirs_store.create_experiment("second") == ours_store.create_experiment("second") == "1"
    for spec in _plan(random.Random(1234)):
        run = theirs_store.create_run(spec["experiment"], spec["user"], spec["start_time"], [], spec["name"])
        run_id = run.info.run_id
        ours_store.create_run(spec["experiment"], spec["user"], spec["start_time"], [], spec["name"], run_id=run_id)
        theirs_store.log_batch(run_id, [theirs.Metric(*m) for m in spec["metrics"]],
                               [theirs.Param(*p) for p in spec["params"]], [theirs.RunTag(*t) for t in spec["tags"]])
        ours_store.log_batch(run_id, [ours.Metric(*m) for m in spec["metrics"]],
                             [ours.Param(*p) for p in spec["params"]], [ours.RunTag(*t) for t in spec["tags"]])
        if spec["datasets"]:
            theirs_store.log_inputs(run_id, [_dataset(theirs, *d) for d in spec["datasets"]])
            ours_store.log_inputs(run_id, [_dataset(ours, *d) for d in spec["datasets"]])
        if spec["finish"]:
            theirs_store.update_run_info(run_id, theirs.RunStatus.FINISHED, spec["end_time"], None)
            ours_store.update_run_info(run_id, ours.RunStatus.FINISHED, spec["end_time"], None)
        if spec["delete"]:
            theirs_store.delete_run(run_id)
            ours_store.delete_run(run_id)
    yield ours_store, theirs_store
    ours_store.close()


def _same_value(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def _search(store, error_type, **kwargs):
    kwargs.setdefault("run_view_type", 1)
    kwargs.setdefault("max_results", 1000)
    kwargs.setdefault("order_by", None)
    kwargs.setdefault("filter_string", "")
    kwargs.setdefault("page_token", None)
    try:
        return store.search_runs(**kwargs)
    except error_type as e:
        return e


def _assert_same(ours_store, theirs_store, **kwargs):
    mine = _search(ours_store, MlflowException, **kwargs)
    ref = _search(theirs_store, TheirMlflowException, **kwargs)
    if isinstance(ref, Exception) or isinstance(mine, Exception):
        assert isinstance(mine, Exception) and isinstance(ref, Exception), (kwargs, mine, ref)
        assert mine.error_code == "INVALID_PARAMETER_VALUE", mine
        return
    assert [r.info.run_id for r in mine] == [r.info.run_id for r in ref], kwargs
    for a, b in zip(mine, ref, strict=True):
        assert a.data.params == b.data.params and a.data.tags == b.data.tags
        assert a.data.metrics.keys() == b.data.metrics.keys()
        assert all(_same_value(a.data.metrics[k], b.data.metrics[k]) for k in a.data.metrics)
        assert (a.info.status, a.info.end_time, a.info.run_name) == (b.info.status, b.info.end_time, b.info.run_name)
        assert sorted((d.dataset.name, d.dataset.digest) for d in a.inputs.dataset_inputs) == sorted(
            (d.dataset.name, d.dataset.digest) for d in b.inputs.dataset_inputs)
    assert bool(mine.token) == bool(ref.token)


FILTERS = [
    "", "metrics.loss < 0.5", "metrics.loss > 0.5", "metrics.loss != 0.5", "metrics.loss = 0.25",
    "metrics.loss >= 0.3 and metrics.acc < 0.9", "metrics.`m with space` > 0", 'metrics."m with space" <= 1',
    "metric.loss > -1", "metrics.acc >= 0.5 AND params.lr = '0.1' AND tags.team != 'blue'",
    "params.lr = '0.01'", "params.lr != '0.01'", "params.opt LIKE 'ad%'", "params.opt ILIKE 'AD%'",
    "param.lr ILIKE '%1'", "parameters.opt IS NULL", "params.opt IS NOT NULL", "params.opt = \"sgd\"",
    "tags.team = 'red'", "tags.env LIKE 'Prod%'", "tags.env ILIKE 'prod%'", "tags.env IS NULL",
    "tag.env IS NOT NULL and tags.team = 'green'", "tags.`mlflow.runName` LIKE 'run-1%'",
    "attributes.run_name = 'run-3'", "run_name LIKE 'run-1_'", "attributes.`run name` = 'run-5'",
    "attributes.status = 'FINISHED'", "status != 'RUNNING'", "attributes.start_time > 1005",
    "start_time <= 1003", "created > 1002", "attr.end_time > 5010", "attributes.user_id = 'alice'",
    "attributes.artifact_uri LIKE '%artifacts'", "datasets.name = 'train'", "datasets.digest IN ('d2', 'x')",
    "dataset.context = 'eval'", "datasets.name NOT IN ('test')", "dataset.name LIKE 'tr%' AND metrics.loss < 1",
    "metrics.loss > 0.1 and metrics.loss < 0.9 and params.lr != '0.001'", "metrics.nothing > 0",
    "params.lr LIKE '0.0%' AND tags.team ILIKE 'R%'",
    # errors: both stores must refuse these
    "metrics.loss > 'a'", "params.lr = 1", "metrics.loss LIKE '1'", "foo.bar = 'x'",
    "metrics.loss > 1 OR metrics.acc > 1", "status IN ('FINISHED')", "params.lr IN ('0.1')",
    "metrics.loss IS NULL", "attributes.nope = 'x'", "params.lr = unquoted",
]
ORDER_BYS = [
    None, ["metrics.loss"], ["metrics.loss DESC"], ["params.lr"], ["params.lr DESC", "metrics.acc ASC"],
    ["tags.team DESC"], ["attributes.start_time ASC"], ["start_time"], ["end_time DESC"], ["run_name"],
    ["attributes.status DESC"], ["user_id"], ["metrics.`m with space` DESC"], ["created"], ["run_id DESC"],
    ["metrics.acc", "params.opt DESC"], ["tags.env"], ["metrics.loss ASC", "tags.team DESC", "run_name"],
    # errors
    ["metrics.loss", "metrics.loss DESC"], ["metrics.loss DESC DESC"], ["nope"],
]


@pytest.mark.parametrize("filter_string", FILTERS)
def test_filter_matches_mlflow(stores, filter_string):
    _assert_same(*stores, experiment_ids=["0", "1"], filter_string=filter_string)


@pytest.mark.parametrize("order_by", ORDER_BYS, ids=str)
def test_order_by_matches_mlflow(stores, order_by):
    _assert_same(*stores, experiment_ids=["0", "1"], order_by=order_by)


@pytest.mark.parametrize("view_type", [1, 2, 3])
@pytest.mark.parametrize("order_by", [None, ["metrics.loss DESC"], ["params.opt"]], ids=str)
def test_view_types_match_mlflow(stores, view_type, order_by):
    _assert_same(*stores, experiment_ids=["0", "1"], run_view_type=view_type, order_by=order_by,
                 filter_string="metrics.loss > 0.2")


@pytest.mark.parametrize("experiment_ids", [["0"], ["1"], [], ["0", "1"]], ids=str)
def test_experiment_selection_matches_mlflow(stores, experiment_ids):
    _assert_same(*stores, experiment_ids=experiment_ids, order_by=["metrics.acc DESC"])


def test_pages_and_tokens_match_mlflow(stores):
    ours_store, theirs_store = stores
    token_ours = token_theirs = None
    while True:
        mine = ours_store.search_runs(["0", "1"], "", 3, 7, ["metrics.loss DESC"], token_ours)
        ref = theirs_store.search_runs(["0", "1"], "", 3, 7, ["metrics.loss DESC"], token_theirs)
        assert [r.info.run_id for r in mine] == [r.info.run_id for r in ref]
        token_ours, token_theirs = mine.token, ref.token
        assert (token_ours is None) == (token_theirs is None)
        if token_ours is None:
            break
        # Same token bytes: base64 of {"offset": N}.
        assert token_ours.encode() == (token_theirs if isinstance(token_theirs, bytes) else token_theirs.encode())


def test_the_loaded_data_makes_most_filters_discriminating(stores):
    """Guards the differential tests themselves: a filter matching all runs or none proves little."""
    ours_store, _ = stores
    total = len(ours_store.search_runs(["0", "1"], "", 1, 1000, None, None))
    counts = []
    for f in FILTERS:
        try:
            counts.append(len(ours_store.search_runs(["0", "1"], f, 1, 1000, None, None)))
        except MlflowException:
            pass
    assert sum(0 < c < total for c in counts) >= 35, counts
