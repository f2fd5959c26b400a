"""Artifacts through a tracking server's proxied artifact API (MLflow's ``HttpArtifactRepository``).

``<base>/api/2.0/mlflow-artifacts/artifacts/<root>/<path>``: PUT uploads a file, GET downloads it, and
``GET <base>/api/2.0/mlflow-artifacts/artifacts?path=<root>/<dir>`` lists one level (basenames).
Requests run in the calling thread (as MLflow's) over a kept-alive ``requests.Session`` per thread.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import random
import threading
import time
from typing import BinaryIO
from urllib.parse import quote

from asyncclient.artifacts.base import ArtifactRepository
from asyncclient.artifacts.paths import validate_path_is_safe
from asyncclient.entities import FileInfo
from asyncclient.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException

ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_ATTEMPTS = 5  # about 7.5 s of backoff in all: an artifact call should fail clearly, not hang
_TIMEOUT = (10, 600)  # connect, read: large files take a while
_CHUNK = 1024 * 1024
_local = threading.local()


def _http_session():
    """This thread's ``requests.Session`` (connections kept alive between calls; a fork gets its own)."""
    import requests

    s = getattr(_local, "session", None)
    if s is None or _local.pid != os.getpid():
        s = requests.Session()
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
        if token:
            s.headers["Authorization"] = f"Bearer {token}"
        elif user and password:
            s.auth = (user, password)
        if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
            s.verify = False
        _local.session, _local.pid = s, os.getpid()
    return s


def _error_from(response) -> MlflowException:
    """The server's own error (``{"error_code", "message"}``), or its status and text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error_code" in body:
        return MlflowException(f"{body['error_code']}: {body.get('message', '')}", error_code=body["error_code"])
    code = RESOURCE_DOES_NOT_EXIST if response.status_code == 404 else "BAD_REQUEST"
    return MlflowException(f"{response.request.method} {response.url} failed with HTTP {response.status_code}: "
                           f"{response.text[:500]}", error_code=code)


def request(method: str, url: str, body_factory=None, attempts: int = _ATTEMPTS, **kwargs):
    """One HTTP exchange, retried with backoff on connection errors and 429/5xx; raises MlflowException.

    ``body_factory`` (a callable opening a fresh body, closed here) replaces ``data`` so an upload retried
    after a partial send starts again from the first byte.
    """
    import requests

    for attempt in range(attempts):
        body = body_factory() if body_factory is not None else None
        try:
            if body is not None:
                kwargs["data"] = body
            response = _http_session().request(method, url, timeout=_TIMEOUT, **kwargs)
        except requests.ConnectionError as e:
            if attempt == attempts - 1:
                raise MlflowException(f"{method} {url}: cannot reach the server: {e}",
                                      error_code="TEMPORARILY_UNAVAILABLE") from e
            response = None
        finally:
            if hasattr(body, "close"):
                body.close()
        if response is not None:
            if response.ok:
                return response
            if response.status_code not in _RETRY_STATUSES or attempt == attempts - 1:
                raise _error_from(response)
            response.close()
        time.sleep(min(4.0, 0.5 * 2 ** attempt) * (0.5 + random.random() / 2))
    raise AssertionError("unreachable")


class HttpArtifactRepository(ArtifactRepository):
    """A run's artifacts under ``<base>/api/2.0/mlflow-artifacts/artifacts/<root>`` of one server."""

    def __init__(self, artifact_uri: str, base_url: str, root: str):
        super().__init__(artifact_uri)
        self.base_url = base_url.rstrip("/")
        self.root = root.strip("/")

    def _path(self, artifact_path: str | None) -> str:
        rel = validate_path_is_safe(artifact_path.strip("/")) if artifact_path and artifact_path.strip("/") else ""
        return posixpath.join(self.root, rel) if rel else self.root

    def _url(self, artifact_path: str) -> str:
        return f"{self.base_url}{ARTIFACTS_API}/{quote(self._path(artifact_path))}"

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        response = request("GET", self.base_url + ARTIFACTS_API, params={"path": self._path(path)})
        prefix = path.strip("/") + "/" if path and path.strip("/") else ""
        infos = [FileInfo(prefix + f["path"], bool(f.get("is_dir", False)),
                          None if f.get("is_dir") else int(f.get("file_size", 0)))
                 for f in response.json().get("files", [])]
        return sorted(infos, key=lambda i: i.path)

    def write_stream(self, artifact_path: str, stream: BinaryIO) -> None:
        # A stream cannot be rewound in general, so no retry: a retried PUT would store a truncated file.
        request("PUT", self._url(artifact_path), attempts=1, data=stream, headers=self._content_type(artifact_path))

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        name = os.path.basename(local_file)
        dest = posixpath.join(artifact_path, name) if artifact_path else name
        request("PUT", self._url(dest), body_factory=lambda: open(local_file, "rb"),
                headers=self._content_type(name))

    @staticmethod
    def _content_type(name: str) -> dict[str, str]:
        # As MLflow's client: the guessed type, which the server keeps for downloads.
        return {"Content-Type": mimetypes.guess_type(name)[0] or "application/octet-stream"}

    def open_read(self, artifact_path: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        headers = {}
        if offset or length is not None:
            headers["Range"] = f"bytes={offset}-{'' if length is None else offset + length - 1}"
        response = request("GET", self._url(artifact_path), stream=True, headers=headers)
        response.raw.decode_content = True
        return response.raw

    def download_file(self, artifact_path: str, local_file: str) -> None:
        with request("GET", self._url(artifact_path), stream=True) as response, open(local_file, "wb") as out:
            for chunk in response.iter_content(_CHUNK):
                out.write(chunk)

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        request("DELETE", self._url(artifact_path or ""))
