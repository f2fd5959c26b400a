"""The transport interface: how batches and control-plane calls reach a store or a server.

The buffer and the batching never look past this interface, so the REST JSON path, the msgpack fast path
and the embedded store are interchangeable (OpenTelemetry's exporter split).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from asyncclient.entities import DatasetInput

MetricTuple = tuple[str, float, int, int]  # key, value, timestamp ms, step
KeyValue = tuple[str, str]


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
    async def log_batch(self, run_id: str, metrics: list[MetricTuple], params: list[KeyValue],
                        tags: list[KeyValue]) -> None: ...

    @abstractmethod
    async def delete_tag(self, run_id: str, key: str) -> None: ...

    @abstractmethod
    async def log_inputs(self, run_id: str, datasets: list[DatasetInput]) -> None: ...

    # Control-plane calls (create_run, get_run, search_runs, ...) share the names and arguments of
    # asyncclient.store.base.TrackingStore; each transport provides them as coroutines.
