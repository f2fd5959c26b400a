"""Artifact repositories: where run artifacts are stored, behind one small interface.

Server side: ``get_artifact_repository`` (local folder, S3, Azure Blob). Client side: ``client_repos`` (local, the
proxied artifact API, S3) and MLflow's ``mlflow.artifacts`` functions (``download_artifacts``, ...).
"""

from __future__ import annotations

from urllib.parse import urlparse

from asyncclient.artifacts.api import download_artifacts, list_artifacts, load_dict, load_text
from asyncclient.artifacts.base import ArtifactRepository
from asyncclient.artifacts.local import LocalArtifactRepository, local_uri_to_path
from asyncclient.artifacts.paths import validate_path_is_safe
from asyncclient.exceptions import MlflowException

__all__ = [
    "ArtifactRepository", "LocalArtifactRepository", "download_artifacts", "get_artifact_repository",
    "list_artifacts", "load_dict", "load_text", "local_uri_to_path", "validate_path_is_safe",
]


def get_artifact_repository(artifact_uri: str) -> ArtifactRepository:
    """The repository for a storage URI (MLflow's ``get_artifact_repository``), used by the server for
    ``--artifacts-destination`` and for experiments with their own artifact location.

    | URI                                               | repository                                      |
    |---------------------------------------------------|-------------------------------------------------|
    | a path, ``file:///path``                          | ``LocalArtifactRepository``                     |
    | ``s3://bucket/prefix``                            | ``S3ArtifactRepository`` (boto3)                |
    | ``wasbs://container@account.blob.core.windows.net/path`` | ``AzureBlobArtifactRepository``          |
    """
    scheme = urlparse(artifact_uri).scheme
    # One-letter "schemes" are Windows drive letters.
    if scheme in ("", "file") or len(scheme) == 1:
        return LocalArtifactRepository(artifact_uri)
    if scheme in ("s3", "s3a", "s3n"):
        from asyncclient.artifacts.s3 import S3ArtifactRepository

        return S3ArtifactRepository(artifact_uri)
    if scheme == "wasbs":
        from asyncclient.artifacts.azure import AzureBlobArtifactRepository

        return AzureBlobArtifactRepository(artifact_uri)
    raise MlflowException(
        f"Artifact storage '{scheme}://' is not supported (URI: {artifact_uri}). "
        "Use a local folder, s3://bucket/prefix or wasbs://container@account.blob.core.windows.net/path.",
        error_code="NOT_IMPLEMENTED",
    )
