"""The UI-only endpoints and wire details of issue 11, matched to ``mlflow server``: the same request to
both, the same status, error code and body shape (ids normalized away).

- ``/ajax-api/2.0/mlflow/experiments/search-datasets`` and ``/ajax-api/2.0/mlflow/upload-artifact``;
- a long query string (1,000 ``run_id`` s) reaches the handler and gets MLflow's JSON error, not a plain-text
  400 from the HTTP layer;
- a relative ``artifact_location`` is made absolute against the server's working directory.
"""

from __future__ import annotations

import os
import re

import requests

_ID = re.compile(r"\b[0-9a-f]{32}\b")


def _shape(r: requests.Response):
    try:
        body = r.json()
    except ValueError:
        return r.status_code, None, r.text == ""
    if isinstance(body, dict) and "error_code" in body:
        return r.status_code, body["error_code"], _ID.sub("<id>", body["message"])
    return r.status_code, _ID.sub("<id>", str(body))


def _results(base: str, name: str) -> list:
    s = requests.Session()
    api, ajax = base + "/api/2.0/mlflow/", base + "/ajax-api/2.0/mlflow/"
    exp = s.post(api + "experiments/create", json={"name": name}).json()["experiment_id"]
    run = s.post(api + "runs/create", json={"experiment_id": exp}).json()["run"]["info"]["run_id"]
    s.post(api + "runs/log-inputs", json={"run_id": run, "datasets": [
        {"dataset": {"name": "train", "digest": "abc", "source_type": "local", "source": "{}"},
         "tags": [{"key": "mlflow.data.context", "value": "training"}]},
        {"dataset": {"name": "raw", "digest": "def", "source_type": "local", "source": "{}"}}]})
    out = []
    datasets = s.post(ajax + "experiments/search-datasets", json={"experiment_ids": [exp]})
    body = datasets.json()
    out.append(("search-datasets", datasets.status_code,
                sorted((d["name"], d["digest"], d.get("context")) for d in body["dataset_summaries"])))
    out.append(("search-datasets none", _shape(s.post(ajax + "experiments/search-datasets", json={}))))
    out.append(("search-datasets 21", _shape(s.post(ajax + "experiments/search-datasets",
                                                    json={"experiment_ids": [exp] * 21}))))
    out.append(("search-datasets GET", s.get(ajax + "experiments/search-datasets").status_code))
    upload = s.post(ajax + "upload-artifact", params={"run_uuid": run, "path": "notes/a.txt"}, data=b"hello")
    out.append(("upload", _shape(upload)))
    listed = s.get(api + "artifacts/list", params={"run_id": run, "path": "notes"}).json()
    out.append(("upload listed", listed.get("files")))
    out.append(("upload no path", _shape(s.post(ajax + "upload-artifact", params={"run_uuid": run}, data=b"x"))))
    out.append(("upload no data", _shape(s.post(ajax + "upload-artifact", params={"run_uuid": run, "path": "b"}))))
    out.append(("upload traversal", _shape(s.post(ajax + "upload-artifact",
                                                  params={"run_uuid": run, "path": "../b"}, data=b"x"))[:2]))
    many = [("run_id", f"{i:032x}") for i in range(1000)] + [("metric_key", "m")]
    out.append(("bulk 1000", _shape(s.get(ajax + "metrics/get-history-bulk", params=many))))
    many = [("run_ids", f"{i:032x}") for i in range(1000)] + [("metric_key", "m")]
    out.append(("bulk-interval 1000", _shape(s.get(api + "metrics/get-history-bulk-interval", params=many))))
    rel = s.post(api + "experiments/create", json={"name": name + "-rel", "artifact_location": "rel/dir"}).json()
    location = s.get(api + "experiments/get", params={"experiment_id": rel["experiment_id"]}).json()
    location = location["experiment"]["artifact_location"]
    out.append(("relative artifact_location", os.path.isabs(location), location.endswith("/rel/dir")))
    return out


def test_ui_endpoints_and_wire_details_match_mlflow_server(server, mlflow_server):
    ours = _results(server.url, "ui-endpoints")
    theirs = _results(mlflow_server.url, "ui-endpoints")
    assert ours == theirs


def test_upload_artifact_stores_the_bytes_under_the_run(server, http):
    api = server.url + "/api/2.0/mlflow/"
    exp = http.post(api + "experiments/create", json={"name": "upload-bytes"}).json()["experiment_id"]
    run = http.post(api + "runs/create", json={"experiment_id": exp}).json()["run"]["info"]["run_id"]
    http.post(server.url + "/ajax-api/2.0/mlflow/upload-artifact", params={"run_uuid": run, "path": "x/y.bin"},
              data=b"\x00\x01payload")
    got = http.get(server.url + "/get-artifact", params={"run_id": run, "path": "x/y.bin"})
    assert got.status_code == 200 and got.content == b"\x00\x01payload"
