"""The transport interface: how batches and control-plane calls reach a store or a server.

The buffer and the batching never look past this interface, so the REST JSON path, the msgpack fast path
and the embedded store are interchangeable (OpenTelemetry's exporter split).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from itertools import chain

from asyncclient.entities import DatasetInput

MetricTuple = tuple[str, float, int, int]  # key, value, timestamp ms, step
KeyValue = tuple[str, str]
class MetricRecords:
    """A batch's metric points as column chunks (keys, values, timestamps, steps), as the ring decoded them.

    Iterating yields (key, value, timestamp, step) tuples one at a time; ``columns()`` gives the whole
    batch as columns. Keeping points as columns, not a tuple each, keeps the garbage collector quiet,
    which is worth a fifth of embedded ingest throughput.
    """

    __slots__ = ("chunks", "n")

    def __init__(self):
        self.chunks: list[tuple[Sequence, Sequence, Sequence, Sequence]] = []
        self.n = 0

    def add(self, keys: Sequence[str], values: Sequence[float], timestamps: Sequence[int],
            steps: Sequence[int]) -> None:
        self.chunks.append((keys, values, timestamps, steps))
        self.n += len(keys)

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        return chain.from_iterable(zip(*chunk, strict=True) for chunk in self.chunks)

    def keys(self) -> set[str]:
        return set().union(*(chunk[0] for chunk in self.chunks))

    def columns(self) -> tuple[Sequence, Sequence, Sequence, Sequence]:
        """(keys, values, timestamps, steps)."""
        if len(self.chunks) == 1:
            return self.chunks[0]
        if not self.chunks:
            return (), (), (), ()
        return tuple(list(chain.from_iterable(c[i] for c in self.chunks)) for i in range(4))  # type: ignore


class TransientError(Exception):
    """A failure worth retrying (connection refused, timeout, 408/429/5xx); carries Retry-After if sent."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class BatchLimits:
    """How large one log-batch may be for this destination (MLflow's limits unless the server says more)."""

    def __init__(self, metrics: int = 1000, params: int = 100, tags: int = 100, entities: int = 1000,
                 body_bytes: int = 1_000_000):
        self.metrics, self.params, self.tags, self.entities, self.body_bytes = (
            metrics, params, tags, entities, body_bytes)


class Transport(ABC):
    """Async operations run on the worker's event loop; errors are MlflowException or TransientError."""

    uri: str
    limits: BatchLimits = BatchLimits()

    async def start(self) -> None:
        """Connect and discover capabilities (called once on the worker loop)."""
        return None

    async def close(self) -> None:
        """Release connections."""
        return None

    @abstractmethod
    async def log_batch(self, run_id: str, metrics: MetricRecords | list[MetricTuple], params: list[KeyValue],
                        tags: list[KeyValue]) -> None:
        """``metrics`` iterates as (key, value, timestamp, step) tuples (a MetricRecords or a list)."""

    @abstractmethod
    async def delete_tag(self, run_id: str, key: str) -> None: ...

    @abstractmethod
    async def log_inputs(self, run_id: str, datasets: list[DatasetInput]) -> None: ...

    @abstractmethod
    async def update_run_info(self, run_id: str, run_status, end_time: int | None, run_name: str | None):
        """Ends a run (queued behind its data as an end-of-run record) or renames it."""

    # The control plane: what MlflowClient asks synchronously. Same names and arguments as
    # asyncclient.store.base.TrackingStore; each transport provides them as coroutines (the REST transport
    # writes them out; the embedded one runs the store's method of the same name on its store thread).
    CONTROL_PLANE = (
        "create_experiment", "get_experiment", "get_experiment_by_name", "search_experiments",
        "rename_experiment", "delete_experiment", "restore_experiment", "set_experiment_tag",
        "delete_experiment_tag", "create_run", "get_run", "delete_run", "restore_run", "get_metric_history",
        "search_runs",
    )
