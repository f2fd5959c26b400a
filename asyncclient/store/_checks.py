"""Store-side input checks (MLflow's ``mlflow/utils/validation.py`` as called by ``SqlAlchemyStore``).

The rules themselves live in ``asyncclient/validation.py``; this module applies them to whole batches and
to the entities the store receives, returning normalized values.
"""

from __future__ import annotations

import math

from asyncclient import validation as v
from asyncclient.entities import DatasetInput, ExperimentTag, Metric, Param, RunTag
from asyncclient.exceptions import MlflowException

# NB: SQL cannot store infinities; MLflow's SQL store replaces them with the largest finite double.
_MAX_DOUBLE = 1.7976931348623157e308
_INF = float("inf")


def sanitize_metric_value(value: float) -> tuple[bool, float]:
    """(is_nan, stored value): NaN -> (True, 0), ±inf -> ±max double (``SqlAlchemyStore.sanitize_metric_value``)."""
    if math.isnan(value):
        return True, 0.0
    if math.isinf(value):
        return False, _MAX_DOUBLE if value > 0 else -_MAX_DOUBLE
    return False, value


def _length(what: str, limit: int, value: str) -> None:
    if value is not None and len(value) > limit:
        raise MlflowException.invalid_parameter_value(
            f"'{what}' exceeds the maximum length of {limit} characters")


def check_experiment_tag(tag: ExperimentTag) -> None:
    v.validate_key(tag.key, "tag")
    _length("key", v.MAX_EXPERIMENT_TAG_KEY_LENGTH, tag.key)
    _length("value", v.MAX_EXPERIMENT_TAG_VAL_LENGTH, tag.value)


def check_tags(tags: list[RunTag]) -> dict[str, str]:
    """Validated run tags as a dict; within a batch the last value for a key wins."""
    out: dict[str, str] = {}
    for tag in tags:
        v.validate_key(tag.key, "tag")
        out[tag.key] = v.tag_value(tag.key, "" if tag.value is None else tag.value)
    return out


def check_params(params: list[Param]) -> dict[str, str]:
    """Validated params as a dict. A key repeated with another value in one batch is an error (MLflow's
    ``_validate_param_keys_unique``); an identical repeat, as a retried write produces, is accepted."""
    out: dict[str, str] = {}
    for param in params:
        v.validate_key(param.key, "param")
        value = v.param_value(param.key, "" if param.value is None else param.value)
        if param.key in out and out[param.key] != value:
            raise MlflowException.invalid_parameter_value(
                f"Duplicate parameter keys have been submitted: ['{param.key}']. Please ensure the request "
                "contains only one param value per param key.")
        out[param.key] = value
    return out


def check_metrics(metrics: list[Metric]) -> list[tuple[str, int, int, float, bool]]:
    """(key, timestamp, step, stored value, is_nan) per metric, validated.

    Hot path of ingest: the common case (known key, float value, int timestamp and step) is checked with
    type tests only; anything else goes through the full rules in ``asyncclient.validation``.
    """
    known = v._known_good_keys
    rows = []
    append = rows.append
    for m in metrics:
        key, value, ts, step = m.key, m.value, m.timestamp, m.step
        if key not in known:
            v.validate_key(key, "metric")
        if type(value) is not float:
            value = v.metric_value(value, key)
        if type(ts) is not int or ts < 0:
            ts = v.metric_timestamp(ts, key)
        if type(step) is not int:
            step = v.metric_step(step, key)
        if value != value:  # NaN
            append((key, ts, step, 0.0, True))
        elif value == _INF or value == -_INF:
            append((key, ts, step, _MAX_DOUBLE if value > 0 else -_MAX_DOUBLE, False))
        else:
            append((key, ts, step, value, False))
    return rows


def check_dataset_inputs(dataset_inputs: list[DatasetInput]) -> list[DatasetInput]:
    """Validated inputs, deduplicated by (name, digest) keeping the first (MLflow's ``_log_inputs_impl``)."""
    unique: dict[tuple[str, str], DatasetInput] = {}
    for di in dataset_inputs:
        ds = di.dataset
        if ds is None:
            raise MlflowException.invalid_parameter_value("Dataset cannot be None")
        for field in ("name", "digest", "source_type", "source"):
            if getattr(ds, field) is None:
                raise MlflowException.invalid_parameter_value(f"Dataset {field} cannot be None")
        _length("name", v.MAX_DATASET_NAME_SIZE, ds.name)
        _length("digest", v.MAX_DATASET_DIGEST_SIZE, ds.digest)
        _length("source", v.MAX_DATASET_SOURCE_SIZE, ds.source)
        _length("schema", v.MAX_DATASET_SCHEMA_SIZE, ds.schema)
        _length("profile", v.MAX_DATASET_PROFILE_SIZE, ds.profile)
        for tag in di.tags:
            if tag.key is None or tag.value is None:
                raise MlflowException.invalid_parameter_value("Input tag key and value cannot be None")
            _length("key", v.MAX_INPUT_TAG_KEY_SIZE, tag.key)
            _length("value", v.MAX_INPUT_TAG_VALUE_SIZE, tag.value)
        unique.setdefault((ds.name, ds.digest), di)
    return list(unique.values())
