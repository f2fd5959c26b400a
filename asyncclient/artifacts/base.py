"""The artifact repository interface (MLflow's ``ArtifactRepository``, reduced to what the server needs).

Paths are POSIX, relative to the repository root, and already checked by ``validate_path_is_safe``.
Reads and writes go through binary streams, so an object store (S3: ``upload_fileobj`` /
``get_object()["Body"]``) implements the same methods without staging files on local disk.
"""

from __future__ import annotations

import os
import posixpath
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import BinaryIO

from asyncclient.entities import FileInfo
from asyncclient.exceptions import MlflowException

# MLflow's client falls back to a plain PUT when the server's error message starts with this sentence
# (``_UnsupportedMultipartUploadException.MESSAGE``), so it must stay word for word.
MULTIPART_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"


@dataclass
class UploadPartCredential:
    """Where the client PUTs part ``part_number`` (MLflow's ``MultipartUploadCredential``)."""

    part_number: int
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class MultipartUpload:
    """An open multipart upload (MLflow's ``CreateMultipartUploadResponse``)."""

    upload_id: str
    credentials: list[UploadPartCredential]


class ArtifactRepository(ABC):
    """Where artifact bytes live: a local folder today, an object store later."""

    def __init__(self, artifact_uri: str):
        self.artifact_uri = artifact_uri

    @abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """One directory level under ``path``, sorted; ``FileInfo.path`` is relative to the repository root.

        A file or a missing path lists as ``[]`` (MLflow's ``list_artifacts``).
        """

    @abstractmethod
    def write_stream(self, artifact_path: str, stream: BinaryIO) -> None:
        """Store the bytes read from ``stream`` at ``artifact_path``, replacing it; readers never see a
        partial file (MLflow's ``log_artifact_from_stream``)."""

    @abstractmethod
    def open_read(self, artifact_path: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        """A binary stream of the file at ``artifact_path``, from ``offset`` for ``length`` bytes (to the end
        when None), so the server can answer HTTP ranges without reading what precedes them.

        Raises ``RESOURCE_DOES_NOT_EXIST`` when it is missing and ``INVALID_PARAMETER_VALUE`` for a directory.
        """

    def file_size(self, artifact_path: str) -> int:
        """The file's size in bytes (``RESOURCE_DOES_NOT_EXIST`` when missing)."""
        raise NotImplementedError

    def create_multipart_upload(self, artifact_path: str, num_parts: int) -> MultipartUpload:
        """Open an upload of ``num_parts`` parts to ``artifact_path`` (MLflow's ``create_multipart_upload``)."""
        raise MlflowException(MULTIPART_UNSUPPORTED, error_code="NOT_IMPLEMENTED")

    def complete_multipart_upload(self, artifact_path: str, upload_id: str, parts: list[dict]) -> None:
        """Assemble the uploaded ``parts`` (``{"part_number", "etag", "url"}``) into the file."""
        raise MlflowException(MULTIPART_UNSUPPORTED, error_code="NOT_IMPLEMENTED")

    def abort_multipart_upload(self, artifact_path: str, upload_id: str) -> None:
        """Drop what an unfinished upload stored."""
        raise MlflowException(MULTIPART_UNSUPPORTED, error_code="NOT_IMPLEMENTED")

    @abstractmethod
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a directory tree (MLflow's ``delete_artifacts``); missing paths are a no-op."""

    def local_path(self, artifact_path: str) -> str | None:
        """The file's path on local disk when there is one, so the server can use ``sendfile``."""
        return None

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        """Upload a local file into the directory ``artifact_path`` (MLflow's ``log_artifact``)."""
        name = os.path.basename(local_file)
        with open(local_file, "rb") as f:
            self.write_stream(posixpath.join(artifact_path, name) if artifact_path else name, f)
