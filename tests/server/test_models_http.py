"""Raw REST requests for LoggedModels and the Model Registry give the same statuses, error codes and bodies
on asyncclient's server as on ``mlflow server`` (ids, times and artifact locations normalized away).

Deliberate difference, tested in tests/store/test_models_store.py: a ``datasets`` entry without a digest
matches the dataset by name here, where MLflow's server compares the digest with NULL and matches nothing.
"""

from __future__ import annotations

import re

import requests

_ID = re.compile(r"\b(m-)?[0-9a-f]{32}\b")
_VOLATILE = {"creation_timestamp", "last_updated_timestamp", "creation_timestamp_ms", "last_updated_timestamp_ms",
             "experiment_id", "artifact_uri", "root_uri", "timestamp", "next_page_token"}


def _normalize(value):
    if isinstance(value, dict):
        for name in ("tags", "metrics"):  # the order of a run's tags and metrics is not the contract
            if name in value and isinstance(value[name], list):
                value = {**value, name: sorted(value[name], key=lambda t: (t["key"], str(t.get("step"))))}
        return {k: _normalize(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, str):
        return _ID.sub("<id>", value)
    return value


def _session_results(base: str, name: str) -> list:
    s = requests.Session()
    api = base + "/api/2.0/mlflow/"
    results = []

    def call(method: str, path: str, body_kind: str = "body", **kwargs):
        r = s.request(method, api + path, **kwargs)
        try:
            body = r.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "error_code" in body:
            results.append((method, _ID.sub("<id>", path), r.status_code, body["error_code"],
                            _ID.sub("<id>", body["message"]) if body_kind == "message" else None))
        else:
            results.append((method, _ID.sub("<id>", path), r.status_code, _normalize(body)))
        return body

    exp = call("POST", "experiments/create", json={"name": name})["experiment_id"]
    run = call("POST", "runs/create", json={"experiment_id": exp, "run_name": "r"})["run"]["info"]["run_id"]
    # ---- logged models ----
    call("POST", "logged-models", json={})
    lm = call("POST", "logged-models", json={
        "experiment_id": exp, "name": "m", "source_run_id": run, "model_type": "agent",
        "tags": [{"key": "t", "value": "1"}], "params": [{"key": "p", "value": "x"}]})["model"]["info"]["model_id"]
    other = call("POST", "logged-models", json={"experiment_id": exp, "name": "n"})["model"]["info"]["model_id"]
    call("GET", f"logged-models/{lm}")
    call("GET", "logged-models/m-" + "0" * 32, "message")
    call("PATCH", f"logged-models/{lm}", json={"model_id": lm, "status": "LOGGED_MODEL_READY"})
    call("POST", f"logged-models/{lm}/params", json={"model_id": lm, "params": [{"key": "q", "value": "y"}]})
    call("PATCH", f"logged-models/{lm}/tags", json={"tags": [{"key": "t", "value": "2"}, {"key": "u", "value": "3"}]})
    call("DELETE", f"logged-models/{lm}/tags/u")
    call("POST", "runs/log-batch", json={"run_id": run, "metrics": [
        {"key": "acc", "value": 0.9, "timestamp": 5, "step": 1, "model_id": lm},
        {"key": "acc", "value": 0.5, "timestamp": 5, "step": 1, "model_id": other, "dataset_name": "d",
         "dataset_digest": "abc"}]})
    call("POST", "runs/log-metric", json={"run_id": run, "key": "loss", "value": 0.1, "timestamp": 6,
                                          "model_id": lm})
    call("POST", "runs/outputs", json={"run_id": run, "models": [{"model_id": lm, "step": 3}]})
    call("POST", "runs/outputs", json={"run_id": run, "models": []})
    call("POST", "runs/log-inputs", json={"run_id": run, "models": [{"model_id": other}]})
    call("GET", "runs/get", params={"run_id": run})
    call("GET", f"logged-models/{lm}")
    call("POST", "logged-models/search", json={})
    call("POST", "logged-models/search", json={"experiment_ids": [exp]})
    call("POST", "logged-models/search", json={"experiment_ids": [exp], "filter": "metrics.acc > 0.6"})
    call("POST", "logged-models/search", json={"experiment_ids": [exp], "filter": "params.p = 'x' AND tags.t = '2'"})
    call("POST", "logged-models/search", json={"experiment_ids": [exp], "filter": "name LIKE 'n%'"})
    call("POST", "logged-models/search", json={"experiment_ids": [exp], "max_results": 1,
                                               "order_by": [{"field_name": "metrics.acc", "ascending": True}]})
    call("POST", "logged-models/search", json={"experiment_ids": [exp],
                                               "order_by": [{"field_name": "name", "ascending": False}]})
    call("POST", "logged-models/search", json={"experiment_ids": [exp], "datasets": [{"dataset_name": "d",
                                                                                 "dataset_digest": "abc"}]})
    call("GET", f"logged-models/{lm}/artifacts/directories")
    call("DELETE", f"logged-models/{other}", json={"model_id": other})
    call("GET", f"logged-models/{other}")
    call("POST", "logged-models/search", json={"experiment_ids": [exp]})
    # ---- registry ----
    reg = name + "-reg"
    call("POST", "registered-models/create", json={"name": reg, "description": "d",
                                                   "tags": [{"key": "a", "value": "b"}]})
    call("POST", "registered-models/create", json={"name": reg}, body_kind="message")
    call("POST", "registered-models/create", json={})
    call("GET", "registered-models/get", params={"name": reg + "-x"}, body_kind="message")
    call("POST", "model-versions/create", json={"name": reg, "source": f"models:/{lm}", "model_id": lm})
    call("POST", "model-versions/create", json={"name": reg, "source": f"runs:/{run}/model", "run_id": run})
    call("POST", "model-versions/create", json={"name": reg, "source": "/tmp/elsewhere"}, body_kind="message")
    call("POST", "model-versions/create", json={"name": reg + "-x", "source": f"models:/{lm}", "model_id": lm})
    call("GET", "model-versions/get", params={"name": reg, "version": "7"}, body_kind="message")
    call("POST", "registered-models/alias", json={"name": reg, "alias": "prod", "version": "2"})
    call("POST", "registered-models/alias", json={"name": reg, "alias": "prod", "version": "9"})
    call("GET", "registered-models/alias", params={"name": reg, "alias": "prod"})
    call("GET", "registered-models/alias", params={"name": reg, "alias": "nope"})
    call("POST", "model-versions/transition-stage", json={"name": reg, "version": "1", "stage": "production",
                                                          "archive_existing_versions": False})
    call("POST", "model-versions/transition-stage", json={"name": reg, "version": "2", "stage": "Production",
                                                          "archive_existing_versions": True})
    call("POST", "model-versions/transition-stage", json={"name": reg, "version": "2", "stage": "bogus",
                                                          "archive_existing_versions": False})
    call("POST", "registered-models/get-latest-versions", json={"name": reg, "stages": ["Archived"]})
    call("GET", "registered-models/get-latest-versions", params={"name": reg})
    call("POST", "model-versions/set-tag", json={"name": reg, "version": "1", "key": "k", "value": "v"})
    call("DELETE", "model-versions/delete-tag", json={"name": reg, "version": "1", "key": "k"})
    call("POST", "registered-models/set-tag", json={"name": reg, "key": "c", "value": "d"})
    call("DELETE", "registered-models/delete-tag", json={"name": reg, "key": "a"})
    call("PATCH", "model-versions/update", json={"name": reg, "version": "1", "description": "first"})
    call("PATCH", "registered-models/update", json={"name": reg, "description": "new"})
    call("GET", "registered-models/get", params={"name": reg})
    call("GET", "model-versions/search", params={"filter": f"name = '{reg}'"})
    call("GET", "model-versions/search", params={"filter": f"name = '{reg}' AND version_number > 1"})
    call("GET", "model-versions/search", params={"filter": f"run_id = '{run}'", "order_by": "version_number ASC"})
    call("GET", "model-versions/search", params={"filter": f"name = '{reg}'", "max_results": "1"})
    call("GET", "registered-models/search", params={"filter": f"name = '{reg}'"})
    call("GET", "registered-models/search", params={"filter": f"name LIKE '{name}%' AND tags.c = 'd'"})
    call("GET", "registered-models/search", params={"filter": "name = 'x' OR name = 'y'"})
    call("GET", "model-versions/get-download-uri", params={"name": reg, "version": "9"})
    call("POST", "registered-models/rename", json={"name": reg, "new_name": reg + "2"})
    call("GET", "registered-models/alias", params={"name": reg + "2", "alias": "prod"})
    call("DELETE", "registered-models/alias", json={"name": reg + "2", "alias": "prod"})
    call("DELETE", "model-versions/delete", json={"name": reg + "2", "version": "2"})
    call("POST", "model-versions/create", json={"name": reg + "2", "source": f"models:/{lm}", "model_id": lm})
    call("GET", "model-versions/search", params={"filter": f"name = '{reg}2'"})
    call("DELETE", "registered-models/delete", json={"name": reg + "2"})
    call("GET", "registered-models/get", params={"name": reg + "2"})
    return results


def test_same_statuses_codes_and_bodies_as_mlflow_server(server, mlflow_server):
    ours = _session_results(server.url, "models-http")
    theirs = _session_results(mlflow_server.url, "models-http")
    assert [r[:2] for r in ours] == [r[:2] for r in theirs]
    differing = [(o, t) for o, t in zip(ours, theirs, strict=True) if o != t]
    for o, t in differing:
        print("OURS  ", o, "\nTHEIRS", t)
    assert differing == []
