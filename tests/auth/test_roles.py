"""Roles through MLflow's AuthServiceClient, on MLflow's auth app and ours: same outcomes, step by step."""

from __future__ import annotations

import requests
from auth_servers import ADMIN, USERS


def _status(fn) -> object:
    from mlflow.exceptions import MlflowException

    try:
        fn()
        return 200
    except MlflowException as e:
        return (e.get_http_status_code(), e.error_code)


def _reader(server, method: str, path: str, **kwargs) -> int:
    return requests.request(method, server.url + path, auth=USERS["reader"], timeout=60, **kwargs).status_code


def _scenario(server, monkeypatch) -> list:
    from mlflow.server import get_app_client

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
    admin = get_app_client("basic-auth", tracking_uri=server.url)
    run_id = requests.post(server.url + "/api/2.0/mlflow/runs/create", json={"experiment_id": server.experiment_id},
                           auth=ADMIN, timeout=60).json()["run"]["info"]["run_id"]
    log = {"json": {"run_id": run_id, "key": "via_role", "value": 1.0, "timestamp": 1, "step": 0}}
    get = {"params": {"run_id": run_id}}
    out = []
    writers = admin.create_role("default", "writers", "may write the shared experiment")
    out.append((writers.name, writers.workspace, writers.description))
    out.append(_status(lambda: admin.create_role("default", "writers")))  # duplicate
    grant = admin.add_role_permission(writers.id, "experiment", server.experiment_id, "EDIT")
    out.append((grant.resource_type, grant.resource_pattern, grant.permission))
    out.append(_reader(server, "POST", "/api/2.0/mlflow/runs/log-metric", **log))  # READ user, no role yet
    admin.assign_role("reader", writers.id)
    out.append(_reader(server, "POST", "/api/2.0/mlflow/runs/log-metric", **log))  # READ + role EDIT
    # MLflow also lists the synthetic role "__user_<id>__" holding a user's own grants; ours keeps those apart.
    out.append([r.name for r in admin.list_user_roles("reader") if not r.name.startswith("__user_")])
    out.append(len(admin.list_role_users(writers.id)))
    deny = admin.create_role("default", "deny-everything")
    admin.add_role_permission(deny.id, "experiment", "*", "DENY")
    admin.assign_role("reader", deny.id)
    out.append(_reader(server, "GET", "/api/2.0/mlflow/runs/get", **get))  # DENY wins over EDIT and READ
    admin.unassign_role("reader", deny.id)
    out.append(_reader(server, "GET", "/api/2.0/mlflow/runs/get", **get))
    admin.update_role_permission(grant.id, "READ")
    out.append(_reader(server, "POST", "/api/2.0/mlflow/runs/log-metric", **log))
    out.append([p.permission for p in admin.list_role_permissions(writers.id)])
    out.append(admin.update_role(writers.id, description="readers now").description)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USERS["editor"][0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", USERS["editor"][1])
    editor = get_app_client("basic-auth", tracking_uri=server.url)
    out.append(_status(lambda: editor.create_role("default", "sneaky")))  # not an admin
    out.append(_status(lambda: editor.get_role(writers.id)))
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])  # clients read the credentials per request
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
    for role in (writers, deny):
        admin.delete_role(role.id)
    out.append(_status(lambda: admin.get_role(writers.id)))
    out.append(_reader(server, "GET", "/api/2.0/mlflow/runs/get", **get))  # back to plain READ
    return out


def test_roles_answer_as_mlflows_auth_app(auth_servers, monkeypatch):
    theirs, ours = (_scenario(server, monkeypatch) for server in auth_servers)
    assert theirs == ours
    assert theirs[3:5] == [403, 200] and theirs[7] == 403 and theirs[9] == 403
