"""Artifacts in a local folder (MLflow's ``LocalArtifactRepository``)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from typing import BinaryIO

from asyncclient.artifacts.base import ArtifactRepository, MultipartUpload, UploadPartCredential
from asyncclient.artifacts.paths import validate_path_is_safe
from asyncclient.entities import FileInfo
from asyncclient.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException

_CHUNK = 1024 * 1024
# Uploads are written under this prefix then renamed into place; such names are hidden and reserved.
_STAGING_PREFIX = ".artifact.uploading."
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


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

    def open_read(self, artifact_path: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        f = open(self.local_path(artifact_path), "rb")
        f.seek(offset)
        return f if length is None else _Limited(f, length)

    def file_size(self, artifact_path: str) -> int:
        return os.path.getsize(self.local_path(artifact_path))

    # ---- multipart: parts come back to this server (no object store to sign URLs for) and are staged
    # in a hidden folder beside the destination, then concatenated and renamed into place ----

    def _parts_dir(self, artifact_path: str, upload_id: str) -> str:
        if not _UPLOAD_ID.match(upload_id or ""):
            raise MlflowException.invalid_parameter_value(f"Invalid upload_id: '{upload_id}'")
        return os.path.join(os.path.dirname(self._resolve(artifact_path)), f"{_STAGING_PREFIX}mpu-{upload_id}")

    def create_multipart_upload(self, artifact_path: str, num_parts: int) -> MultipartUpload:
        upload_id = uuid.uuid4().hex
        os.makedirs(self._parts_dir(artifact_path, upload_id))
        # url="" : the server fills in its own part route (it alone knows its address).
        return MultipartUpload(upload_id, [UploadPartCredential(n, "") for n in range(1, num_parts + 1)])

    def write_part(self, artifact_path: str, upload_id: str, part_number: int, stream: BinaryIO) -> str:
        """Store one part of an open upload; returns its ETag."""
        parts = self._parts_dir(artifact_path, upload_id)
        if not os.path.isdir(parts):
            raise MlflowException(f"No open upload '{upload_id}' for '{artifact_path}'",
                                  error_code=RESOURCE_DOES_NOT_EXIST)
        fd, tmp = tempfile.mkstemp(dir=parts, prefix=".")
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(stream, out, _CHUNK)
        os.replace(tmp, os.path.join(parts, str(int(part_number))))
        return f'"{upload_id}-{int(part_number)}"'

    def complete_multipart_upload(self, artifact_path: str, upload_id: str, parts: list[dict]) -> None:
        directory = self._parts_dir(artifact_path, upload_id)
        numbers = sorted(int(p["part_number"]) for p in parts)
        missing = [n for n in numbers if not os.path.isfile(os.path.join(directory, str(n)))]
        if not numbers or missing:
            raise MlflowException.invalid_parameter_value(
                f"Upload '{upload_id}' cannot complete: parts {missing or 'none'} were not uploaded")

        class _Concatenated:
            def __init__(self):
                self._files = iter(numbers)
                self._current = None

            def read(self, n: int = -1) -> bytes:
                while True:
                    if self._current is None:
                        number = next(self._files, None)
                        if number is None:
                            return b""
                        self._current = open(os.path.join(directory, str(number)), "rb")
                    chunk = self._current.read(n)
                    if chunk:
                        return chunk
                    self._current.close()
                    self._current = None

        self.write_stream(artifact_path, _Concatenated())
        shutil.rmtree(directory, ignore_errors=True)

    def abort_multipart_upload(self, artifact_path: str, upload_id: str) -> None:
        parts = self._parts_dir(artifact_path, upload_id)
        shutil.rmtree(parts, ignore_errors=True)
        # The folders create made for it, if nothing else lives there: an aborted upload leaves no trace.
        directory = os.path.dirname(parts)
        while os.path.normpath(directory) != os.path.normpath(self.root):
            try:
                os.rmdir(directory)
            except OSError:  # not empty, or already gone
                break
            directory = os.path.dirname(directory)

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        full = self._resolve(artifact_path)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, ignore_errors=True)
        elif os.path.lexists(full):
            os.remove(full)


class _Limited:
    """At most ``length`` bytes of an open file (an HTTP range)."""

    def __init__(self, f: BinaryIO, length: int):
        self._f, self._left = f, length

    def read(self, n: int = -1) -> bytes:
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._f.read(n) if n else b""
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
