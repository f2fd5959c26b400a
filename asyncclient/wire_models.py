"""MLflow's REST JSON shapes of LoggedModels, registered models and model versions, both directions.

Shapes follow MLflow's protos as its server emits them (proto2 presence): strings MLflow always sets
(``model_type``, ``source_run_id``, a version's ``description``, ``run_id``, ``run_link``) are emitted even
when empty; optional ones are omitted when unset.
"""

from __future__ import annotations

from asyncclient.entities import LoggedModel, LoggedModelStatus, Metric, ModelVersion, RegisteredModel
from asyncclient.wire import double_from_json, double_to_json


def _pairs(d: dict) -> list[dict]:
    return [{"key": k, "value": v} for k, v in d.items()]


def model_metric_to_json(m: Metric) -> dict:
    d = {"key": m.key, "value": double_to_json(m.value), "timestamp": m.timestamp, "step": m.step}
    for name in ("dataset_name", "dataset_digest", "model_id", "run_id"):
        value = getattr(m, name, None)
        if value:
            d[name] = value
    return d


def logged_model_to_json(lm: LoggedModel) -> dict:
    info = {
        "model_id": lm.model_id, "experiment_id": lm.experiment_id, "name": lm.name,
        "creation_timestamp_ms": lm.creation_timestamp, "last_updated_timestamp_ms": lm.last_updated_timestamp,
        "artifact_uri": lm.artifact_location, "status": LoggedModelStatus.to_string(lm.status),
        "model_type": lm.model_type or "", "source_run_id": lm.source_run_id or "",
    }
    if lm.status_message:
        info["status_message"] = lm.status_message
    if lm.tags:
        info["tags"] = _pairs(lm.tags)
    data = {}
    if lm.params:
        data["params"] = _pairs(lm.params)
    if lm.metrics:
        data["metrics"] = [model_metric_to_json(m) for m in lm.metrics]
    return {"info": info, "data": data}


def logged_model_from_json(d: dict) -> LoggedModel:
    info, data = d.get("info", {}), d.get("data", {})
    status = info.get("status", "LOGGED_MODEL_STATUS_UNSPECIFIED")
    metrics = [Metric(m["key"], double_from_json(m["value"]), int(m["timestamp"]), int(m.get("step", 0)),
                      m.get("run_id")) for m in data.get("metrics", [])]
    return LoggedModel(
        info["model_id"], info["experiment_id"], info.get("name"), info.get("artifact_uri"),
        int(info.get("creation_timestamp_ms", 0)), int(info.get("last_updated_timestamp_ms", 0)),
        LoggedModelStatus._NAMES.get(status, 0) if isinstance(status, str) else int(status),
        info.get("model_type") or None, info.get("source_run_id") or None, info.get("status_message"),
        {t["key"]: t.get("value", "") for t in info.get("tags", [])},
        {p["key"]: p.get("value", "") for p in data.get("params", [])}, metrics)


def model_version_to_json(mv: ModelVersion) -> dict:
    d = {"name": mv.name, "version": mv.version, "creation_timestamp": mv.creation_timestamp,
         "last_updated_timestamp": mv.last_updated_timestamp}
    if mv.user_id:
        d["user_id"] = mv.user_id
    d.update({"current_stage": mv.current_stage, "description": mv.description or "", "source": mv.source or "",
              "run_id": mv.run_id or "", "status": mv.status})
    if mv.status_message:
        d["status_message"] = mv.status_message
    if mv.tags:
        d["tags"] = _pairs(mv.tags)
    d["run_link"] = mv.run_link or ""
    if mv.aliases:
        d["aliases"] = list(mv.aliases)
    return d


def model_version_from_json(d: dict) -> ModelVersion:
    return ModelVersion(
        d["name"], d["version"], d.get("creation_timestamp"), d.get("last_updated_timestamp"),
        d.get("description") or None, d.get("user_id") or None, d.get("current_stage", "None"), d.get("source"),
        d.get("run_id") or None, d.get("status", "READY"), d.get("status_message"),
        {t["key"]: t.get("value", "") for t in d.get("tags", [])}, d.get("run_link") or None,
        list(d.get("aliases", [])), d.get("model_id") or None)


def registered_model_to_json(rm: RegisteredModel) -> dict:
    d = {"name": rm.name, "creation_timestamp": rm.creation_timestamp,
         "last_updated_timestamp": rm.last_updated_timestamp}
    if rm.description:
        d["description"] = rm.description
    if rm.latest_versions:
        d["latest_versions"] = [model_version_to_json(v) for v in rm.latest_versions]
    if rm.tags:
        d["tags"] = _pairs(rm.tags)
    if rm.aliases:
        d["aliases"] = [{"alias": a, "version": v} for a, v in rm.aliases.items()]
    return d


def registered_model_from_json(d: dict) -> RegisteredModel:
    return RegisteredModel(
        d["name"], d.get("creation_timestamp"), d.get("last_updated_timestamp"), d.get("description") or None,
        [model_version_from_json(v) for v in d.get("latest_versions", [])],
        {t["key"]: t.get("value", "") for t in d.get("tags", [])},
        {a["alias"]: a["version"] for a in d.get("aliases", [])})
