from asyncclient.entities._base import Entity
from asyncclient.entities.dataset import RunInputs
from asyncclient.entities.metric import Metric


class Param(Entity):
    __slots__ = ("_key", "_value")

    def __init__(self, key: str, value: str):
        self._key, self._value = key, value

    key = property(lambda self: self._key)
    value = property(lambda self: self._value)


class RunTag(Entity):
    __slots__ = ("_key", "_value")

    def __init__(self, key: str, value: str):
        self._key, self._value = key, value

    key = property(lambda self: self._key)
    value = property(lambda self: self._value)


class RunInfo(Entity):
    """Run metadata (``mlflow.entities.RunInfo``); ``status`` is the name, e.g. ``"RUNNING"``."""

    __slots__ = ("_run_id", "_experiment_id", "_user_id", "_status", "_start_time", "_end_time",
                 "_lifecycle_stage", "_artifact_uri", "_run_name")

    def __init__(self, run_id, experiment_id, user_id, status, start_time, end_time, lifecycle_stage,
                 artifact_uri=None, run_name=None, run_uuid=None):
        self._run_id = run_id or run_uuid
        self._experiment_id = str(experiment_id)
        self._user_id = user_id
        self._status = status
        self._start_time = start_time
        self._end_time = end_time
        self._lifecycle_stage = lifecycle_stage
        self._artifact_uri = artifact_uri
        self._run_name = run_name

    run_id = property(lambda self: self._run_id)
    run_uuid = property(lambda self: self._run_id)
    experiment_id = property(lambda self: self._experiment_id)
    user_id = property(lambda self: self._user_id)
    status = property(lambda self: self._status)
    start_time = property(lambda self: self._start_time)
    end_time = property(lambda self: self._end_time)
    lifecycle_stage = property(lambda self: self._lifecycle_stage)
    artifact_uri = property(lambda self: self._artifact_uri)
    run_name = property(lambda self: self._run_name)


class RunData(Entity):
    """Latest metrics, params and tags of a run, each a dict as in ``mlflow.entities.RunData``."""

    __slots__ = ("_metric_objs", "_metrics", "_params", "_tags")

    def __init__(self, metrics: list[Metric] | None = None, params=None, tags=None):
        self._metric_objs = list(metrics or [])
        self._metrics = {m.key: m.value for m in self._metric_objs}
        self._params = {p.key: p.value for p in (params or [])}
        self._tags = {t.key: t.value for t in (tags or [])}

    metrics = property(lambda self: self._metrics)
    params = property(lambda self: self._params)
    tags = property(lambda self: self._tags)

    def _fields(self):
        return ("metrics", "params", "tags")


class Run(Entity):
    """A run: ``info``, ``data`` and ``inputs`` (``mlflow.entities.Run``)."""

    __slots__ = ("_info", "_data", "_inputs")

    def __init__(self, run_info: RunInfo, run_data: RunData | None = None, run_inputs: RunInputs | None = None):
        self._info = run_info
        self._data = run_data or RunData()
        self._inputs = run_inputs or RunInputs()

    info = property(lambda self: self._info)
    data = property(lambda self: self._data)
    inputs = property(lambda self: self._inputs)

    def to_dictionary(self):
        return {"info": self._info.to_dictionary(), "data": self._data.to_dictionary()}
