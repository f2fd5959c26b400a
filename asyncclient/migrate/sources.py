"""What a source gives the copier, and ``open_source`` which picks one from a URI or a path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Protocol
from urllib.parse import unquote, urlparse

from asyncclient.artifacts.base import ArtifactRepository
from asyncclient.entities import Experiment, Run
from asyncclient.exceptions import MlflowException

# One metric's history: (value, timestamp ms, step) per point, in any order.
History = dict[str, list[tuple[float, int, int]]]

SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mssql")


class Source(Protocol):
    """Read-only access to one tracking store's experiments, runs, histories and artifacts."""

    uri: str

    def experiments(self) -> list[Experiment]:
        """Every experiment, deleted ones included."""

    def runs(self, experiment_id: str) -> Iterator[Run]:
        """Every run of the experiment (deleted ones included) with params, tags, latest metrics and inputs."""

    def metric_history(self, run: Run) -> History:
        """The full history of every metric of the run."""

    def metric_histories(self, runs: list[Run]) -> dict[str, History]:
        """``metric_history`` of several runs by run id (a server source reads them together)."""

    def artifact_repository(self, run: Run) -> ArtifactRepository | None:
        """Where the run's artifact files are read from (None: the run has no artifact location)."""

    def close(self) -> None: ...


def open_source(uri: str) -> Source:
    """The source for an MLflow server URL, an MLflow SQL database URI or an MLflow file store folder."""
    scheme = uri.split(":", 1)[0].split("+", 1)[0] if "://" in uri else ""
    if scheme in ("http", "https"):
        from asyncclient.migrate.source_tracking import TrackingSource

        return TrackingSource(uri)
    if scheme in SQL_SCHEMES:
        from asyncclient.migrate.source_sql import MlflowSqlSource

        return MlflowSqlSource(uri)
    if scheme in ("", "file"):
        path = unquote(urlparse(uri).path) if scheme == "file" else uri
        if os.path.isfile(path):  # MLflow 3's default store is a SQLite file, mlflow.db
            from asyncclient.migrate.source_sql import MlflowSqlSource

            return MlflowSqlSource("sqlite:///" + os.path.abspath(path))
        if os.path.isdir(path):
            from asyncclient.migrate.source_filestore import FileStoreSource

            return FileStoreSource(path)
        raise MlflowException.invalid_parameter_value(f"Import source '{uri}': no such file or folder.")
    raise MlflowException.invalid_parameter_value(
        f"Unsupported import source '{uri}': give an MLflow server URL (http://host:port), an MLflow "
        "database URI (sqlite:///mlflow.db, postgresql://...), or an MLflow file store folder (./mlruns).")
