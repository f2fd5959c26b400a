"""MLflow 3's LoggedModel (``mlflow.entities.LoggedModel``) and its run edges."""

from __future__ import annotations

from asyncclient.entities._base import Entity
from asyncclient.entities.metric import Metric


class LoggedModelStatus:
    """``mlflow.entities.LoggedModelStatus``: the proto enum names and numbers."""

    UNSPECIFIED, PENDING, READY, UPLOAD_FAILED = 0, 1, 2, 3
    _NAMES = {"LOGGED_MODEL_STATUS_UNSPECIFIED": 0, "LOGGED_MODEL_PENDING": 1, "LOGGED_MODEL_READY": 2,
              "LOGGED_MODEL_UPLOAD_FAILED": 3}
    _BY_NUMBER = {v: k for k, v in _NAMES.items()}

    @classmethod
    def to_string(cls, status: int) -> str:
        return cls._BY_NUMBER[status]


class LoggedModel(Entity):
    """A model logged by MLflow 3's ``log_model``: ``models:/<model_id>`` names its artifacts."""

    __slots__ = ("_model_id", "_experiment_id", "_name", "_artifact_location", "_creation_timestamp",
                 "_last_updated_timestamp", "_status", "_model_type", "_source_run_id", "_status_message",
                 "_tags", "_params", "_metrics")

    def __init__(self, model_id: str, experiment_id: str, name: str, artifact_location: str,
                 creation_timestamp: int, last_updated_timestamp: int, status: int,
                 model_type: str | None = None, source_run_id: str | None = None,
                 status_message: str | None = None, tags: dict[str, str] | None = None,
                 params: dict[str, str] | None = None, metrics: list[Metric] | None = None):
        self._model_id, self._experiment_id, self._name = model_id, str(experiment_id), name
        self._artifact_location = artifact_location
        self._creation_timestamp, self._last_updated_timestamp = creation_timestamp, last_updated_timestamp
        self._status, self._model_type, self._source_run_id = status, model_type, source_run_id
        self._status_message = status_message
        self._tags, self._params, self._metrics = dict(tags or {}), dict(params or {}), list(metrics or [])

    model_id = property(lambda self: self._model_id)
    experiment_id = property(lambda self: self._experiment_id)
    name = property(lambda self: self._name)
    artifact_location = property(lambda self: self._artifact_location)
    creation_timestamp = property(lambda self: self._creation_timestamp)
    last_updated_timestamp = property(lambda self: self._last_updated_timestamp)
    status = property(lambda self: self._status)
    model_type = property(lambda self: self._model_type)
    source_run_id = property(lambda self: self._source_run_id)
    status_message = property(lambda self: self._status_message)
    tags = property(lambda self: self._tags)
    params = property(lambda self: self._params)
    metrics = property(lambda self: self._metrics)

    @property
    def model_uri(self) -> str:
        return f"models:/{self._model_id}"


class ModelMetric(Entity):
    """A metric point linked to a logged model (``Metric`` with ``model_id`` and dataset in MLflow 3)."""

    __slots__ = ("_model_id", "_key", "_value", "_timestamp", "_step", "_dataset_name", "_dataset_digest")

    def __init__(self, model_id: str, key: str, value: float, timestamp: int, step: int,
                 dataset_name: str | None = None, dataset_digest: str | None = None):
        self._model_id, self._key, self._value = model_id, key, value
        self._timestamp, self._step = timestamp, step
        self._dataset_name, self._dataset_digest = dataset_name, dataset_digest

    model_id = property(lambda self: self._model_id)
    key = property(lambda self: self._key)
    value = property(lambda self: self._value)
    timestamp = property(lambda self: self._timestamp)
    step = property(lambda self: self._step)
    dataset_name = property(lambda self: self._dataset_name)
    dataset_digest = property(lambda self: self._dataset_digest)


class LoggedModelOutput(Entity):
    """``mlflow.entities.LoggedModelOutput``: a run produced this model at this step."""

    __slots__ = ("_model_id", "_step")

    def __init__(self, model_id: str, step: int = 0):
        self._model_id, self._step = model_id, step

    model_id = property(lambda self: self._model_id)
    step = property(lambda self: self._step)
