"""MLflow 3's model workflow driven by the real ``mlflow`` package, printed as JSON without ids and times.

Run as ``python models_scenario.py <tracking_uri> <name_prefix> <output.json>``. The same script runs against
asyncclient's server and against ``mlflow server``; the differential test compares the two outputs.
"""

from __future__ import annotations

import json
import sys

import mlflow
import numpy as np
import requests
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LinearRegression


def _error(fn) -> str | None:
    try:
        fn()
    except MlflowException as e:
        return e.error_code
    return None


def main(uri: str, prefix: str, out_path: str) -> None:
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    out: dict = {}
    exp_id = mlflow.set_experiment(f"{prefix}-models").experiment_id
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = X @ np.array([1.5, -2.0]) + 3.0
    model = LinearRegression().fit(X, y)
    expected = model.predict(X[:3]).round(6).tolist()

    with mlflow.start_run() as run:
        mlflow.log_param("alpha", "0.5")
        info = mlflow.sklearn.log_model(model, name="model", params={"fit_intercept": "True"})
        mlflow.log_metric("rmse", 0.125, step=1, model_id=info.model_id)
        run_id = run.info.run_id
    out["model_uri_is_models_id"] = info.model_uri == f"models:/{info.model_id}"
    out["loaded_sklearn"] = mlflow.sklearn.load_model(info.model_uri).predict(X[:3]).round(6).tolist()
    out["expected"] = expected
    out["loaded_from_run_uri"] = mlflow.sklearn.load_model(f"runs:/{run_id}/model").predict(X[:3]).round(6).tolist()

    lm = mlflow.get_logged_model(info.model_id)
    out["logged_model"] = {
        "name": lm.name, "status": str(lm.status), "source_run_matches": lm.source_run_id == run_id,
        "experiment_matches": lm.experiment_id == exp_id, "params": dict(sorted(lm.params.items())),
        "metrics": sorted((m.key, m.value, m.step) for m in lm.metrics or []),
        "tag_keys": sorted(k for k in lm.tags if not k.startswith("mlflow.source")),
        "model_type": lm.model_type,
    }
    found = mlflow.search_logged_models(experiment_ids=[exp_id], filter_string="name = 'model'",
                                        output_format="list")
    out["search_logged_models"] = [m.model_id == info.model_id for m in found]
    out["search_logged_models_metric"] = len(mlflow.search_logged_models(
        experiment_ids=[exp_id], filter_string="metrics.rmse < 1", output_format="list"))
    out["search_logged_models_none"] = len(mlflow.search_logged_models(
        experiment_ids=[exp_id], filter_string="params.fit_intercept = 'False'", output_format="list"))
    mlflow.set_logged_model_tags(info.model_id, {"team": "a"})
    out["logged_model_tags_after_set"] = mlflow.get_logged_model(info.model_id).tags.get("team")
    out["run_outputs"] = [o.model_id == info.model_id for o in client.get_run(run_id).outputs.model_outputs]

    name = f"{prefix}-reg"
    mv = mlflow.register_model(info.model_uri, name)
    out["registered_version"] = mv.version
    out["mv_source_is_model"] = mv.source == info.model_uri or mv.source.endswith(info.model_id)
    out["mv_run_id_matches"] = mv.run_id == run_id
    client.set_registered_model_alias(name, "champion", mv.version)
    out["by_alias_version"] = client.get_model_version_by_alias(name, "champion").version
    out["pyfunc_alias"] = mlflow.pyfunc.load_model(f"models:/{name}@champion").predict(X[:3]).round(6).tolist()
    out["pyfunc_version"] = mlflow.pyfunc.load_model(f"models:/{name}/1").predict(X[:3]).round(6).tolist()
    mv2 = mlflow.register_model(f"runs:/{run_id}/model", name)
    out["second_version"] = mv2.version
    out["search_model_versions"] = sorted(
        (v.name == name, v.version, v.current_stage) for v in client.search_model_versions(f"name = '{name}'"))
    client.transition_model_version_stage(name, mv2.version, "Staging")
    out["latest_staging"] = [v.version for v in client.get_latest_versions(name, stages=["Staging"])]
    client.set_model_version_tag(name, "1", "validated", "yes")
    client.set_registered_model_tag(name, "owner", "ml")
    client.update_registered_model(name, description="demo")
    rm = client.get_registered_model(name)
    out["registered_model"] = {
        "description": rm.description, "tags": rm.tags, "aliases": rm.aliases,
        "latest": sorted((v.version, v.current_stage) for v in rm.latest_versions),
    }
    out["search_registered_models"] = [m.name == name for m in client.search_registered_models(
        filter_string=f"name LIKE '{prefix}-reg%'")]
    out["download_uri_is_model_artifacts"] = client.get_model_version_download_uri(name, "1").endswith(
        f"/models/{info.model_id}/artifacts")
    # The UI's file routes: a version's file, path validation, a logged model's files and listing.
    get = requests.get
    mlmodel = get(f"{uri}/model-versions/get-artifact", params={"name": name, "version": "1", "path": "MLmodel"})
    out["get_artifact"] = [mlmodel.status_code, b"flavors" in mlmodel.content]
    out["get_artifact_traversal"] = [get(f"{uri}/model-versions/get-artifact",
                                         params={"name": name, "version": "1", "path": p}).status_code
                                     for p in ("../../../etc/passwd", "/etc/passwd", "%2e%2e/x")]
    files = get(f"{uri}/ajax-api/2.0/mlflow/logged-models/{info.model_id}/artifacts/files",
                params={"artifact_file_path": "MLmodel"})
    out["logged_model_file"] = [files.status_code, files.content == mlmodel.content]
    listing = get(f"{uri}/api/2.0/mlflow/logged-models/{info.model_id}/artifacts/directories").json()
    # registered_model_meta is written by MLflow's client into the folder it loads a registered model
    # from; with a local artifact root (the mlflow server of the test) that is the model's own folder.
    out["logged_model_listing"] = sorted((f["path"], f["is_dir"]) for f in listing.get("files", [])
                                         if f["path"] != "registered_model_meta")
    out["missing_model"] = _error(lambda: client.get_registered_model(name + "-missing"))
    out["duplicate_model"] = _error(lambda: client.create_registered_model(name))
    out["missing_version"] = _error(lambda: client.get_model_version(name, "99"))
    client.rename_registered_model(name, name + "-renamed")
    out["renamed_load"] = mlflow.pyfunc.load_model(f"models:/{name}-renamed@champion").predict(X[:3]).round(6).tolist()
    client.delete_model_version(name + "-renamed", "2")
    out["after_delete_versions"] = [v.version for v in client.search_model_versions(f"name = '{name}-renamed'")]
    client.delete_registered_model(name + "-renamed")
    out["deleted_model"] = _error(lambda: client.get_registered_model(name + "-renamed"))
    mlflow.delete_logged_model(info.model_id) if hasattr(mlflow, "delete_logged_model") else \
        client.delete_logged_model(info.model_id)
    out["deleted_logged_model"] = _error(lambda: mlflow.get_logged_model(info.model_id))
    with open(out_path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
