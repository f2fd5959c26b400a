"""An MLflow file store folder (``./mlruns`` with ``meta.yaml`` files), read without the ``mlflow`` package.

Layout (MLflow's ``FileStore``): ``<root>/<experiment_id>/meta.yaml`` (deleted experiments under
``<root>/.trash/``), ``tags/<key>`` per experiment tag; ``<experiment>/<run_id>/meta.yaml`` with
``params/``, ``tags/`` and ``metrics/`` holding one file per key (keys with ``/`` are sub-folders), a
metric file holding ``timestamp value step`` lines; ``<run>/inputs/<id>/meta.yaml`` pointing at
``<experiment>/datasets/<id>/meta.yaml``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import yaml

from asyncclient.artifacts.client_repos import client_repository
from asyncclient.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    InputTag,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    RunTag,
)
from asyncclient.exceptions import MlflowException
from asyncclient.migrate.sources import History


def _read_yaml(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def _key_files(folder: str) -> Iterator[tuple[str, str]]:
    """(key, file path) for every file under ``folder``; a key's ``/`` is a sub-folder on disk."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            yield os.path.relpath(path, folder).replace(os.sep, "/"), path


def _read_values(folder: str) -> dict[str, str]:
    values = {}
    for key, path in _key_files(folder):
        with open(path, encoding="utf-8") as f:
            values[key] = f.read()
    return values


def _read_metric(path: str) -> list[tuple[float, int, int]]:
    points = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if parts:  # "timestamp value [step]" (very old stores wrote no step)
                points.append((float(parts[1]), int(parts[0]), int(parts[2]) if len(parts) > 2 else 0))
    return points


class FileStoreSource:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        self.uri = "file://" + self.root
        self._folders: dict[str, str] = {}
        if not self._experiment_folders():
            raise MlflowException.invalid_parameter_value(
                f"{root} is not an MLflow file store: no <experiment>/meta.yaml in it.")

    def _experiment_folders(self) -> dict[str, str]:
        if not self._folders:
            for parent in (self.root, os.path.join(self.root, ".trash")):
                if not os.path.isdir(parent):
                    continue
                for name in sorted(os.listdir(parent)):
                    meta = os.path.join(parent, name, "meta.yaml")
                    if os.path.isfile(meta):
                        self._folders[name] = os.path.join(parent, name)
        return self._folders

    def experiments(self) -> list[Experiment]:
        found = []
        for folder in self._experiment_folders().values():
            meta = _read_yaml(os.path.join(folder, "meta.yaml"))
            tags = [ExperimentTag(k, v) for k, v in _read_values(os.path.join(folder, "tags")).items()]
            found.append(Experiment(str(meta["experiment_id"]), meta["name"], meta.get("artifact_location"),
                                    meta.get("lifecycle_stage", "active"), tags, meta.get("creation_time"),
                                    meta.get("last_update_time")))
        return found

    def runs(self, experiment_id: str) -> Iterator[Run]:
        folder = self._experiment_folders()[experiment_id]
        for name in sorted(os.listdir(folder)):
            meta_path = os.path.join(folder, name, "meta.yaml")
            if name not in ("tags", "datasets") and os.path.isfile(meta_path):
                yield self._run(folder, os.path.join(folder, name), _read_yaml(meta_path))

    def _run(self, experiment_folder: str, folder: str, meta: dict) -> Run:
        tags = _read_values(os.path.join(folder, "tags"))
        status = meta.get("status", RunStatus.RUNNING)
        info = RunInfo(meta["run_id"], str(meta["experiment_id"]), meta.get("user_id"),
                       RunStatus.to_string(status) if isinstance(status, int) else status,
                       meta.get("start_time"), meta.get("end_time"), meta.get("lifecycle_stage", "active"),
                       meta.get("artifact_uri"), meta.get("run_name") or tags.get("mlflow.runName"))
        latest = []
        for key, points in self._history(folder).items():
            value, timestamp, step = max(points, key=lambda p: (p[2], p[1], p[0]))
            latest.append(Metric(key, value, timestamp, step))
        params = [Param(k, v) for k, v in _read_values(os.path.join(folder, "params")).items()]
        data = RunData(latest, params, [RunTag(k, v) for k, v in tags.items()])
        return Run(info, data, RunInputs(self._inputs(experiment_folder, folder)))

    @staticmethod
    def _inputs(experiment_folder: str, folder: str) -> list[DatasetInput]:
        inputs_folder = os.path.join(folder, "inputs")
        if not os.path.isdir(inputs_folder):
            return []
        found = []
        for name in sorted(os.listdir(inputs_folder)):
            meta = _read_yaml(os.path.join(inputs_folder, name, "meta.yaml"))
            if meta.get("source_type") != "DATASET":
                continue
            ds = _read_yaml(os.path.join(experiment_folder, "datasets", meta["source_id"], "meta.yaml"))
            dataset = Dataset(ds["name"], ds["digest"], ds["source_type"], ds["source"], ds.get("schema"),
                              ds.get("profile"))
            found.append(DatasetInput(dataset, [InputTag(k, v) for k, v in (meta.get("tags") or {}).items()]))
        return found

    @staticmethod
    def _history(folder: str) -> History:
        return {key: _read_metric(path) for key, path in _key_files(os.path.join(folder, "metrics"))}

    def metric_history(self, run: Run) -> History:
        folder = os.path.join(self._experiment_folders()[run.info.experiment_id], run.info.run_id)
        return self._history(folder)

    def metric_histories(self, runs: list[Run]) -> dict[str, History]:
        return {run.info.run_id: self.metric_history(run) for run in runs}

    def artifact_repository(self, run: Run):
        uri = run.info.artifact_uri
        return client_repository(uri) if uri else None

    def close(self) -> None:
        return None
