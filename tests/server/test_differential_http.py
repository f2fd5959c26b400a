"""Raw REST requests, including malformed ones, give the same statuses, error codes and bodies on
asyncclient's server as on ``mlflow server`` (ids and times normalized away).

Deliberate differences, tested elsewhere: we accept ``runId`` in log-batch (MLflow's schema check reads only
``run_id``), and an unknown enum name (``"status": "DONE"``) is a 400 here where MLflow silently ignores it.
"""

from __future__ import annotations

import re

import requests

_ID = re.compile(r"\b[0-9a-f]{32}\b")


def _normalize(value):
    if isinstance(value, dict):
        if "tags" in value and isinstance(value["tags"], list):  # tag order is not part of the contract
            value = {**value, "tags": sorted(value["tags"], key=lambda t: t["key"])}
        return {k: _normalize(v) for k, v in value.items()
                if k not in ("start_time", "end_time", "creation_time", "last_update_time", "experiment_id",
                             "run_name", "artifact_uri", "artifact_location", "root_uri")}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, str):
        return _ID.sub("<id>", value)
    return value


def _session_results(base: str, name: str) -> list:
    """Send the request sequence to one server; return (status, error_code or normalized body) per request."""
    s = requests.Session()
    api = base + "/api/2.0/mlflow/"
    results = []

    def call(method: str, path: str, body_kind: str = "error", **kwargs):
        r = s.request(method, api + path, **kwargs)
        try:
            body = r.json()
        except ValueError:
            body = None
        if body_kind == "error" and isinstance(body, dict) and "error_code" in body:
            results.append((path, r.status_code, body["error_code"]))
        else:
            results.append((path, r.status_code, _normalize(body)))
        return body

    exp = call("POST", "experiments/create", "body", json={"name": name})["experiment_id"]
    run = call("POST", "runs/create", "body", json={"experiment_id": exp, "run_name": "r",
                                                    "tags": [{"key": "mlflow.user", "value": "u"}]})
    rid = run["run"]["info"]["run_id"]
    call("POST", "experiments/create", json={})
    call("POST", "experiments/create", data=b'{"name": "x"}')  # no Content-Type
    call("POST", "experiments/create", json={"name": name})  # duplicate
    call("GET", "experiments/get", params={"experiment_id": "99999999"})
    call("GET", "experiments/get-by-name", params={"experiment_name": name + "-missing"})
    call("GET", "runs/get", params={"run_id": "f" * 32})
    call("GET", "runs/get", "body", params={"run_uuid": rid})
    call("POST", "runs/create", json={"experiment_id": exp, "run_name": "a",
                                      "tags": [{"key": "mlflow.runName", "value": "b"}]})
    call("POST", "runs/log-metric", json={"run_id": rid, "key": "m", "timestamp": 1})
    call("POST", "runs/log-metric", json={"run_id": rid, "key": "m", "value": "abc", "timestamp": 1})
    # snake_case here: MLflow's schema check reads only "run_id" for log-batch, while we also take "runId".
    call("POST", "runs/log-batch", "body", json={"run_id": rid, "metrics": [
        {"key": "m", "value": "NaN", "timestamp": "5", "step": "1"},
        {"key": "m", "value": 2.5, "timestamp": 6, "step": 2},
        {"key": "m", "value": "Infinity", "timestamp": 7, "step": 3}]})
    call("GET", "metrics/get-history", "body", params={"run_id": rid, "metric_key": "m"})
    call("POST", "runs/log-batch", json={"run_id": rid, "metrics": [
        {"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)]})
    call("POST", "runs/log-batch", json={"run_id": rid, "params": [{"key": f"p{i}", "value": "v"} for i in range(101)]})
    call("POST", "runs/log-parameter", "body", json={"run_id": rid, "key": "p", "value": "1"})
    call("POST", "runs/log-parameter", "body", json={"run_id": rid, "key": "p", "value": "1"})
    call("POST", "runs/log-parameter", json={"run_id": rid, "key": "p", "value": "2"})
    call("POST", "runs/delete-tag", json={"run_id": rid, "key": "nope"})
    call("POST", "runs/update", "body", json={"run_id": rid, "status": "KILLED", "end_time": 9})
    call("POST", "runs/search", json={"experiment_ids": [exp], "max_results": 50001})
    call("POST", "runs/search", json={"experiment_ids": [exp], "filter": "metrics.m > 1 OR metrics.m < 0"})
    call("POST", "runs/search", "body", json={"experiment_ids": [exp], "filter": "metrics.m > 1"})
    call("GET", "metrics/get-history-bulk-interval", params={"run_ids": rid, "metric_key": "m", "start_step": 1})
    call("GET", "metrics/get-history-bulk-interval", "body", params={"run_ids": rid, "metric_key": "m"})
    call("GET", "artifacts/list", params={"run_id": rid, "path": "../x"})
    call("GET", "artifacts/list", "body", params={"run_id": rid})
    call("POST", "runs/delete", "body", json={"run_id": rid})
    call("POST", "runs/set-tag", json={"run_id": rid, "key": "k", "value": "v"})
    call("POST", "runs/restore", "body", json={"run_id": rid})
    r = s.get(api + "no-such-endpoint")
    results.append(("no-such-endpoint", r.status_code, None))
    return results


def test_same_statuses_codes_and_bodies_as_mlflow_server(server, mlflow_server):
    ours = _session_results(server.url, "http-diff")
    theirs = _session_results(mlflow_server.url, "http-diff")
    assert [r[0] for r in ours] == [r[0] for r in theirs]
    differing = [(o, t) for o, t in zip(ours, theirs, strict=True) if o != t]
    assert differing == []
