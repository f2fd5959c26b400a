"""Bearer tokens (MLFLOW_TRACKING_TOKEN), the msgpack ingest path, search filtering and asyncclient's client."""

from __future__ import annotations

import msgpack
import pytest
import requests
from auth_servers import ADMIN, USERS

MSGPACK = {"Content-Type": "application/x-asyncclient-msgpack"}


def _metric_count(server, run_id: str, key: str) -> int:
    r = requests.get(server.url + "/api/2.0/mlflow/metrics/get-history", params={"run_id": run_id, "metric_key": key},
                     auth=ADMIN, timeout=30)
    return len(r.json().get("metrics", []))


def test_token_works_with_mlflow_client_until_revoked(ours, monkeypatch):
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    created = requests.post(ours.url + "/api/2.0/asyncclient/tokens/create", json={"name": "ci"},
                            auth=USERS["editor"], timeout=30).json()
    token, token_id = created["token"], created["token_info"]["id"]
    run_id = requests.post(ours.url + "/api/2.0/mlflow/runs/create", json={"experiment_id": ours.experiment_id},
                           auth=ADMIN, timeout=30).json()["run"]["info"]["run_id"]
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    client = MlflowClient(ours.url)
    client.log_metric(run_id, "via_token", 1.0, step=0)
    assert _metric_count(ours, run_id, "via_token") == 1
    listed = requests.get(ours.url + "/api/2.0/asyncclient/tokens/list", auth=USERS["editor"], timeout=30).json()
    assert [t["id"] for t in listed["tokens"]] == [token_id]  # the secret itself is never listed
    assert "token" not in listed["tokens"][0]
    assert requests.post(ours.url + "/api/2.0/asyncclient/tokens/revoke", json={"token_id": token_id},
                         auth=USERS["reader"], timeout=30).status_code == 404  # not the reader's token
    assert requests.post(ours.url + "/api/2.0/asyncclient/tokens/revoke", json={"token_id": token_id},
                         auth=USERS["editor"], timeout=30).status_code == 200
    with pytest.raises(MlflowException) as refused:
        client.log_metric(run_id, "via_token", 2.0, step=1)
    assert refused.value.get_http_status_code() == 401
    assert _metric_count(ours, run_id, "via_token") == 1


def test_msgpack_ingest_is_checked_and_nothing_refused_is_stored(ours):
    run = requests.post(ours.url + "/api/2.0/mlflow/runs/create", json={"experiment_id": ours.experiment_id},
                        auth=ADMIN, timeout=30).json()["run"]["info"]["run_id"]
    body = msgpack.packb({"run_id": run, "metrics": [["mp", float(s), 1, s] for s in range(100)]})
    assert requests.post(ours.url + "/api/2.0/mlflow/runs/log-batch", data=body, headers=MSGPACK, timeout=30,
                         auth=USERS["reader"]).status_code == 403
    assert requests.post(ours.url + "/api/2.0/mlflow/runs/log-batch", data=body, headers=MSGPACK,
                         timeout=30).status_code == 401
    assert _metric_count(ours, run, "mp") == 0
    assert requests.post(ours.url + "/api/2.0/mlflow/runs/log-batch", data=body, headers=MSGPACK, timeout=30,
                         auth=USERS["editor"]).status_code == 200
    assert _metric_count(ours, run, "mp") == 100


def test_search_and_artifacts_respect_no_permissions(ours):
    hidden = requests.post(ours.url + "/api/2.0/mlflow/experiments/create", json={"name": "hidden-from-reader"},
                           auth=ADMIN, timeout=30).json()["experiment_id"]
    requests.post(ours.url + "/api/3.0/mlflow/users/permissions/grant", auth=ADMIN, timeout=30, json={
        "username": "reader", "resource_type": "experiment", "resource_id": hidden,
        "permission": "NO_PERMISSIONS"}).raise_for_status()
    seen = requests.post(ours.url + "/api/2.0/mlflow/experiments/search", json={"max_results": 1000},
                         auth=USERS["reader"], timeout=30).json()["experiments"]
    ids = {e["experiment_id"] for e in seen}
    assert hidden not in ids and ours.experiment_id in ids
    assert requests.get(ours.url + "/api/2.0/mlflow/experiments/get", params={"experiment_id": hidden},
                        auth=USERS["reader"], timeout=30).status_code == 403
    assert requests.put(ours.url + f"/api/2.0/mlflow-artifacts/artifacts/{hidden}/x/a.txt", data=b"x",
                        auth=USERS["reader"], timeout=30).status_code == 403
    query = {"query": "query q($id: String) { mlflowGetExperiment(input: {experimentId: $id}) "
                      "{ experiment { name } } }", "variables": {"id": hidden}}
    assert requests.post(ours.url + "/graphql", json=query, auth=USERS["reader"], timeout=30).status_code == 403
    query["variables"] = {"id": ours.experiment_id}
    answer = requests.post(ours.url + "/graphql", json=query, auth=USERS["reader"], timeout=30)
    assert answer.status_code == 200 and answer.json()["data"]["mlflowGetExperiment"]["experiment"]["name"]


def test_asyncclient_client_sends_credentials(ours, monkeypatch):
    """asyncclient's own client (delivery agent included) authenticates with MLFLOW_TRACKING_USERNAME/PASSWORD."""
    import asyncclient
    from asyncclient import config, session
    from asyncclient.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USERS["editor"][0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", USERS["editor"][1])
    session.reset_session()
    asyncclient.set_tracking_uri(ours.url)
    try:
        client = MlflowClient()
        run = client.create_run(ours.experiment_id)
        for step in range(500):
            client.log_metric(run.info.run_id, "from_asyncclient", float(step), step=step)
        client.flush()
        assert _metric_count(ours, run.info.run_id, "from_asyncclient") == 500
    finally:
        session.reset_session()
        config.set_tracking_uri(None)
