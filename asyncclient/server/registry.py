"""Model Registry RPCs (``/mlflow/registered-models/*``, ``/mlflow/model-versions/*``) and the UI's
``/model-versions/get-artifact`` (MLflow's ``_create_registered_model`` ... ``get_model_version_artifact_handler``).

The registry lives in the tracking store (MLflow's default when ``--registry-store-uri`` is unset). A version
created from ``models:/<model_id>`` records where the logged model's files are (``storage_location``), which
``get-download-uri`` answers and ``models:/name/version`` resolves through.
"""

from __future__ import annotations

import posixpath
import urllib.parse

from aiohttp import web

from asyncclient.artifacts import validate_path_is_safe
from asyncclient.exceptions import MlflowException
from asyncclient.server.artifacts import run_artifact_location, send_artifact
from asyncclient.server.protocol import (
    BOOL,
    INT64,
    KEY_VALUE,
    STRING,
    Field,
    Message,
    decode_json_body,
    empty_response,
    json_response,
    parse_request,
    query_to_dict,
    required,
)
from asyncclient.server.state import store_call
from asyncclient.wire_models import model_version_to_json, registered_model_to_json

routes = web.RouteTableDef()
# Mounted at the root: the UI's file download of a model version.
root_routes = web.RouteTableDef()

_NAME = Field("name", STRING)
_VERSION = Field("version", STRING)
_CREATE_RM = Message(_NAME, Field("tags", KEY_VALUE, True), Field("description", STRING),
                     Field("deployment_job_id", STRING))
_RENAME = Message(_NAME, Field("new_name", STRING))
_UPDATE_RM = Message(_NAME, Field("description", STRING), Field("deployment_job_id", STRING))
_BY_NAME = Message(_NAME)
_SEARCH = Message(Field("filter", STRING), Field("max_results", INT64), Field("order_by", STRING, True),
                  Field("page_token", STRING))
_LATEST = Message(_NAME, Field("stages", STRING, True))
_CREATE_MV = Message(_NAME, Field("source", STRING), Field("run_id", STRING), Field("tags", KEY_VALUE, True),
                     Field("run_link", STRING), Field("description", STRING), Field("model_id", STRING))
_MV = Message(_NAME, _VERSION)
_UPDATE_MV = Message(_NAME, _VERSION, Field("description", STRING))
_TRANSITION = Message(_NAME, _VERSION, Field("stage", STRING), Field("archive_existing_versions", BOOL))
_RM_TAG = Message(_NAME, Field("key", STRING), Field("value", STRING))
_MV_TAG = Message(_NAME, _VERSION, Field("key", STRING), Field("value", STRING))
_ALIAS = Message(_NAME, Field("alias", STRING), _VERSION)

_REGISTERED_MODELS_DEFAULT = 100
_MODEL_VERSIONS_DEFAULT = 10000


async def _fields(request: web.Request, message: Message) -> dict:
    """GET: the query string; DELETE: a JSON body if any, else the query string (clients do both)."""
    if request.method == "DELETE":
        body = await request.read()
        return message.parse(decode_json_body(body) if body.strip() else query_to_dict(request.query, message))
    return await parse_request(request, message)


def _rm(rm) -> web.Response:
    return json_response({"registered_model": registered_model_to_json(rm)})


def _mv(mv) -> web.Response:
    return json_response({"model_version": model_version_to_json(mv)})


def _pairs(items) -> dict[str, str]:
    return {required(p, "key"): p.get("value", "") for p in items}


def _paged(page, key: str) -> web.Response:
    body: dict = {}
    if page:
        body[key] = [registered_model_to_json(x) if key == "registered_models" else model_version_to_json(x)
                     for x in page]
    if page.token:
        body["next_page_token"] = page.token
    return json_response(body)


# ---- registered models ----

@routes.post("/registered-models/create")
async def create_registered_model(request: web.Request) -> web.Response:
    """``POST registered-models/create`` -> ``{"registered_model"}``; a taken name is 400."""
    f = await parse_request(request, _CREATE_RM)
    rm = await store_call(request, "create_registered_model", required(f, "name"), _pairs(f.get("tags", ())),
                          f.get("description") or None)
    return _rm(rm)


@routes.get("/registered-models/get")
async def get_registered_model(request: web.Request) -> web.Response:
    f = await parse_request(request, _BY_NAME)
    return _rm(await store_call(request, "get_registered_model", required(f, "name")))


@routes.post("/registered-models/rename")
async def rename_registered_model(request: web.Request) -> web.Response:
    f = await parse_request(request, _RENAME)
    return _rm(await store_call(request, "rename_registered_model", required(f, "name"), required(f, "new_name")))


@routes.patch("/registered-models/update")
async def update_registered_model(request: web.Request) -> web.Response:
    f = await parse_request(request, _UPDATE_RM)
    return _rm(await store_call(request, "update_registered_model", required(f, "name"), f.get("description", "")))


@routes.delete("/registered-models/delete")
async def delete_registered_model(request: web.Request) -> web.Response:
    f = await _fields(request, _BY_NAME)
    await store_call(request, "delete_registered_model", required(f, "name"))
    return empty_response()


@routes.get("/registered-models/search")
async def search_registered_models(request: web.Request) -> web.Response:
    """``GET registered-models/search`` -> ``{"registered_models", "next_page_token"}`` (prompts excluded)."""
    f = await parse_request(request, _SEARCH)
    page = await store_call(request, "search_registered_models", f.get("filter") or None,
                            f.get("max_results") or _REGISTERED_MODELS_DEFAULT, f.get("order_by") or None,
                            f.get("page_token") or None)
    return _paged(page, "registered_models")


async def get_latest_versions(request: web.Request) -> web.Response:
    """``registered-models/get-latest-versions`` (GET and POST) -> ``{"model_versions"}``."""
    f = await parse_request(request, _LATEST)
    versions = await store_call(request, "get_latest_versions", required(f, "name"), f.get("stages") or None)
    return json_response({"model_versions": [model_version_to_json(v) for v in versions]} if versions else {})


routes.get("/registered-models/get-latest-versions")(get_latest_versions)
routes.post("/registered-models/get-latest-versions")(get_latest_versions)


@routes.post("/registered-models/set-tag")
async def set_registered_model_tag(request: web.Request) -> web.Response:
    f = await parse_request(request, _RM_TAG)
    await store_call(request, "set_registered_model_tag", required(f, "name"), required(f, "key"),
                     f.get("value", ""))
    return empty_response()


@routes.delete("/registered-models/delete-tag")
async def delete_registered_model_tag(request: web.Request) -> web.Response:
    f = await _fields(request, _RM_TAG)
    await store_call(request, "delete_registered_model_tag", required(f, "name"), required(f, "key"))
    return empty_response()


@routes.post("/registered-models/alias")
async def set_registered_model_alias(request: web.Request) -> web.Response:
    f = await parse_request(request, _ALIAS)
    await store_call(request, "set_registered_model_alias", required(f, "name"), required(f, "alias"),
                     required(f, "version"))
    return empty_response()


@routes.delete("/registered-models/alias")
async def delete_registered_model_alias(request: web.Request) -> web.Response:
    f = await _fields(request, _ALIAS)
    await store_call(request, "delete_registered_model_alias", required(f, "name"), required(f, "alias"))
    return empty_response()


@routes.get("/registered-models/alias")
async def get_model_version_by_alias(request: web.Request) -> web.Response:
    """``GET registered-models/alias`` -> ``{"model_version"}``: what ``models:/name@alias`` resolves to."""
    f = await parse_request(request, _ALIAS)
    return _mv(await store_call(request, "get_model_version_by_alias", required(f, "name"), required(f, "alias")))


# ---- model versions ----

def _is_local(source: str) -> bool:
    scheme = urllib.parse.urlparse(source).scheme
    return scheme in ("", "file") or len(scheme) == 1  # a Windows drive letter is a local path too


async def _storage_location(request: web.Request, source: str, run_id: str | None,
                            model_id: str | None) -> tuple[str | None, str | None]:
    """(storage location, run_id) for a version's source (MLflow's source lineage and validation).

    ``models:/<id>`` -> the logged model's artifacts; a local path must lie inside the artifacts of the run
    named by ``run_id``; ``runs:/`` and other URIs are stored as given (their run becomes the version's).
    """
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme == "models" and model_id:
        model = await store_call(request, "get_logged_model", model_id)
        return model.artifact_location, run_id or model.source_run_id
    if parsed.scheme == "runs":
        # Stored as given, as MLflow does: its clients resolve runs:/ URIs themselves.
        source_run = (parsed.netloc + parsed.path).lstrip("/").partition("/")[0]
        return None, run_id or source_run
    if _is_local(source):
        run = await store_call(request, "get_run", run_id) if run_id else None
        root = run.info.artifact_uri if run else None
        local = urllib.parse.urlparse(source).path if parsed.scheme == "file" else source
        root_path = urllib.parse.urlparse(root).path if root else None
        if not root_path or posixpath.normpath(local) != local.rstrip("/") or not (
                local == root_path or local.startswith(root_path.rstrip("/") + "/")):
            raise MlflowException.invalid_parameter_value(
                f"Invalid model version source: '{source}'. To use a local path as a model version source, the "
                "run_id request parameter has to be specified and the local path has to be contained within the "
                "artifact directory of the run specified by the run_id.")
    elif ".." in urllib.parse.unquote(parsed.path).split("/"):
        raise MlflowException.invalid_parameter_value(f"Invalid model version source: '{source}'.")
    return None, run_id


@routes.post("/model-versions/create")
async def create_model_version(request: web.Request) -> web.Response:
    """``POST model-versions/create`` -> ``{"model_version"}`` (the next version number, READY)."""
    f = await parse_request(request, _CREATE_MV)
    name, source = required(f, "name"), required(f, "source")
    model_id = f.get("model_id") or None
    location, run_id = await _storage_location(request, source, f.get("run_id") or None, model_id)
    mv = await store_call(request, "create_model_version", name, source, run_id, _pairs(f.get("tags", ())),
                          f.get("run_link") or None, f.get("description") or None, model_id, location)
    return _mv(mv)


@routes.get("/model-versions/get")
async def get_model_version(request: web.Request) -> web.Response:
    f = await parse_request(request, _MV)
    return _mv(await store_call(request, "get_model_version", required(f, "name"), required(f, "version")))


@routes.patch("/model-versions/update")
async def update_model_version(request: web.Request) -> web.Response:
    f = await parse_request(request, _UPDATE_MV)
    return _mv(await store_call(request, "update_model_version", required(f, "name"), required(f, "version"),
                                f.get("description", "")))


@routes.post("/model-versions/transition-stage")
async def transition_model_version_stage(request: web.Request) -> web.Response:
    """Legacy stages (None / Staging / Production / Archived), matched case-insensitively."""
    f = await parse_request(request, _TRANSITION)
    mv = await store_call(request, "transition_model_version_stage", required(f, "name"), required(f, "version"),
                          required(f, "stage"), f.get("archive_existing_versions", False))
    return _mv(mv)


@routes.delete("/model-versions/delete")
async def delete_model_version(request: web.Request) -> web.Response:
    f = await _fields(request, _MV)
    await store_call(request, "delete_model_version", required(f, "name"), required(f, "version"))
    return empty_response()


@routes.get("/model-versions/search")
async def search_model_versions(request: web.Request) -> web.Response:
    f = await parse_request(request, _SEARCH)
    page = await store_call(request, "search_model_versions", f.get("filter") or None,
                            f.get("max_results") or _MODEL_VERSIONS_DEFAULT, f.get("order_by") or None,
                            f.get("page_token") or None)
    return _paged(page, "model_versions")


@routes.get("/model-versions/get-download-uri")
async def get_model_version_download_uri(request: web.Request) -> web.Response:
    f = await parse_request(request, _MV)
    uri = await store_call(request, "get_model_version_download_uri", required(f, "name"), required(f, "version"))
    return json_response({"artifact_uri": uri})


@routes.post("/model-versions/set-tag")
async def set_model_version_tag(request: web.Request) -> web.Response:
    f = await parse_request(request, _MV_TAG)
    await store_call(request, "set_model_version_tag", required(f, "name"), required(f, "version"),
                     required(f, "key"), f.get("value", ""))
    return empty_response()


@routes.delete("/model-versions/delete-tag")
async def delete_model_version_tag(request: web.Request) -> web.Response:
    f = await _fields(request, _MV_TAG)
    await store_call(request, "delete_model_version_tag", required(f, "name"), required(f, "version"),
                     required(f, "key"))
    return empty_response()


@root_routes.get("/model-versions/get-artifact")
async def get_model_version_artifact(request: web.Request) -> web.StreamResponse:
    """``GET /model-versions/get-artifact?name=&version=&path=`` (the UI's): a file of the version,
    ``path`` validated like every artifact path (no ``..``, not absolute)."""
    query = request.query
    path = validate_path_is_safe(required({"path": query.get("path")}, "path"))
    uri = await store_call(request, "get_model_version_download_uri", query.get("name", ""), query.get("version"))
    repo, repo_path = run_artifact_location(request, uri, path)
    return await send_artifact(request, repo, repo_path)
