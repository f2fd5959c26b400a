"""Artifacts in a local folder (MLflow's ``LocalArtifactRepository``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import BinaryIO

from asyncclient.artifacts.base import ArtifactRepository
from asyncclient.artifacts.paths import validate_path_is_safe
from asyncclient.entities import FileInfo
from asyncclient.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException

_CHUNK = 1024 * 1024
# Uploads are written under this prefix then renamed into place; such names are hidden and reserved.
_STAGING_PREFIX = ".artifact.uploading."


def local_uri_to_path(uri: str) -> str:
    """``file:///a/b`` or a plain path -> an absolute local path."""
    if uri.startswith("file:"):
        from urllib.parse import unquote, urlparse

        uri = unquote(urlparse(uri).path)
    return os.path.abspath(os.path.expanduser(uri))


class LocalArtifactRepository(ArtifactRepository):
    """Files under one root directory; every resolved path is checked to stay inside it."""

    def __init__(self, artifact_uri: str):
        super().__init__(artifact_uri)
        self.root = local_uri_to_path(artifact_uri)

    def _resolve(self, artifact_path: str | None) -> str:
        if not artifact_path:
            return self.root
        artifact_path = validate_path_is_safe(artifact_path)
        full = os.path.normpath(os.path.join(self.root, artifact_path))
        # A symlink inside the root could still point outside it.
        real_root = os.path.realpath(self.root)
        if os.path.commonpath([real_root, os.path.realpath(full)]) != real_root:
            raise MlflowException.invalid_parameter_value("Invalid path")
        return full

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        directory = self._resolve(path)
        if not os.path.isdir(directory):
            return []
        prefix = path.strip("/") + "/" if path and path.strip("/") else ""
        infos = []
        for name in sorted(os.listdir(directory)):
            if name.startswith(_STAGING_PREFIX):
                continue
            full = os.path.join(directory, name)
            if os.path.isdir(full):
                infos.append(FileInfo(prefix + name, True, None))
            else:
                infos.append(FileInfo(prefix + name, False, os.path.getsize(full)))
        return infos

    def write_stream(self, artifact_path: str, stream: BinaryIO) -> None:
        dest = self._resolve(artifact_path)
        if os.path.basename(dest).startswith(_STAGING_PREFIX):
            raise MlflowException.invalid_parameter_value(
                f"Invalid artifact file name: '{artifact_path}'. Names starting with '{_STAGING_PREFIX}' are reserved."
            )
        if os.path.isdir(dest):
            raise MlflowException.invalid_parameter_value(
                f"Artifact path refers to a directory, not a file: '{artifact_path}'"
            )
        directory = os.path.dirname(dest)
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=_STAGING_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, _CHUNK)
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        except BaseException:
            try:
                os.remove(tmp)
            except FileNotFoundError:
                pass
            raise

    def local_path(self, artifact_path: str) -> str:
        full = self._resolve(artifact_path)
        if not os.path.exists(full):
            raise MlflowException(f"No such artifact: '{artifact_path}'", error_code=RESOURCE_DOES_NOT_EXIST)
        if os.path.isdir(full):
            raise MlflowException.invalid_parameter_value(
                f"Artifact path refers to a directory, not a file: '{artifact_path}'"
            )
        return full

    def open_read(self, artifact_path: str) -> BinaryIO:
        return open(self.local_path(artifact_path), "rb")

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        full = self._resolve(artifact_path)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, ignore_errors=True)
        elif os.path.lexists(full):
            os.remove(full)
