from asyncclient.entities._base import Entity


class Metric(Entity):
    """One metric point (``mlflow.entities.Metric``)."""

    __slots__ = ("_key", "_value", "_timestamp", "_step", "_run_id")

    def __init__(self, key: str, value: float, timestamp: int, step: int, run_id: str | None = None):
        self._key, self._value, self._timestamp, self._step, self._run_id = key, value, timestamp, step, run_id

    key = property(lambda self: self._key)
    value = property(lambda self: self._value)
    timestamp = property(lambda self: self._timestamp)
    step = property(lambda self: self._step)
    run_id = property(lambda self: self._run_id)

    def _fields(self):
        return ("key", "value", "timestamp", "step")

    def __eq__(self, other):
        # NaN == NaN here, as MLflow compares metrics by their serialized form.
        return isinstance(other, Metric) and (self._key, self._timestamp, self._step) == (
            other._key, other._timestamp, other._step
        ) and (self._value == other._value or (self._value != self._value and other._value != other._value))

    def __hash__(self):
        return hash((self._key, self._timestamp, self._step))


class MetricWithRunId(Metric):
    """A metric point tagged with its run, as returned by the bulk history endpoints."""

    __slots__ = ()

    def _fields(self):
        return ("key", "value", "timestamp", "step", "run_id")
