"""Artifact endpoints: the proxied artifact service (``/mlflow-artifacts/artifacts``), the run listing
(``/mlflow/artifacts/list``) and the UI's ``/get-artifact`` (MLflow: ``_download_artifact``,
``_upload_artifact``, ``_list_artifacts_mlflow_artifacts``, ``list_artifacts_impl``, ``get_artifact_handler``)."""

from __future__ import annotations

import asyncio
import mimetypes
import posixpath
import re
import urllib.parse
from typing import Any
from urllib.parse import quote

from aiohttp import web

from asyncclient.artifacts import ArtifactRepository, get_artifact_repository, validate_path_is_safe
from asyncclient.artifacts.base import MULTIPART_UNSUPPORTED
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
_PART = Message(Field("part_number", INT64), Field("etag", STRING), Field("url", STRING))
_MPU = Message(Field("path", STRING), Field("num_parts", INT64), Field("upload_id", STRING),
               Field("parts", _PART, repeated=True))
# S3's limit; also bounds the credentials list a create answers with.
_MAX_PARTS = 10_000


def _guess_mime_type(path: str) -> str:
    mime, _ = mimetypes.guess_type(path)
    return mime or "application/octet-stream"


def _attachment(name: str) -> str:
    try:
        name.encode("ascii")
        return f'attachment; filename="{name}"'
    except UnicodeEncodeError:
        return f"attachment; filename=\"download\"; filename*=UTF-8''{urllib.parse.quote(name)}"


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` -> (offset, length); None: send the whole file (a header we
    do not handle, such as several ranges, may be ignored per RFC 9110). Unsatisfiable raises 416."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, sep, last = header[len("bytes="):].strip().partition("-")
    try:
        if not sep or (not first and not last):
            return None
        if not first:
            start, end = max(0, size - int(last)), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start < 0 or start >= size or end < start:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, end - start + 1


async def send_artifact(request: web.Request, repo: ArtifactRepository, path: str) -> web.StreamResponse:
    """The file's bytes as an attachment (never rendered inline: that could enable XSS on our origin),
    streamed 1 MiB at a time; a single ``Range`` is answered with 206 from every destination."""
    name = posixpath.basename(path)
    headers = {
        "Content-Disposition": _attachment(name),
        "X-Content-Type-Options": "nosniff",
        "Content-Type": _guess_mime_type(name),
        "Accept-Ranges": "bytes",
    }
    local = await in_thread(request, repo.local_path, path)
    if local is not None:
        return web.FileResponse(local, headers=headers, chunk_size=_CHUNK)  # handles Range itself
    size = await in_thread(request, repo.file_size, path)
    wanted = _parse_range(request.headers.get("Range"), size)
    offset, length = wanted if wanted is not None else (0, size)
    stream = await in_thread(request, repo.open_read, path, offset, length if wanted is not None else None)
    try:
        response = web.StreamResponse(status=206 if wanted is not None else 200, headers=headers)
        if wanted is not None:
            response.headers["Content-Range"] = f"bytes {offset}-{offset + length - 1}/{size}"
        response.content_length = length
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
        return asyncio.run_coroutine_threadsafe(self._read_full(size), self._loop).result()

    async def _read_full(self, size: int) -> bytes:
        # Like a file: fewer than ``size`` bytes only at the end. boto3's s3transfer takes a short read from a
        # non-seekable stream for a whole part, which would store the body out of order.
        chunks = []
        while size > 0:
            chunk = await self._content.read(size)
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

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


def _upload_destination(request: web.Request, f: dict) -> str:
    """MLflow's client names the directory in the route and the local file in ``path``: the file goes to
    ``<route path>/<basename of path>``."""
    directory = _service_path(request)
    local = required(f, "path")
    name = re.split(r"[\\/]", local)[-1]  # a Windows client's path too
    if not name:
        raise MlflowException.invalid_parameter_value(f"Invalid value for parameter 'path': '{local}'")
    return validate_path_is_safe(posixpath.join(directory, name))


@service_routes.post("/mpu/create/{artifact_path:.+}")
async def create_multipart_upload(request: web.Request) -> web.Response:
    """``POST mlflow-artifacts/mpu/create/<dir>`` ``{"path", "num_parts"}`` -> ``{"upload_id", "credentials"}``.

    S3 and Azure hand out URLs to PUT each part straight into the store (as MLflow's server does); a local
    destination hands out this server's own ``mpu/part`` route."""
    f = await parse_request(request, _MPU)
    dest = _upload_destination(request, f)
    num_parts = f.get("num_parts", 1)
    if not 1 <= num_parts <= _MAX_PARTS:
        raise MlflowException.invalid_parameter_value(f"num_parts must be between 1 and {_MAX_PARTS}, got {num_parts}")
    upload = await in_thread(request, request.app[ARTIFACT_REPO].create_multipart_upload, dest, num_parts)
    part_base = f"{request.url.origin()}{request.raw_path.split('/mpu/create/', 1)[0]}/mpu/part/{quote(dest)}"
    credentials = [
        {"part_number": c.part_number, "headers": c.headers,
         "url": c.url or f"{part_base}?upload_id={upload.upload_id}&part_number={c.part_number}"}
        for c in upload.credentials
    ]
    return json_response({"upload_id": upload.upload_id, "credentials": credentials})


@service_routes.put("/mpu/part/{artifact_path:.+}")
async def upload_part(request: web.Request) -> web.Response:
    """``PUT mlflow-artifacts/mpu/part/<file>?upload_id=&part_number=``: one part for a destination that
    cannot take parts directly (a local folder), streamed to it; the ETag header names the part."""
    path = _service_path(request)
    repo = request.app[ARTIFACT_REPO]
    if not hasattr(repo, "write_part"):
        raise MlflowException(MULTIPART_UNSUPPORTED, error_code="NOT_IMPLEMENTED")
    upload_id = required({"upload_id": request.query.get("upload_id")}, "upload_id")
    try:
        part_number = int(request.query.get("part_number", ""))
    except ValueError:
        raise MlflowException.invalid_parameter_value("part_number must be an integer") from None
    if not 1 <= part_number <= _MAX_PARTS:
        raise MlflowException.invalid_parameter_value(f"part_number must be between 1 and {_MAX_PARTS}")
    reader = _BodyReader(request, asyncio.get_running_loop())
    etag = await in_thread(request, repo.write_part, path, upload_id, part_number, reader)
    return web.Response(body=b"{}", content_type="application/json", headers={"ETag": etag})


@service_routes.post("/mpu/complete/{artifact_path:.+}")
async def complete_multipart_upload(request: web.Request) -> web.Response:
    """``POST mlflow-artifacts/mpu/complete/<dir>`` ``{"path", "upload_id", "parts"}`` -> ``{}``."""
    f = await parse_request(request, _MPU)
    dest = _upload_destination(request, f)
    upload_id = required(f, "upload_id")
    parts = required(f, "parts")
    await in_thread(request, request.app[ARTIFACT_REPO].complete_multipart_upload, dest, upload_id, parts)
    return empty_response()


@service_routes.post("/mpu/abort/{artifact_path:.+}")
async def abort_multipart_upload(request: web.Request) -> web.Response:
    """``POST mlflow-artifacts/mpu/abort/<dir>`` ``{"path", "upload_id"}`` -> ``{}``."""
    f = await parse_request(request, _MPU)
    dest = _upload_destination(request, f)
    await in_thread(request, request.app[ARTIFACT_REPO].abort_multipart_upload, dest, required(f, "upload_id"))
    return empty_response()


@service_routes.get("/presigned/{artifact_path:.+}")
async def presigned_download(request: web.Request) -> web.Response:
    """Presigned downloads: not offered (MLflow answers 501 for its proxied repositories too); clients
    then download through the proxy."""
    _service_path(request)
    raise MlflowException("Presigned download is not supported for the current artifact repository",
                          error_code="NOT_IMPLEMENTED")


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
