from asyncclient.entities._base import Entity


class ExperimentTag(Entity):
    __slots__ = ("_key", "_value")

    def __init__(self, key: str, value: str):
        self._key, self._value = key, value

    key = property(lambda self: self._key)
    value = property(lambda self: self._value)


class Experiment(Entity):
    """An experiment (``mlflow.entities.Experiment``); ``tags`` is a dict as in MLflow."""

    __slots__ = ("_experiment_id", "_name", "_artifact_location", "_lifecycle_stage", "_tags",
                 "_creation_time", "_last_update_time")

    def __init__(self, experiment_id, name, artifact_location, lifecycle_stage, tags=None,
                 creation_time=None, last_update_time=None):
        self._experiment_id = str(experiment_id)
        self._name = name
        self._artifact_location = artifact_location
        self._lifecycle_stage = lifecycle_stage
        if isinstance(tags, list):
            tags = {t.key: t.value for t in tags}
        self._tags = dict(tags or {})
        self._creation_time = creation_time
        self._last_update_time = last_update_time

    experiment_id = property(lambda self: self._experiment_id)
    name = property(lambda self: self._name)
    artifact_location = property(lambda self: self._artifact_location)
    lifecycle_stage = property(lambda self: self._lifecycle_stage)
    tags = property(lambda self: self._tags)
    creation_time = property(lambda self: self._creation_time)
    last_update_time = property(lambda self: self._last_update_time)
