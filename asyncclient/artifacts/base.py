"""The artifact repository interface (MLflow's ``ArtifactRepository``, reduced to what the server needs).

Paths are POSIX, relative to the repository root, and already checked by ``validate_path_is_safe``.
Reads and writes go through binary streams, so an object store (S3: ``upload_fileobj`` /
``get_object()["Body"]``) implements the same methods without staging files on local disk.
"""

from __future__ import annotations

import os
import posixpath
from abc import ABC, abstractmethod
from typing import BinaryIO

from asyncclient.entities import FileInfo


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
    def open_read(self, artifact_path: str) -> BinaryIO:
        """A binary stream of the file at ``artifact_path``.

        Raises ``RESOURCE_DOES_NOT_EXIST`` when it is missing and ``INVALID_PARAMETER_VALUE`` for a directory.
        """

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
