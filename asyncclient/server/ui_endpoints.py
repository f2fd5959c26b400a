"""Endpoints only MLflow's web UI calls, outside the proto RPCs (MLflow's ``_search_datasets_handler`` and
``upload_artifact_handler``), mounted at ``/ajax-api/2.0/mlflow/...`` as in ``mlflow server``."""

from __future__ import annotations

import io
import posixpath

from aiohttp import web

from asyncclient.artifacts import validate_path_is_safe
from asyncclient.exceptions import MlflowException
from asyncclient.server.artifacts import run_artifact_location
from asyncclient.server.protocol import STRING, Field, Message, json_response, parse_request
from asyncclient.server.state import in_thread, store_call

# Mounted at the root (under --static-prefix): these paths exist only with the ajax-api prefix.
root_routes = web.RouteTableDef()

_SEARCH_DATASETS = Message(Field("experiment_ids", STRING, True))
MAX_EXPERIMENT_IDS_PER_REQUEST = 20
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@root_routes.post("/ajax-api/2.0/mlflow/experiments/search-datasets")
async def search_datasets(request: web.Request) -> web.Response:
    """``POST experiments/search-datasets`` -> ``{"dataset_summaries"}``: the UI's dataset filter list."""
    f = await parse_request(request, _SEARCH_DATASETS)
    experiment_ids = f.get("experiment_ids") or []
    if not experiment_ids:
        raise MlflowException.invalid_parameter_value(
            "SearchDatasets request must specify at least one experiment_id.")
    if len(experiment_ids) > MAX_EXPERIMENT_IDS_PER_REQUEST:
        raise MlflowException.invalid_parameter_value(
            f"SearchDatasets request cannot specify more than {MAX_EXPERIMENT_IDS_PER_REQUEST} experiment_ids. "
            f"Received {len(experiment_ids)} experiment_ids.")
    summaries = await store_call(request, "search_datasets", experiment_ids)
    out = []
    for s in summaries:
        item = {"experiment_id": s["experiment_id"], "name": s["name"], "digest": s["digest"]}
        if s["context"]:
            item["context"] = s["context"]
        out.append(item)
    return json_response({"dataset_summaries": out} if out else {})


@root_routes.post("/ajax-api/2.0/mlflow/upload-artifact")
async def upload_artifact(request: web.Request) -> web.Response:
    """``POST upload-artifact?run_uuid=&path=`` with the file as the raw body (at most 10 MB): the UI's
    upload of one file into a run's artifacts."""
    run_uuid = request.query.get("run_uuid")
    if not run_uuid:
        raise MlflowException.invalid_parameter_value("Request must specify run_uuid.")
    path = request.query.get("path")
    if not path:
        raise MlflowException.invalid_parameter_value("Request must specify path.")
    path = validate_path_is_safe(path)
    if request.content_length and request.content_length > MAX_UPLOAD_BYTES:
        raise MlflowException.invalid_parameter_value("Artifact size is too large. Max size is 10MB.")
    data = await request.content.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise MlflowException.invalid_parameter_value("Request must specify data.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise MlflowException.invalid_parameter_value("Artifact size is too large. Max size is 10MB.")
    run = await store_call(request, "get_run", run_uuid)
    repo, repo_path = run_artifact_location(request, run.info.artifact_uri, path)
    await in_thread(request, repo.write_stream, repo_path or posixpath.basename(path), io.BytesIO(data))
    # MLflow answers 200 with an empty body labelled JSON.
    return web.Response(body=b"", content_type="application/json")
