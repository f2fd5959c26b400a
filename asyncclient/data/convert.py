"""Datasets and dataset inputs from asyncclient's or MLflow's objects, checked at the call site."""

from __future__ import annotations

from typing import Any

from asyncclient import validation as v
from asyncclient.entities import Dataset as DatasetEntity
from asyncclient.entities import DatasetInput, InputTag
from asyncclient.exceptions import MlflowException

DATASET_CONTEXT_TAG = "mlflow.data.context"  # MLflow's MLFLOW_DATASET_CONTEXT

_LIMITS = (("name", v.MAX_DATASET_NAME_SIZE), ("digest", v.MAX_DATASET_DIGEST_SIZE),
           ("source", v.MAX_DATASET_SOURCE_SIZE), ("schema", v.MAX_DATASET_SCHEMA_SIZE),
           ("profile", v.MAX_DATASET_PROFILE_SIZE))


def _check_length(what: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise MlflowException.invalid_parameter_value(
            f"{what} '{value[:40]}...' had length {len(value)}, which exceeded length limit of {limit}")


def to_dataset_entity(dataset: Any) -> DatasetEntity:
    """An ``asyncclient.entities.Dataset`` from ours, from an ``mlflow.data`` dataset (anything with
    ``_to_mlflow_entity()``) or from an ``mlflow.entities.Dataset`` (copied field by field)."""
    if dataset is None:
        raise MlflowException.invalid_parameter_value("Dataset cannot be None")
    entity = dataset._to_mlflow_entity() if hasattr(dataset, "_to_mlflow_entity") else dataset
    if not isinstance(entity, DatasetEntity):
        try:
            entity = DatasetEntity(entity.name, entity.digest, entity.source_type, entity.source,
                                   getattr(entity, "schema", None), getattr(entity, "profile", None))
        except AttributeError:
            raise MlflowException.invalid_parameter_value(
                f"Expected a dataset (asyncclient.data / mlflow.data), got {type(dataset).__name__}") from None
    for field, limit in _LIMITS:
        value = getattr(entity, field)
        if value is None and field in ("name", "digest"):
            raise MlflowException.invalid_parameter_value(f"Dataset {field} cannot be None")
        _check_length(f"Dataset {field}", value, limit)
    if entity.source_type is None or entity.source is None:
        raise MlflowException.invalid_parameter_value("Dataset source and source_type cannot be None")
    return entity


def to_dataset_input(dataset: Any, context: str | None = None, tags: dict | None = None) -> DatasetInput:
    """``DatasetInput`` for ``log_input``: ``tags`` then the context tag, as MLflow orders them. An
    ``mlflow.entities.DatasetInput`` (or ours) is accepted as is, its tags kept."""
    if hasattr(dataset, "dataset") and hasattr(dataset, "tags") and not hasattr(dataset, "_to_mlflow_entity"):
        pairs = [(t.key, t.value) for t in dataset.tags]
        dataset = dataset.dataset
    else:
        pairs = []
    pairs += [(str(k), str(val)) for k, val in (tags or {}).items()]
    if context:
        pairs.append((DATASET_CONTEXT_TAG, str(context)))
    for key, value in pairs:
        _check_length("Input tag key", key, v.MAX_INPUT_TAG_KEY_SIZE)
        _check_length("Input tag value", value, v.MAX_INPUT_TAG_VALUE_SIZE)
    return DatasetInput(to_dataset_entity(dataset), [InputTag(k, val) for k, val in pairs])
