"""What each route needs: the permission (read / update / delete) and the resources it applies to.

MLflow equivalent: ``BEFORE_REQUEST_HANDLERS`` / ``BEFORE_REQUEST_VALIDATORS`` of ``mlflow/server/auth``.
A route of the app that appears in no table here is refused to non-admins (fail closed), so a route added
later without a rule cannot leak data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asyncclient.server.auth.permissions import CAN_DELETE, CAN_READ, CAN_UPDATE
from asyncclient.server.auth.resources import (
    Resource,
    ResourceResolver,
    experiments,
    registered_models,
    values,
)

Params = dict[str, list[Any]]
Resolve = Callable[[Params, dict[str, str], ResourceResolver], list[Resource]]


@dataclass(frozen=True)
class Rule:
    capability: str
    resolve: Resolve


def _runs(p: Params, _m, r: ResourceResolver) -> list[Resource]:
    return r.runs(values(p, "run_id", "run_uuid"))


def _experiment(p: Params, _m, _r) -> list[Resource]:
    return experiments(values(p, "experiment_id"))


def _experiment_ids(p: Params, _m, _r) -> list[Resource]:
    return experiments(values(p, "experiment_id", "experiment_ids"))


def _experiment_or_default(p: Params, _m, _r) -> list[Resource]:
    # CreateRun without an experiment_id creates in the Default experiment ("0"), as the handler does.
    return experiments(values(p, "experiment_id") or ["0"])


def _experiment_by_name(p: Params, _m, r: ResourceResolver) -> list[Resource]:
    ids = [r.experiment_by_name(n) for n in values(p, "experiment_name")]
    return experiments([i for i in ids if i is not None])  # a missing name: the handler answers 404


def _model(p: Params, _m, _r) -> list[Resource]:
    return registered_models(values(p, "name"))


def _logged_model(_p, match: dict[str, str], r: ResourceResolver) -> list[Resource]:
    return r.logged_models([match["model_id"]])


def _artifact_path(p: Params, match: dict[str, str], _r) -> list[Resource]:
    # Proxied artifacts live under <experiment_id>/...: the first path segment names the experiment.
    paths = [match["artifact_path"]] if "artifact_path" in match else values(p, "path")
    return experiments([path.strip("/").split("/", 1)[0] for path in paths if path.strip("/")])


def _nothing(_p, _m, _r) -> list[Resource]:
    return []


def _read(resolve: Resolve) -> Rule:
    return Rule(CAN_READ, resolve)


def _update(resolve: Resolve) -> Rule:
    return Rule(CAN_UPDATE, resolve)


def _delete(resolve: Resolve) -> Rule:
    return Rule(CAN_DELETE, resolve)


ANY_USER = Rule(CAN_READ, _nothing)

# Keys: (method, route path after the API prefix). MLflow API prefixes are stripped by ``route_key``.
TRACKING_RULES: dict[tuple[str, str], Rule] = {
    ("POST", "experiments/create"): ANY_USER,  # the creator then gets MANAGE (middleware)
    ("GET", "experiments/get"): _read(_experiment),
    ("GET", "experiments/get-by-name"): _read(_experiment_by_name),
    ("GET", "experiments/search"): ANY_USER,  # results filtered
    ("POST", "experiments/search"): ANY_USER,
    ("POST", "experiments/update"): _update(_experiment),
    ("POST", "experiments/set-experiment-tag"): _update(_experiment),
    ("POST", "experiments/delete-experiment-tag"): _update(_experiment),
    ("POST", "experiments/delete"): _delete(_experiment),
    ("POST", "experiments/restore"): _delete(_experiment),
    ("POST", "experiments/search-datasets"): _read(_experiment_ids),
    ("POST", "runs/create"): _update(_experiment_or_default),
    ("GET", "runs/get"): _read(_runs),
    ("POST", "runs/update"): _update(_runs),
    ("POST", "runs/delete"): _delete(_runs),
    ("POST", "runs/restore"): _delete(_runs),
    ("POST", "runs/search"): ANY_USER,  # results filtered
    ("POST", "runs/log-metric"): _update(_runs),
    ("POST", "runs/log-parameter"): _update(_runs),
    ("POST", "runs/set-tag"): _update(_runs),
    ("POST", "runs/delete-tag"): _update(_runs),
    ("POST", "runs/log-inputs"): _update(_runs),
    ("POST", "runs/log-model"): _update(_runs),
    ("POST", "runs/outputs"): _update(_runs),
    ("POST", "runs/log-batch"): _update(_runs),  # JSON and msgpack
    ("GET", "metrics/get-history"): _read(_runs),
    ("GET", "metrics/get-history-bulk-interval"): _read(lambda p, m, r: r.runs(values(p, "run_ids"))),
    ("GET", "metrics/get-history-bulk"): _read(_runs),
    ("GET", "metrics/get-history-bucketed"): _read(_runs),
    ("GET", "artifacts/list"): _read(_runs),
    ("POST", "upload-artifact"): _update(_runs),
    ("POST", "logged-models"): _update(_experiment),
    ("POST", "logged-models/search"): _read(_experiment_ids),
    ("GET", "logged-models/{model_id}"): _read(_logged_model),
    ("PATCH", "logged-models/{model_id}"): _update(_logged_model),
    ("DELETE", "logged-models/{model_id}"): _delete(_logged_model),
    ("PATCH", "logged-models/{model_id}/tags"): _update(_logged_model),
    ("DELETE", "logged-models/{model_id}/tags/{tag_key}"): _update(_logged_model),
    ("POST", "logged-models/{model_id}/params"): _update(_logged_model),
    ("GET", "logged-models/{model_id}/artifacts/directories"): _read(_logged_model),
    ("GET", "logged-models/{model_id}/artifacts/files"): _read(_logged_model),
    ("POST", "registered-models/create"): ANY_USER,  # the creator then gets MANAGE (middleware)
    ("GET", "registered-models/get"): _read(_model),
    ("POST", "registered-models/rename"): _update(_model),
    ("PATCH", "registered-models/update"): _update(_model),
    ("DELETE", "registered-models/delete"): _delete(_model),
    ("GET", "registered-models/search"): ANY_USER,  # results filtered
    ("GET", "registered-models/get-latest-versions"): _read(_model),
    ("POST", "registered-models/get-latest-versions"): _read(_model),
    ("POST", "registered-models/set-tag"): _update(_model),
    ("DELETE", "registered-models/delete-tag"): _update(_model),
    ("POST", "registered-models/alias"): _update(_model),
    ("DELETE", "registered-models/alias"): _update(_model),
    ("GET", "registered-models/alias"): _read(_model),
    ("POST", "model-versions/create"): _update(_model),
    ("GET", "model-versions/get"): _read(_model),
    ("PATCH", "model-versions/update"): _update(_model),
    ("POST", "model-versions/transition-stage"): _update(_model),
    ("DELETE", "model-versions/delete"): _delete(_model),
    ("GET", "model-versions/search"): ANY_USER,  # results filtered
    ("GET", "model-versions/get-download-uri"): _read(_model),
    ("POST", "model-versions/set-tag"): _update(_model),
    ("DELETE", "model-versions/delete-tag"): _delete(_model),
    # The proxied artifact service (/api/2.0/mlflow-artifacts/...).
    ("GET", "artifacts/{artifact_path}"): _read(_artifact_path),
    ("PUT", "artifacts/{artifact_path}"): _update(_artifact_path),
    ("DELETE", "artifacts/{artifact_path}"): _delete(_artifact_path),
    ("GET", "artifacts"): _read(_artifact_path),
    ("POST", "mpu/create/{artifact_path}"): _update(_artifact_path),
    ("POST", "mpu/complete/{artifact_path}"): _update(_artifact_path),
    ("POST", "mpu/abort/{artifact_path}"): _update(_artifact_path),
    ("GET", "presigned/{artifact_path}"): _read(_artifact_path),
    # Root routes of the UI.
    ("GET", "/get-artifact"): _read(_runs),
    ("GET", "/model-versions/get-artifact"): _read(_model),
    ("GET", "/version"): ANY_USER,
    ("GET", "capabilities"): ANY_USER,
    ("GET", "/"): ANY_USER,
    ("GET", "/static-files/{path}"): ANY_USER,
}

API_PREFIXES = (
    "/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/", "/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/",
    "/api/3.0/mlflow/", "/ajax-api/3.0/mlflow/", "/api/2.0/asyncclient/", "/ajax-api/2.0/asyncclient/",
)


def route_key(method: str, canonical: str, static_prefix: str) -> tuple[str, str]:
    """(method, path pattern without static and API prefixes): the key of the tables above."""
    path = canonical[len(static_prefix):] if static_prefix and canonical.startswith(static_prefix) else canonical
    for prefix in API_PREFIXES:
        if path.startswith(prefix):
            return method, path[len(prefix):]
    return method, path
