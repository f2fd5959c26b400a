"""The client side of artifacts: a run's ``artifact_uri`` -> the repository that stores its files, and the
directory walks on top of it (MLflow's ``get_artifact_repository`` + ``ArtifactRepository.log_artifacts`` /
``download_artifacts``).

| artifact_uri                                   | repository                                          |
|------------------------------------------------|-----------------------------------------------------|
| ``/path``, ``file:///path``                    | local copy (the tracking server's root is on this machine) |
| ``mlflow-artifacts:/0/<rid>/artifacts``        | the tracking server's proxied artifact API (PUT/GET) |
| ``mlflow-artifacts://host:port/...``, ``http(s)://.../api/2.0/mlflow-artifacts/artifacts/...`` | that server's API |
| ``s3://bucket/prefix``                         | boto3 (``MLFLOW_S3_ENDPOINT_URL``, AWS env vars)     |
| ``wasbs://container@account.blob.core.windows.net/path`` | azure-storage-blob (``AZURE_STORAGE_CONNECTION_STRING``) |

Transfers are synchronous, in the calling thread: artifacts are files, not data points, and MLflow's
client uploads them the same way.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from urllib.parse import urlparse

from asyncclient.artifacts.base import ArtifactRepository
from asyncclient.artifacts.http import ARTIFACTS_API, HttpArtifactRepository
from asyncclient.artifacts.local import LocalArtifactRepository
from asyncclient.artifacts.paths import validate_path_is_safe
from asyncclient.entities import FileInfo
from asyncclient.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException


def client_repository(artifact_uri: str, tracking_uri: str | None = None) -> ArtifactRepository:
    """The repository for a run's (or experiment's) artifact URI, seen from a client of ``tracking_uri``."""
    if not artifact_uri:
        raise MlflowException.invalid_parameter_value("The run has no artifact URI")
    parsed = urlparse(artifact_uri)
    scheme = parsed.scheme
    if scheme in ("", "file") or len(scheme) == 1:  # one letter: a Windows drive
        return LocalArtifactRepository(artifact_uri)
    if scheme == "mlflow-artifacts":
        if parsed.netloc:  # mlflow-artifacts://host:port/path names its server
            base = f"{'https' if parsed.port == 443 else 'http'}://{parsed.netloc}"
        elif tracking_uri and tracking_uri.startswith(("http://", "https://")):
            base = tracking_uri
        else:
            raise MlflowException.invalid_parameter_value(
                f"The artifact URI '{artifact_uri}' is served by a tracking server, but the tracking URI "
                f"'{tracking_uri}' is not an http(s) server. Set the tracking URI to that server.")
        return HttpArtifactRepository(artifact_uri, base, parsed.path)
    if scheme in ("http", "https"):
        base = f"{scheme}://{parsed.netloc}"
        path = parsed.path
        if ARTIFACTS_API + "/" in path:  # the proxied form: split off the server's own prefix (--static-prefix)
            prefix, root = path.split(ARTIFACTS_API + "/", 1)
            return HttpArtifactRepository(artifact_uri, base + prefix, root)
        raise MlflowException.invalid_parameter_value(
            f"Unsupported artifact URI '{artifact_uri}': http(s) artifact URIs must point at a server's "
            f"{ARTIFACTS_API}/ API")
    if scheme in ("s3", "s3a", "s3n"):
        from asyncclient.artifacts.s3 import S3ArtifactRepository

        return S3ArtifactRepository(artifact_uri)
    if scheme == "wasbs":
        from asyncclient.artifacts.azure import AzureBlobArtifactRepository

        return AzureBlobArtifactRepository(artifact_uri)
    raise MlflowException(f"Artifact storage '{scheme}://' is not supported by asyncclient's client "
                          f"(URI: {artifact_uri})", error_code="NOT_IMPLEMENTED")


def log_artifacts(repo: ArtifactRepository, local_dir: str, artifact_path: str | None = None) -> None:
    """Upload every file under ``local_dir`` into ``artifact_path``, keeping the tree (MLflow's
    ``log_artifacts``); empty directories are not stored, as in MLflow's object-store repositories."""
    if not os.path.isdir(local_dir):
        raise MlflowException.invalid_parameter_value(f"Not a directory: '{local_dir}'")
    artifact_path = validate_path_is_safe(artifact_path.strip("/")) if artifact_path and artifact_path.strip("/") else None
    for root, dirs, files in os.walk(local_dir):
        dirs.sort()
        rel = os.path.relpath(root, local_dir)
        parts = ([artifact_path] if artifact_path else []) + ([] if rel == "." else rel.split(os.sep))
        dest = posixpath.join(*parts) if parts else None
        for name in sorted(files):
            repo.log_artifact(os.path.join(root, name), dest)


def log_artifact(repo: ArtifactRepository, local_path: str, artifact_path: str | None = None) -> None:
    """One file (or, as MLflow allows, a directory: its tree goes under ``artifact_path/<dirname>``)."""
    if os.path.isdir(local_path):
        name = os.path.basename(os.path.normpath(local_path))
        log_artifacts(repo, local_path, posixpath.join(artifact_path, name) if artifact_path else name)
        return
    if not os.path.isfile(local_path):
        raise MlflowException(f"No such file to log as an artifact: '{local_path}'", error_code=RESOURCE_DOES_NOT_EXIST)
    repo.log_artifact(local_path, validate_path_is_safe(artifact_path.strip("/"))
                      if artifact_path and artifact_path.strip("/") else None)


def _download_file(repo: ArtifactRepository, path: str, local_file: str) -> None:
    os.makedirs(os.path.dirname(local_file), exist_ok=True)
    own = getattr(repo, "download_file", None)
    if own is not None:
        own(path, local_file)
        return
    with repo.open_read(path) as src, open(local_file, "wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)


def download_artifacts(repo: ArtifactRepository, path: str | None, dst_path: str | None = None) -> str:
    """Copy the file or directory tree at ``path`` (the whole root when empty) under ``dst_path`` (a new
    temporary folder when None); returns the local path of what was downloaded (MLflow's
    ``download_artifacts``)."""
    path = validate_path_is_safe(path.strip("/")) if path and path.strip("/") else ""
    dst_path = os.path.abspath(dst_path) if dst_path else tempfile.mkdtemp(prefix="asyncclient-artifacts-")
    if not os.path.isdir(dst_path):
        raise MlflowException.invalid_parameter_value(f"The destination path for downloaded artifacts does not "
                                                      f"exist or is not a directory: '{dst_path}'")
    local = os.path.join(dst_path, *path.split("/")) if path else dst_path
    listing = repo.list_artifacts(path or None)
    if not path or listing or _is_listed_dir(repo, path):
        os.makedirs(local, exist_ok=True)
        for info in listing:
            if info.is_dir:
                download_artifacts(repo, info.path, dst_path)
            else:
                _download_file(repo, info.path, os.path.join(dst_path, *info.path.split("/")))
        return local
    _download_file(repo, path, local)
    return local


def _is_listed_dir(repo: ArtifactRepository, path: str) -> bool:
    """An empty directory lists as [] just like a file does: ask its parent which one it is."""
    parent = posixpath.dirname(path)
    return any(i.path == path and i.is_dir for i in repo.list_artifacts(parent or None))


def list_artifacts(repo: ArtifactRepository, path: str | None = None) -> list[FileInfo]:
    """One level under ``path``; ``FileInfo.path`` relative to the run's artifact root."""
    return repo.list_artifacts(validate_path_is_safe(path.strip("/")) if path and path.strip("/") else None)
