"""MLflow 3's LoggedModel RPCs (``/mlflow/logged-models``) and their artifacts (MLflow's
``_create_logged_model``, ``_search_logged_models``, ``_list_logged_model_artifacts``,
``get_logged_model_artifact_handler``...).

A logged model's artifacts live at its ``artifact_uri`` (``<experiment root>/models/<id>/artifacts``),
resolved like a run's: under ``--artifacts-destination`` when proxied, else through its repository.
"""

from __future__ import annotations

import posixpath

from aiohttp import web

from asyncclient.artifacts import validate_path_is_safe
from asyncclient.exceptions import BAD_REQUEST, MlflowException
from asyncclient.server.artifacts import run_artifact_location, send_artifact
from asyncclient.server.protocol import (
    BOOL,
    INT64,
    KEY_VALUE,
    LOGGED_MODEL_STATUS,
    STRING,
    Field,
    Message,
    decode_json_body,
    empty_response,
    json_response,
    parse_request,
    required,
)
from asyncclient.server.state import in_thread, store_call
from asyncclient.wire import file_info_to_json
from asyncclient.wire_models import logged_model_to_json

routes = web.RouteTableDef()

_CREATE = Message(Field("experiment_id", STRING), Field("name", STRING), Field("model_type", STRING),
                  Field("source_run_id", STRING), Field("params", KEY_VALUE, True), Field("tags", KEY_VALUE, True))
_FINALIZE = Message(Field("model_id", STRING), Field("status", LOGGED_MODEL_STATUS))
_TAGS = Message(Field("tags", KEY_VALUE, True))
_PARAMS = Message(Field("model_id", STRING), Field("params", KEY_VALUE, True))
_SEARCH = Message(
    Field("experiment_ids", STRING, True), Field("filter", STRING),
    Field("datasets", Message(Field("dataset_name", STRING), Field("dataset_digest", STRING)), True),
    Field("max_results", INT64),
    Field("order_by", Message(Field("field_name", STRING), Field("ascending", BOOL), Field("dataset_name", STRING),
                              Field("dataset_digest", STRING)), True),
    Field("page_token", STRING),
)
_LIST = Message(Field("artifact_directory_path", STRING), Field("page_token", STRING))


def _pairs(items) -> dict[str, str]:
    return {required(p, "key"): p.get("value", "") for p in items}


async def _model_json(request: web.Request, model_id: str) -> web.Response:
    model = await store_call(request, "get_logged_model", model_id)
    return json_response({"model": logged_model_to_json(model)})


async def _optional_body(request: web.Request) -> dict:
    """DELETE requests of MLflow's client may carry a JSON body or none at all."""
    return decode_json_body(await request.read())


@routes.post("/logged-models")
async def create_logged_model(request: web.Request) -> web.Response:
    """``POST logged-models`` -> ``{"model"}``: a PENDING model; ``experiment_id`` is required."""
    f = await parse_request(request, _CREATE)
    model = await store_call(
        request, "create_logged_model", required(f, "experiment_id"), f.get("name") or None,
        f.get("source_run_id") or None, _pairs(f.get("tags", ())), _pairs(f.get("params", ())),
        f.get("model_type") or None)
    return json_response({"model": logged_model_to_json(model)})


@routes.post("/logged-models/search")
async def search_logged_models(request: web.Request) -> web.Response:
    """``POST logged-models/search`` -> ``{"models", "next_page_token"}``."""
    f = await parse_request(request, _SEARCH)
    required(f, "experiment_ids", f.get("experiment_ids") or None)
    datasets = [{"dataset_name": d.get("dataset_name", ""), "dataset_digest": d.get("dataset_digest") or None}
                for d in f.get("datasets", ())] or None
    order_by = [{"field_name": o.get("field_name", ""), "ascending": o.get("ascending", True),
                 "dataset_name": o.get("dataset_name") or None, "dataset_digest": o.get("dataset_digest") or None}
                for o in f.get("order_by", ())] or None
    page = await store_call(request, "search_logged_models", list(f["experiment_ids"]),
                            f.get("filter") or None, datasets, f.get("max_results") or None, order_by,
                            f.get("page_token") or None)
    body: dict = {}
    if page:
        body["models"] = [logged_model_to_json(m) for m in page]
    if page.token:
        body["next_page_token"] = page.token
    return json_response(body)


@routes.get("/logged-models/{model_id}")
async def get_logged_model(request: web.Request) -> web.Response:
    """``GET logged-models/<id>`` -> ``{"model"}``; a missing or deleted model is 404."""
    return await _model_json(request, request.match_info["model_id"])


@routes.patch("/logged-models/{model_id}")
async def finalize_logged_model(request: web.Request) -> web.Response:
    """``PATCH logged-models/<id>`` with ``status`` -> ``{"model"}`` (``finalize_logged_model``)."""
    f = await parse_request(request, _FINALIZE)
    status = required(f, "status")
    model = await store_call(request, "finalize_logged_model", request.match_info["model_id"], status)
    return json_response({"model": logged_model_to_json(model)})


@routes.delete("/logged-models/{model_id}")
async def delete_logged_model(request: web.Request) -> web.Response:
    """``DELETE logged-models/<id>``: soft delete."""
    await _optional_body(request)
    await store_call(request, "delete_logged_model", request.match_info["model_id"])
    return empty_response()


@routes.patch("/logged-models/{model_id}/tags")
async def set_logged_model_tags(request: web.Request) -> web.Response:
    """``PATCH logged-models/<id>/tags`` with ``tags``: upsert."""
    f = await parse_request(request, _TAGS)
    await store_call(request, "set_logged_model_tags", request.match_info["model_id"], _pairs(f.get("tags", ())))
    return empty_response()


@routes.delete("/logged-models/{model_id}/tags/{tag_key}")
async def delete_logged_model_tag(request: web.Request) -> web.Response:
    """``DELETE logged-models/<id>/tags/<key>``."""
    await store_call(request, "delete_logged_model_tag", request.match_info["model_id"],
                     request.match_info["tag_key"])
    return empty_response()


@routes.post("/logged-models/{model_id}/params")
async def log_logged_model_params(request: web.Request) -> web.Response:
    """``POST logged-models/<id>/params`` with ``params`` (the ones beyond the first 100 of a create)."""
    f = await parse_request(request, _PARAMS)
    await store_call(request, "log_logged_model_params", request.match_info["model_id"],
                     _pairs(f.get("params", ())))
    return empty_response()


@routes.get("/logged-models/{model_id}/artifacts/directories")
async def list_logged_model_artifacts(request: web.Request) -> web.Response:
    """``GET logged-models/<id>/artifacts/directories`` -> ``{"root_uri", "files"}``: one level, paths
    relative to the model's artifact root."""
    f = await parse_request(request, _LIST)
    path = validate_path_is_safe(f["artifact_directory_path"]) if f.get("artifact_directory_path") else None
    model = await store_call(request, "get_logged_model", request.match_info["model_id"])
    repo, repo_path = run_artifact_location(request, model.artifact_location, path)
    infos = await in_thread(request, repo.list_artifacts, repo_path)
    files = []
    for info in infos:
        rel = posixpath.join(path, posixpath.basename(info.path)) if path else posixpath.basename(info.path)
        files.append(file_info_to_json(type(info)(rel, info.is_dir, info.file_size)))
    body: dict = {"root_uri": model.artifact_location}
    if files:
        body["files"] = files
    return json_response(body)


@routes.get("/logged-models/{model_id}/artifacts/files")
async def get_logged_model_artifact(request: web.Request) -> web.StreamResponse:
    """``GET logged-models/<id>/artifacts/files?artifact_file_path=`` (the UI's): one file's bytes."""
    file_path = request.query.get("artifact_file_path")
    if not file_path:
        raise MlflowException('Request must include the "artifact_file_path" query parameter.',
                              error_code=BAD_REQUEST)
    file_path = validate_path_is_safe(file_path)
    model = await store_call(request, "get_logged_model", request.match_info["model_id"])
    repo, repo_path = run_artifact_location(request, model.artifact_location, file_path)
    return await send_artifact(request, repo, repo_path)
