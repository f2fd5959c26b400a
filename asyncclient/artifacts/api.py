"""``mlflow.artifacts``: ``download_artifacts``, ``list_artifacts``, ``load_text``, ``load_dict`` for a run's
artifacts (``run_id`` + ``artifact_path``) or an artifact URI (``runs:/<run_id>/<path>``, or a storage URI)."""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
from typing import Any
from urllib.parse import urlparse

from asyncclient.entities import FileInfo
from asyncclient.exceptions import MlflowException


def _resolve(artifact_uri: str | None, run_id: str | None, artifact_path: str | None, tracking_uri: str | None):
    """(repository, path in it) for either way of naming artifacts."""
    from asyncclient.artifacts import client_repos
    from asyncclient.tracking import MlflowClient

    if (artifact_uri is None) == (run_id is None):
        raise MlflowException.invalid_parameter_value("Exactly one of `artifact_uri` or `run_id` must be specified.")
    if artifact_uri is not None and artifact_path is not None:
        raise MlflowException.invalid_parameter_value("`artifact_path` cannot be given with `artifact_uri`.")
    client = MlflowClient(tracking_uri)
    if run_id is not None:
        return client._artifact_repo(run_id), artifact_path
    parsed = urlparse(artifact_uri)
    if parsed.scheme == "runs":
        run, _, path = parsed.path.lstrip("/").partition("/")
        return client._artifact_repo(run or parsed.netloc), path or None
    # A storage URI: its parent is the repository root and its last segment the artifact (as MLflow).
    root, name = posixpath.split(artifact_uri.rstrip("/"))
    return client_repos.client_repository(root, client.tracking_uri), name


def download_artifacts(artifact_uri: str | None = None, run_id: str | None = None, artifact_path: str | None = None,
                       dst_path: str | None = None, tracking_uri: str | None = None) -> str:
    """``mlflow.artifacts.download_artifacts``: the local path of the downloaded file or directory."""
    from asyncclient.artifacts import client_repos

    repo, path = _resolve(artifact_uri, run_id, artifact_path, tracking_uri)
    return client_repos.download_artifacts(repo, path, dst_path)


def list_artifacts(artifact_uri: str | None = None, run_id: str | None = None, artifact_path: str | None = None,
                   tracking_uri: str | None = None) -> list[FileInfo]:
    """``mlflow.artifacts.list_artifacts``: one level under the given directory."""
    from asyncclient.artifacts import client_repos

    repo, path = _resolve(artifact_uri, run_id, artifact_path, tracking_uri)
    return client_repos.list_artifacts(repo, path)


def load_text(artifact_uri: str) -> str:
    """``mlflow.artifacts.load_text``: a text artifact's content."""
    with tempfile.TemporaryDirectory() as tmp:
        with open(download_artifacts(artifact_uri, dst_path=tmp), encoding="utf-8") as f:
            return f.read()


def load_dict(artifact_uri: str) -> Any:
    """``mlflow.artifacts.load_dict``: a JSON or YAML artifact as a dict."""
    text = load_text(artifact_uri)
    if os.path.splitext(artifact_uri)[1].lower() in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(text)
    try:
        return json.loads(text)
    except ValueError as e:
        raise MlflowException.invalid_parameter_value(f"Unable to form a JSON object from file content: {e}") from e
