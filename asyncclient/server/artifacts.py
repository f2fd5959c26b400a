"""Artifact endpoints: the proxied artifact service (``/mlflow-artifacts/artifacts``), the run listing
(``/mlflow/artifacts/list``) and the UI's ``/get-artifact`` (MLflow: ``_download_artifact``,
``_upload_artifact``, ``_list_artifacts_mlflow_artifacts``, ``list_artifacts_impl``, ``get_artifact_handler``)."""

from __future__ import annotations

import asyncio
import mimetypes
import posixpath
import urllib.parse
from typing import Any

from aiohttp import web

from asyncclient.artifacts import ArtifactRepository, get_artifact_repository, validate_path_is_safe
from asyncclient.exceptions import MlflowException
from asyncclient.server.protocol import (
    INT64,
    STRING,
    Field,
    Message,
    empty_response,
    json_response,
    parse_request,
    required,
    run_id_of,
)
from asyncclient.server.state import ARTIFACT_REPO, CONFIG, in_thread, store_call
from asyncclient.wire import file_info_to_json

# Mounted under /api/2.0/mlflow-artifacts and /ajax-api/2.0/mlflow-artifacts.
service_routes = web.RouteTableDef()
# Mounted under /api/2.0/mlflow and /ajax-api/2.0/mlflow.
tracking_routes = web.RouteTableDef()
# Mounted at the root.
root_routes = web.RouteTableDef()

_CHUNK = 1024 * 1024
_HTTP_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/"
_LIST = Message(Field("path", STRING))
_RUN_LIST = Message(Field("run_id", STRING), Field("run_uuid", STRING), Field("path", STRING),
                    Field("page_token", STRING))
_MPU = Message(Field("path", STRING), Field("num_parts", INT64), Field("upload_id", STRING))


def _guess_mime_type(path: str) -> str:
    mime, _ = mimetypes.guess_type(path)
    return mime or "application/octet-stream"


def _attachment(name: str) -> str:
    try:
        name.encode("ascii")
        return f'attachment; filename="{name}"'
    except UnicodeEncodeError:
        return f"attachment; filename=\"download\"; filename*=UTF-8''{urllib.parse.quote(name)}"


async def send_artifact(request: web.Request, repo: ArtifactRepository, path: str) -> web.StreamResponse:
    """The file's bytes as an attachment (never rendered inline: that could enable XSS on our origin)."""
    name = posixpath.basename(path)
    headers = {
        "Content-Disposition": _attachment(name),
        "X-Content-Type-Options": "nosniff",
        "Content-Type": _guess_mime_type(name),
    }
    local = await in_thread(request, repo.local_path, path)
    if local is not None:
        return web.FileResponse(local, headers=headers, chunk_size=_CHUNK)
    stream = await in_thread(request, repo.open_read, path)
    try:
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
        while chunk := await in_thread(request, stream.read, _CHUNK):
            await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        await in_thread(request, stream.close)


class _BodyReader:
    """A blocking ``read(n)`` over the request body, for repositories that consume a file-like object in a
    worker thread (copyfileobj, S3 ``upload_fileobj``); each read hops to the event loop."""

    def __init__(self, request: web.Request, loop: asyncio.AbstractEventLoop):
        self._content = request.content
        self._loop = loop

    def read(self, n: int = -1) -> bytes:
        size = _CHUNK if n is None or n < 0 else n
        return asyncio.run_coroutine_threadsafe(self._content.read(size), self._loop).result()

    def readable(self) -> bool:
        return True


def _service_path(request: web.Request) -> str:
    return validate_path_is_safe(request.match_info["artifact_path"])


@service_routes.get("/artifacts/{artifact_path:.+}")
async def download_artifact(request: web.Request) -> web.StreamResponse:
    """``GET mlflow-artifacts/artifacts/<path>``: bytes of a file under ``--artifacts-destination``."""
    return await send_artifact(request, request.app[ARTIFACT_REPO], _service_path(request))


@service_routes.put("/artifacts/{artifact_path:.+}")
async def upload_artifact(request: web.Request) -> web.Response:
    """``PUT mlflow-artifacts/artifacts/<path>``: the raw body, streamed to the repository -> ``{}``."""
    path = _service_path(request)
    reader = _BodyReader(request, asyncio.get_running_loop())
    await in_thread(request, request.app[ARTIFACT_REPO].write_stream, path, reader)
    return empty_response()


@service_routes.delete("/artifacts/{artifact_path:.+}")
async def delete_artifact(request: web.Request) -> web.Response:
    """``DELETE mlflow-artifacts/artifacts/<path>``: a file or a whole directory -> ``{}``."""
    path = _service_path(request)
    await in_thread(request, request.app[ARTIFACT_REPO].delete_artifacts, path)
    return empty_response()


@service_routes.get("/artifacts")
async def list_service_artifacts(request: web.Request) -> web.Response:
    """``GET mlflow-artifacts/artifacts?path=<dir>`` -> ``{"files"}`` with basenames; a file or a missing
    path gives ``{}``."""
    f = await parse_request(request, _LIST)
    path = validate_path_is_safe(f["path"]) if "path" in f else None
    infos = await in_thread(request, request.app[ARTIFACT_REPO].list_artifacts, path)
    files = [file_info_to_json(type(i)(posixpath.basename(i.path), i.is_dir, i.file_size)) for i in infos]
    return json_response({"files": files} if files else {})


async def _not_implemented(request: web.Request) -> web.Response:
    """Multipart and presigned transfers: this repository cannot do them (MLflow answers 501 too)."""
    if request.method == "POST":
        await parse_request(request, _MPU)
    raise MlflowException(
        "Multipart and presigned artifact transfers are not supported by this artifact repository. "
        "Upload with a plain PUT (MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=false, the default).",
        error_code="NOT_IMPLEMENTED",
    )


for _action in ("create", "complete", "abort"):
    service_routes.post(f"/mpu/{_action}/{{artifact_path:.+}}")(_not_implemented)
service_routes.get("/presigned/{artifact_path:.+}")(_not_implemented)


# ---- run artifacts (tracking API) ----

def _proxied_root_path(artifact_uri: str) -> str | None:
    """``mlflow-artifacts:/0/<rid>/artifacts`` (or the http form) -> ``0/<rid>/artifacts``; None otherwise."""
    parsed = urllib.parse.urlparse(artifact_uri)
    if parsed.scheme == "mlflow-artifacts":
        return parsed.path.lstrip("/")
    if parsed.scheme in ("http", "https") and _HTTP_ANCHOR in parsed.path:
        return parsed.path.split(_HTTP_ANCHOR, 1)[1].lstrip("/")
    return None


def run_artifact_location(request: web.Request, artifact_uri: str, path: str | None) -> tuple[ArtifactRepository, Any]:
    """(repository, path in it) for a run's artifact root plus a relative path."""
    root = _proxied_root_path(artifact_uri)
    if root is not None:
        if not request.app[CONFIG].serve_artifacts:
            raise MlflowException.invalid_parameter_value(
                f"The run's artifacts are proxied ({artifact_uri}) but this server runs with "
                "--no-serve-artifacts; list them through the artifact server instead."
            )
        full = posixpath.join(root, path) if path else root
        return request.app[ARTIFACT_REPO], full or None
    return get_artifact_repository(artifact_uri), path


@tracking_routes.get("/artifacts/list")
async def list_run_artifacts(request: web.Request) -> web.Response:
    """``GET mlflow/artifacts/list`` -> ``{"root_uri", "files"}``, one level deep, paths relative to the
    run's artifact root."""
    f = await parse_request(request, _RUN_LIST)
    run_id = run_id_of(f)
    path = validate_path_is_safe(f["path"]) if f.get("path") else None
    run = await store_call(request, "get_run", run_id)
    repo, repo_path = run_artifact_location(request, run.info.artifact_uri, path)
    infos = await in_thread(request, repo.list_artifacts, repo_path)
    files = []
    for info in infos:
        rel = posixpath.join(path, posixpath.basename(info.path)) if path else posixpath.basename(info.path)
        files.append(file_info_to_json(type(info)(rel, info.is_dir, info.file_size)))
    body: dict = {"root_uri": run.info.artifact_uri}
    if files:
        body["files"] = files
    return json_response(body)


@root_routes.get("/get-artifact")
async def get_artifact(request: web.Request) -> web.StreamResponse:
    """``GET /get-artifact?run_id=&path=`` (the UI's): one file of a run's artifacts."""
    query = request.query
    run_id = query.get("run_id") or query.get("run_uuid")
    required({"run_id": run_id}, "run_id")
    path = validate_path_is_safe(required({"path": query.get("path")}, "path"))
    run = await store_call(request, "get_run", run_id)
    repo, repo_path = run_artifact_location(request, run.info.artifact_uri, path)
    return await send_artifact(request, repo, repo_path)
