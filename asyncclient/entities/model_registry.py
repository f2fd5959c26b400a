"""Model Registry entities (``mlflow.entities.model_registry``)."""

from __future__ import annotations

from asyncclient.entities._base import Entity


class ModelVersion(Entity):
    """``mlflow.entities.model_registry.ModelVersion``: ``version`` is a string, as in MLflow."""

    __slots__ = ("_name", "_version", "_creation_timestamp", "_last_updated_timestamp", "_description",
                 "_user_id", "_current_stage", "_source", "_run_id", "_status", "_status_message", "_tags",
                 "_run_link", "_aliases", "_model_id", "_storage_location")

    def __init__(self, name: str, version: str, creation_timestamp: int, last_updated_timestamp: int | None = None,
                 description: str | None = None, user_id: str | None = None, current_stage: str = "None",
                 source: str | None = None, run_id: str | None = None, status: str = "READY",
                 status_message: str | None = None, tags: dict[str, str] | None = None,
                 run_link: str | None = None, aliases: list[str] | None = None, model_id: str | None = None,
                 storage_location: str | None = None):
        self._name, self._version = name, str(version)
        self._creation_timestamp, self._last_updated_timestamp = creation_timestamp, last_updated_timestamp
        self._description, self._user_id, self._current_stage = description, user_id, current_stage
        self._source, self._run_id, self._status, self._status_message = source, run_id, status, status_message
        self._tags, self._run_link, self._aliases = dict(tags or {}), run_link, list(aliases or [])
        self._model_id, self._storage_location = model_id, storage_location

    name = property(lambda self: self._name)
    version = property(lambda self: self._version)
    creation_timestamp = property(lambda self: self._creation_timestamp)
    last_updated_timestamp = property(lambda self: self._last_updated_timestamp)
    description = property(lambda self: self._description)
    user_id = property(lambda self: self._user_id)
    current_stage = property(lambda self: self._current_stage)
    source = property(lambda self: self._source)
    run_id = property(lambda self: self._run_id)
    status = property(lambda self: self._status)
    status_message = property(lambda self: self._status_message)
    tags = property(lambda self: self._tags)
    run_link = property(lambda self: self._run_link)
    aliases = property(lambda self: self._aliases)
    model_id = property(lambda self: self._model_id)
    storage_location = property(lambda self: self._storage_location)


class RegisteredModel(Entity):
    """``mlflow.entities.model_registry.RegisteredModel``; ``aliases`` maps alias -> version string."""

    __slots__ = ("_name", "_creation_timestamp", "_last_updated_timestamp", "_description",
                 "_latest_versions", "_tags", "_aliases")

    def __init__(self, name: str, creation_timestamp: int | None = None, last_updated_timestamp: int | None = None,
                 description: str | None = None, latest_versions: list[ModelVersion] | None = None,
                 tags: dict[str, str] | None = None, aliases: dict[str, str] | None = None):
        self._name = name
        self._creation_timestamp, self._last_updated_timestamp = creation_timestamp, last_updated_timestamp
        self._description = description
        self._latest_versions = list(latest_versions or [])
        self._tags, self._aliases = dict(tags or {}), dict(aliases or {})

    name = property(lambda self: self._name)
    creation_timestamp = property(lambda self: self._creation_timestamp)
    last_updated_timestamp = property(lambda self: self._last_updated_timestamp)
    description = property(lambda self: self._description)
    latest_versions = property(lambda self: self._latest_versions)
    tags = property(lambda self: self._tags)
    aliases = property(lambda self: self._aliases)
