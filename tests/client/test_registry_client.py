"""asyncclient's ``MlflowClient`` registry methods and ``asyncclient.register_model``, against the embedded
store, asyncclient's server and ``mlflow server`` alike; and models logged by MLflow's flavors registered
through asyncclient and loaded back by MLflow."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

import asyncclient
from asyncclient.exceptions import MlflowException
from asyncclient.tracking import MlflowClient


@pytest.fixture(params=["embedded", "asyncclient-server", "mlflow-server"])
def destination(request, tracking_at, tmp_path):
    if request.param == "embedded":
        tracking_at(f"sqlite:///{tmp_path / 'reg.db'}")
    elif request.param == "asyncclient-server":
        tracking_at(request.getfixturevalue("asyncclient_server").url)
    else:
        tracking_at(request.getfixturevalue("mlflow_server").url)
    return request.param


def _name() -> str:
    return f"reg-{uuid.uuid4().hex[:8]}"


def test_register_run_folder_alias_stage_search_and_delete(destination):
    client = MlflowClient()
    with asyncclient.start_run() as run:
        asyncclient.log_param("a", "1")
    name = _name()
    v1 = asyncclient.register_model(f"runs:/{run.info.run_id}/model", name)
    v2 = asyncclient.register_model(f"runs:/{run.info.run_id}/model", name, tags={"k": "v"})
    assert (v1.version, v2.version, v2.run_id, v2.tags) == ("1", "2", run.info.run_id, {"k": "v"})
    assert client.get_model_version_download_uri(name, "1") == f"runs:/{run.info.run_id}/model"
    client.set_registered_model_alias(name, "champion", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    client.transition_model_version_stage(name, "1", "Staging")
    assert [v.version for v in client.get_latest_versions(name, ["Staging"])] == ["1"]
    assert [v.version for v in client.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"])] \
        == ["1", "2"]
    assert [m.name for m in client.search_registered_models(f"name = '{name}'")] == [name]
    client.delete_registered_model(name)
    with pytest.raises(MlflowException) as e:
        client.get_registered_model(name)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_mlflow_flavor_model_registered_by_asyncclient_loads_by_alias(own_server):
    import mlflow
    from sklearn.linear_model import LinearRegression

    mlflow.set_tracking_uri(own_server.url)
    mlflow.set_registry_uri(own_server.url)
    X = np.arange(8, dtype=float).reshape(4, 2)
    model = LinearRegression().fit(X, X @ np.array([2.0, 1.0]))
    mlflow.set_experiment(f"flavors-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model")
    name = _name()
    mv = asyncclient.register_model(info.model_uri, name)
    assert asyncclient.get_logged_model(info.model_id).name == "model"
    MlflowClient().set_registered_model_alias(name, "prod", mv.version)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@prod")
    assert loaded.predict(X).round(6).tolist() == model.predict(X).round(6).tolist()
