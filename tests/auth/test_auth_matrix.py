"""The permission matrix, asked of MLflow's auth app and of ours: same status, same error code.

Raw REST first (anonymous, wrong password, unknown bearer token, READ user writing, EDIT user deleting,
MANAGE user granting...), then the same through MLflow's own clients (``MlflowClient`` with
MLFLOW_TRACKING_USERNAME/PASSWORD and ``get_app_client("basic-auth")``).
"""

from __future__ import annotations

import pytest
import requests
from auth_servers import ADMIN, USERS

from asyncclient.server.auth.passwords import new_token


def _answer(r: requests.Response) -> tuple:
    """What a client can act on: status, error code (JSON) or body text (MLflow's 401/403 pages)."""
    try:
        body = r.json()
    except ValueError:
        return r.status_code, r.text.strip(), r.headers.get("WWW-Authenticate")
    return r.status_code, body.get("error_code") if isinstance(body, dict) else None, None


def _metric(s) -> dict:
    return {"run_id": s.run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0}


# name, credentials (a USERS key, "admin", None, or a (user, password) / "bearer" special), method, path,
# body or params built from the server, expected status.
CASES = [
    ("anonymous", None, "POST", "/api/2.0/mlflow/experiments/search", lambda s: {"max_results": 5}, 401),
    ("wrong password", ("reader", "not-the-password"), "POST", "/api/2.0/mlflow/experiments/search",
     lambda s: {"max_results": 5}, 401),
    ("unknown user", ("nobody", "whatever-password"), "GET", "/api/2.0/mlflow/runs/get",
     lambda s: {"run_id": s.run_id}, 401),
    ("unknown bearer token", "bearer", "GET", "/api/2.0/mlflow/runs/get", lambda s: {"run_id": s.run_id}, 401),
    ("READ user reads", "reader", "GET", "/api/2.0/mlflow/runs/get", lambda s: {"run_id": s.run_id}, 200),
    ("READ user writes a metric", "reader", "POST", "/api/2.0/mlflow/runs/log-metric", _metric, 403),
    ("READ user logs a batch", "reader", "POST", "/api/2.0/mlflow/runs/log-batch",
     lambda s: {"run_id": s.run_id, "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 0}]}, 403),
    ("READ user renames the experiment", "reader", "POST", "/api/2.0/mlflow/experiments/update",
     lambda s: {"experiment_id": s.experiment_id, "new_name": "renamed"}, 403),
    ("EDIT user writes", "editor", "POST", "/api/2.0/mlflow/runs/set-tag",
     lambda s: {"run_id": s.run_id, "key": "k", "value": "v"}, 200),
    ("EDIT user deletes the run", "editor", "POST", "/api/2.0/mlflow/runs/delete", lambda s: {"run_id": s.run_id},
     403),
    ("EDIT user deletes the experiment", "editor", "POST", "/api/2.0/mlflow/experiments/delete",
     lambda s: {"experiment_id": s.experiment_id}, 403),
    ("EDIT user grants", "editor", "POST", "/api/3.0/mlflow/users/permissions/grant",
     lambda s: {"username": "outsider", "resource_type": "experiment", "resource_id": s.experiment_id,
                "permission": "READ"}, 403),
    ("MANAGE user grants", "manager", "POST", "/api/3.0/mlflow/users/permissions/grant",
     lambda s: {"username": "outsider", "resource_type": "experiment", "resource_id": s.experiment_id,
                "permission": "EDIT"}, 200),
    ("MANAGE user grants again", "manager", "POST", "/api/3.0/mlflow/users/permissions/grant",
     lambda s: {"username": "outsider", "resource_type": "experiment", "resource_id": s.experiment_id,
                "permission": "EDIT"}, 400),
    ("granted user now writes", "outsider", "POST", "/api/2.0/mlflow/runs/log-metric", _metric, 200),
    ("READ user reads a missing run", "reader", "GET", "/api/2.0/mlflow/runs/get", lambda s: {"run_id": "f" * 32},
     403),
    ("READ user reads a missing experiment", "reader", "GET", "/api/2.0/mlflow/experiments/get",
     lambda s: {"experiment_id": "987654"}, 404),
    ("non-admin creates a user", "reader", "POST", "/api/2.0/mlflow/users/create",
     lambda s: {"username": "x-user", "password": "x-password-123"}, 403),
    ("non-admin reads another user", "reader", "GET", "/api/2.0/mlflow/users/get", lambda s: {"username": "editor"},
     403),
    ("admin reads a missing user", "admin", "GET", "/api/2.0/mlflow/users/get", lambda s: {"username": "nobody"},
     404),
    ("short password", "admin", "POST", "/api/2.0/mlflow/users/create",
     lambda s: {"username": "shorty", "password": "short"}, 400),
    ("duplicate user", "admin", "POST", "/api/2.0/mlflow/users/create",
     lambda s: {"username": "reader", "password": "reader-password-1"}, 400),
    ("current user", "reader", "GET", "/api/2.0/mlflow/users/current", lambda s: {}, 200),
    ("health without credentials", None, "GET", "/health", lambda s: {}, 200),
    ("server-info without credentials", None, "GET", "/api/3.0/mlflow/server-info", lambda s: {}, 200),
    ("version without credentials", None, "GET", "/version", lambda s: {}, 401),
    ("MANAGE user deletes the run", "manager", "POST", "/api/2.0/mlflow/runs/delete",
     lambda s: {"run_id": s.run_id}, 200),
]


def _call(server, credentials, method, path, make):
    kwargs: dict = {}
    if credentials == "bearer":
        kwargs["headers"] = {"Authorization": f"Bearer {new_token()}"}
    elif credentials == "admin":
        kwargs["auth"] = ADMIN
    elif isinstance(credentials, str):
        kwargs["auth"] = USERS[credentials]
    elif credentials is not None:
        kwargs["auth"] = credentials
    payload = make(server)
    kwargs["params" if method == "GET" else "json"] = payload
    return requests.request(method, server.url + path, timeout=60, **kwargs)


def test_rest_matrix_answers_as_mlflows_auth_app(auth_servers):
    theirs, ours = auth_servers
    rows = []
    for name, credentials, method, path, make, expected in CASES:  # in order: later cases build on earlier
        a, b = _answer(_call(theirs, credentials, method, path, make)), _answer(_call(ours, credentials, method,
                                                                                        path, make))
        rows.append((name, a, b))
        assert a[0] == expected, f"{name}: MLflow answered {a}, the matrix expects {expected}"
        assert a == b, f"{name}: MLflow answered {a}, asyncclient {b}"
    print(f"\nauth matrix: {len(rows)} cases, same status and error code from both servers")


@pytest.mark.parametrize("who, expected", [("reader", "403"), ("editor", None), ("outsider-none", "401")])
def test_mlflow_client_matrix(auth_servers, monkeypatch, who, expected):
    """MLflow's own MlflowClient with MLFLOW_TRACKING_USERNAME/PASSWORD: the same outcome on both servers."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    outcomes = []
    for server in auth_servers:
        user, password = USERS[who] if who in USERS else ("outsider", "wrong-password-1")
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
        client = MlflowClient(server.url)
        run = requests.post(server.url + "/api/2.0/mlflow/runs/create", json={"experiment_id": server.experiment_id},
                            auth=ADMIN).json()["run"]["info"]["run_id"]
        try:
            client.log_param(run, "p", "1")
            outcomes.append(None)
        except MlflowException as e:
            outcomes.append(str(e.get_http_status_code()) + ":" + str(e.error_code))
    assert outcomes[0] == outcomes[1], outcomes
    assert (outcomes[0] or "").startswith(expected or ""), outcomes
    if expected is None:
        assert outcomes == [None, None]


def test_auth_service_client_answers_alike(auth_servers, monkeypatch):
    """get_app_client("basic-auth"): MANAGE user grants and reads back; READ user may not grant."""
    from mlflow.exceptions import MlflowException
    from mlflow.server import get_app_client

    results = []
    for server in auth_servers:
        answers = []
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USERS["reader"][0])
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", USERS["reader"][1])
        client = get_app_client("basic-auth", tracking_uri=server.url)
        with pytest.raises(MlflowException) as refused:
            client.grant_user_permission("editor", "experiment", server.experiment_id, "MANAGE")
        answers.append(refused.value.get_http_status_code())
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
        client = get_app_client("basic-auth", tracking_uri=server.url)
        exp = requests.post(server.url + "/api/2.0/mlflow/experiments/create", json={"name": "granted-later"},
                            auth=ADMIN).json()["experiment_id"]
        client.grant_user_permission("reader", "experiment", exp, "MANAGE")
        got = client.get_user_permission("reader", "experiment", exp)
        answers.append((got.permission, got.allowed))
        client.revoke_user_permission("reader", "experiment", exp)
        answers.append(client.get_user_permission("reader", "experiment", exp).permission)
        user = client.get_user("reader")
        answers.append((user.username, user.is_admin))
        client.update_user_admin("outsider", True)
        answers.append(client.get_user("outsider").is_admin)
        client.update_user_admin("outsider", False)
        results.append(answers)
    assert results[0] == results[1]
    assert results[0][0] == 403 and results[0][1] == ("MANAGE", True) and results[0][2] == "READ"
