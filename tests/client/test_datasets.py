"""Datasets: asyncclient.data builders agree with mlflow.data, and log_input records inputs that MLflow's
client reads back, with the embedded store and with a real `mlflow server`."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import asyncclient as mlflow
from asyncclient.tracking import MlflowClient


@pytest.fixture
def df():
    return pd.DataFrame({"x": [1, 2, 3], "y": [0.5, None, 1.5], "label": ["a", "b", "a"]})


@pytest.fixture
def embedded(tracking_at, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tracking_at(f"sqlite:///{tmp_path}/x.db")
    return tmp_path


def _mlflow_data():
    import mlflow.data

    # MLflow warns about its dataset source registry on every call; that noise is not under test.
    warnings.filterwarnings("ignore", module="mlflow")
    return mlflow.data


def _inputs(run) -> list[tuple[str, str, dict]]:
    return [(d.dataset.name, d.dataset.digest, {t.key: t.value for t in d.tags}) for d in run.inputs.dataset_inputs]


# ---- builders ----

def test_from_pandas_matches_mlflow_field_for_field(df):
    ours = mlflow.data.from_pandas(df, source="data.csv", name="train", targets="label")._to_mlflow_entity()
    theirs = _mlflow_data().from_pandas(df, source="data.csv", name="train", targets="label")._to_mlflow_entity()
    for field in ("name", "digest", "source_type", "source", "schema", "profile"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert json.loads(ours.profile) == {"num_rows": 3, "num_elements": 9}
    assert len(ours.digest) == 8


def test_from_numpy_digest_and_schema_match_mlflow():
    features, targets = np.arange(12.0).reshape(4, 3), np.array([0, 1, 0, 1])
    ours = mlflow.data.from_numpy(features, source="s3://b/x.npy", targets=targets)
    theirs = _mlflow_data().from_numpy(features, source="s3://b/x.npy", targets=targets)
    assert (ours.name, ours.digest, ours.to_dict()["schema"]) == (theirs.name, theirs.digest, theirs.to_dict()["schema"])
    assert ours.to_dict()["source_type"] == "s3"
    assert (ours.profile["num_rows"], ours.profile["num_elements"]) == (4, 16)


def test_a_dataset_without_source_names_the_calling_code(df):
    ds = mlflow.data.from_pandas(df)
    assert ds.to_dict()["source_type"] == "code"
    assert "mlflow.source.name" in ds.source.to_dict()["tags"]


def test_importing_asyncclient_does_not_import_pandas_or_numpy():
    code = "import sys, asyncclient, asyncclient.data; print('pandas' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# ---- log_input ----

def test_embedded_log_input_records_name_digest_and_context(embedded, df):
    ds = mlflow.data.from_pandas(df, source="data.csv", name="train")
    with mlflow.start_run() as run:
        mlflow.log_input(ds, context="training", tags={"split": "a"})
    stored = MlflowClient().get_run(run.info.run_id)
    assert _inputs(stored) == [("train", ds.digest, {"split": "a", "mlflow.data.context": "training"})]
    assert json.loads(stored.inputs.dataset_inputs[0].dataset.source) == {"uri": "data.csv"}


def test_logging_the_same_dataset_twice_stores_one_input(embedded, df):
    with mlflow.start_run() as run:
        mlflow.log_input(mlflow.data.from_pandas(df, source="data.csv", name="train"), context="training")
        mlflow.log_input(mlflow.data.from_pandas(df, source="data.csv", name="train"), context="training")
        mlflow.log_input(mlflow.data.from_pandas(df.head(2), source="data.csv", name="train"), context="eval")
    contexts = [tags["mlflow.data.context"] for _, _, tags in _inputs(MlflowClient().get_run(run.info.run_id))]
    assert sorted(contexts) == ["eval", "training"]


def test_mlflow_dataset_objects_are_accepted(embedded, df):
    theirs = _mlflow_data().from_pandas(df, source="data.csv", name="theirs")
    with mlflow.start_run() as run:
        mlflow.log_input(theirs, context="eval")
    assert _inputs(MlflowClient().get_run(run.info.run_id)) == [("theirs", theirs.digest, {"mlflow.data.context": "eval"})]


def test_mlflow_server_reads_logged_inputs(tracking, peer, df):
    ds = mlflow.data.from_pandas(df, source="data.csv", name="train")
    with mlflow.start_run() as run:
        mlflow.log_param("p", 1)
        mlflow.log_input(ds, context="training")
    stored = peer.get_run(run.info.run_id)
    assert stored.inputs.dataset_inputs[0].dataset.name == "train"
    assert _inputs(stored) == [("train", ds.digest, {"mlflow.data.context": "training"})]
    assert stored.inputs.dataset_inputs[0].dataset.schema == ds.to_dict()["schema"]
