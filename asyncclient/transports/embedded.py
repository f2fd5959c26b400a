"""The embedded transport: batches go straight into the local store, in this process, no server."""

from __future__ import annotations

import asyncio
import functools

from asyncclient.entities import DatasetInput, Metric, Param, RunTag
from asyncclient.transports.base import BatchLimits, KeyValue, MetricRecords, MetricTuple, Transport


class EmbeddedTransport(Transport):
    # No HTTP body to bound: larger batches mean fewer transactions (SQLite commits dominate small ones).
    limits = BatchLimits(metrics=20_000, params=1000, tags=1000, entities=22_000, body_bytes=1 << 60)

    def __init__(self, uri: str | None):
        from asyncclient.store import store_from_uri

        self.uri = uri
        self.store = store_from_uri(uri)

    async def log_batch(self, run_id: str, metrics: MetricRecords | list[MetricTuple], params: list[KeyValue],
                        tags: list[KeyValue]) -> None:
        store = self.store
        fast = getattr(store, "log_batch_tuples", None)
        if fast is not None:
            await asyncio.to_thread(fast, run_id, metrics, params, tags)
            return
        await asyncio.to_thread(
            store.log_batch, run_id,
            [Metric(k, v, t, s) for k, v, t, s in metrics],
            [Param(k, v) for k, v in params],
            [RunTag(k, v) for k, v in tags],
        )

    async def delete_tag(self, run_id: str, key: str) -> None:
        await asyncio.to_thread(self.store.delete_tag, run_id, key)

    async def log_inputs(self, run_id: str, datasets: list[DatasetInput]) -> None:
        await asyncio.to_thread(self.store.log_inputs, run_id, datasets)

    def __getattr__(self, name: str):
        # Every other call (create_run, get_run, search_runs, ...) is the store's method of that name,
        # run in a thread so the worker loop keeps draining.
        method = getattr(self.store, name)

        @functools.wraps(method)
        async def call(*args, **kwargs):
            return await asyncio.to_thread(method, *args, **kwargs)

        return call
