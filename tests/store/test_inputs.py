"""log_inputs: datasets shared per experiment by (name, digest), one input edge per (dataset, run)."""

import pytest
import sqlalchemy as sa

from asyncclient.entities import Dataset, DatasetInput, InputTag
from asyncclient.exceptions import MlflowException
from asyncclient.store import schema


def _input(name="train", digest="abc", context="training"):
    return DatasetInput(Dataset(name, digest, "local", '{"uri": "/d"}', '{"s": 1}', '{"rows": 3}'),
                        [InputTag("mlflow.data.context", context)])


def _count(store, table):
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()


def test_logged_inputs_are_returned_with_the_run(store):
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    store.log_inputs(run_id, [_input()])
    (di,) = store.get_run(run_id).inputs.dataset_inputs
    assert (di.dataset.name, di.dataset.digest, di.dataset.profile) == ("train", "abc", '{"rows": 3}')
    assert [(t.key, t.value) for t in di.tags] == [("mlflow.data.context", "training")]


def test_relogging_an_input_creates_no_duplicate_edge(store):
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    store.log_inputs(run_id, [_input(), _input(context="other")])
    store.log_inputs(run_id, [_input()])
    assert len(store.get_run(run_id).inputs.dataset_inputs) == 1
    assert (_count(store, schema.inputs), _count(store, schema.input_tags)) == (1, 1)


def test_runs_of_one_experiment_share_the_dataset_row(store):
    runs = [store.create_run("0", "u", 1, [], None).info.run_id for _ in range(2)]
    for run_id in runs:
        store.log_inputs(run_id, [_input()])
    assert (_count(store, schema.datasets), _count(store, schema.inputs)) == (1, 2)


def test_same_dataset_in_another_experiment_is_its_own_row(store):
    other = store.create_experiment("other")
    for exp_id in ("0", other):
        store.log_inputs(store.create_run(exp_id, "u", 1, [], None).info.run_id, [_input()])
    assert _count(store, schema.datasets) == 2


def test_dataset_without_digest_is_invalid_parameter_value(store):
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    with pytest.raises(MlflowException) as err:
        store.log_inputs(run_id, [DatasetInput(Dataset("n", None, "local", "{}"))])
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
