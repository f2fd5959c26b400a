"""MLflow's REST JSON shapes <-> entities, used by the REST transport and by the server.

Conventions (mlflow-rest-compat.md §0): snake_case fields, int64 as JSON numbers, NaN/±Inf doubles as the
strings "NaN"/"Infinity"/"-Infinity", unset fields omitted.
"""

from __future__ import annotations

import math

from asyncclient.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    FileInfo,
    InputTag,
    Metric,
    MetricWithRunId,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
)

SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def double_to_json(x: float):
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def double_from_json(x) -> float:
    if isinstance(x, str):
        special = SPECIAL_DOUBLES.get(x)
        if special is not None:
            return special
    return float(x)


def int_from_json(x) -> int | None:
    return None if x is None else int(x)


# ---- entities -> JSON (server responses, client requests) ----

def metric_to_json(m: Metric) -> dict:
    d = {"key": m.key, "value": double_to_json(m.value), "timestamp": m.timestamp, "step": m.step}
    if isinstance(m, MetricWithRunId) or (m.run_id is not None):
        d["run_id"] = m.run_id
    return d


def run_info_to_json(info: RunInfo) -> dict:
    d = {
        "run_uuid": info.run_id, "run_id": info.run_id, "run_name": info.run_name,
        "experiment_id": info.experiment_id, "user_id": info.user_id, "status": info.status,
        "start_time": info.start_time, "end_time": info.end_time,
        "artifact_uri": info.artifact_uri, "lifecycle_stage": info.lifecycle_stage,
    }
    return {k: v for k, v in d.items() if v is not None}


def dataset_input_to_json(di: DatasetInput) -> dict:
    ds = di.dataset
    dataset = {"name": ds.name, "digest": ds.digest, "source_type": ds.source_type, "source": ds.source}
    if ds.schema is not None:
        dataset["schema"] = ds.schema
    if ds.profile is not None:
        dataset["profile"] = ds.profile
    out = {"dataset": dataset}
    if di.tags:
        out["tags"] = [{"key": t.key, "value": t.value} for t in di.tags]
    return out


def run_to_json(run: Run) -> dict:
    data = {}
    if run.data._metric_objs:
        data["metrics"] = [
            {"key": m.key, "value": double_to_json(m.value), "timestamp": m.timestamp, "step": m.step}
            for m in run.data._metric_objs
        ]
    if run.data.params:
        data["params"] = [{"key": k, "value": v} for k, v in run.data.params.items()]
    if run.data.tags:
        data["tags"] = [{"key": k, "value": v} for k, v in run.data.tags.items()]
    inputs = {}
    if run.inputs.dataset_inputs:
        inputs["dataset_inputs"] = [dataset_input_to_json(d) for d in run.inputs.dataset_inputs]
    return {"info": run_info_to_json(run.info), "data": data, "inputs": inputs, "outputs": {}}


def experiment_to_json(e: Experiment) -> dict:
    d = {
        "experiment_id": e.experiment_id, "name": e.name, "artifact_location": e.artifact_location,
        "lifecycle_stage": e.lifecycle_stage, "last_update_time": e.last_update_time,
        "creation_time": e.creation_time,
    }
    d = {k: v for k, v in d.items() if v is not None}
    if e.tags:
        d["tags"] = [{"key": k, "value": v} for k, v in e.tags.items()]
    return d


def file_info_to_json(f: FileInfo) -> dict:
    d = {"path": f.path, "is_dir": f.is_dir}
    if f.file_size:
        d["file_size"] = f.file_size
    return d


# ---- JSON -> entities (client side, and server request parsing) ----

def _get(d: dict, snake: str, camel: str | None = None, default=None):
    if snake in d:
        return d[snake]
    if camel is not None and camel in d:
        return d[camel]
    return default


def metric_from_json(d: dict) -> Metric:
    run_id = d.get("run_id")
    cls = MetricWithRunId if run_id is not None else Metric
    return cls(d["key"], double_from_json(d["value"]), int(d.get("timestamp", 0)), int(d.get("step", 0) or 0), run_id)


def run_info_from_json(d: dict) -> RunInfo:
    return RunInfo(
        run_id=_get(d, "run_id", "runId") or _get(d, "run_uuid", "runUuid"),
        experiment_id=_get(d, "experiment_id", "experimentId"),
        user_id=_get(d, "user_id", "userId", ""),
        status=d.get("status", "RUNNING"),
        start_time=int_from_json(_get(d, "start_time", "startTime")),
        end_time=int_from_json(_get(d, "end_time", "endTime")),
        lifecycle_stage=_get(d, "lifecycle_stage", "lifecycleStage", "active"),
        artifact_uri=_get(d, "artifact_uri", "artifactUri"),
        run_name=_get(d, "run_name", "runName"),
    )


def dataset_input_from_json(d: dict) -> DatasetInput:
    ds = d["dataset"]
    return DatasetInput(
        Dataset(ds["name"], ds["digest"], _get(ds, "source_type", "sourceType"), ds["source"],
                ds.get("schema"), ds.get("profile")),
        [InputTag(t["key"], t["value"]) for t in d.get("tags", [])],
    )


def run_from_json(d: dict) -> Run:
    data = d.get("data", {})
    inputs = d.get("inputs", {})
    return Run(
        run_info_from_json(d["info"]),
        RunData(
            [metric_from_json(m) for m in data.get("metrics", [])],
            [Param(p["key"], p.get("value", "")) for p in data.get("params", [])],
            [RunTag(t["key"], t.get("value", "")) for t in data.get("tags", [])],
        ),
        RunInputs([dataset_input_from_json(x) for x in _get(inputs, "dataset_inputs", "datasetInputs", [])]),
    )


def experiment_from_json(d: dict) -> Experiment:
    return Experiment(
        experiment_id=_get(d, "experiment_id", "experimentId"),
        name=d["name"],
        artifact_location=_get(d, "artifact_location", "artifactLocation"),
        lifecycle_stage=_get(d, "lifecycle_stage", "lifecycleStage", "active"),
        tags=[ExperimentTag(t["key"], t.get("value", "")) for t in d.get("tags", [])],
        creation_time=int_from_json(_get(d, "creation_time", "creationTime")),
        last_update_time=int_from_json(_get(d, "last_update_time", "lastUpdateTime")),
    )


def file_info_from_json(d: dict) -> FileInfo:
    size = _get(d, "file_size", "fileSize")
    return FileInfo(d["path"], bool(_get(d, "is_dir", "isDir", False)), int(size) if size is not None else None)
