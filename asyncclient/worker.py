"""The batch worker: an asyncio loop in a background thread that drains rings into log-batch requests.

Per run, entries leave in the order they were logged (one request in flight per run); different runs go out
side by side up to ``max_in_flight``. Transient failures are retried with exponential backoff and jitter
(tenacity), honouring Retry-After, for as long as the process lives; records stay in the ring until the
server acknowledged them, so a crash or a kill never loses what was logged, it only delays it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict

import tenacity

from asyncclient import wire
from asyncclient.buffer import RingBuffer, find_orphans
from asyncclient.buffer.ring import OP_DELETE_TAG, OP_INPUTS, OP_METRIC, OP_METRIC_BLOCK, OP_PARAM
from asyncclient.exceptions import MlflowException
from asyncclient.transports import TransientError, Transport, transport_for_uri
from asyncclient.transports.base import MetricRecords

_logger = logging.getLogger("asyncclient")

READ_CHUNK = 20_000  # records decoded per pass; bounds the loop's time away from its other tasks


class _Batch:
    """Entries for one log-batch request; tags keep the last value per key, as MLflow does in a batch."""

    __slots__ = ("metrics", "params", "tags", "size", "n")

    def __init__(self):
        self.metrics = MetricRecords()
        self.params: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.size = 0  # estimated request body bytes
        self.n = 0  # entries (metrics + params + tags)

    def count(self) -> int:
        return len(self.metrics) + len(self.params) + len(self.tags)

    def keys(self) -> set[str]:
        return self.metrics.keys() | set(self.params) | set(self.tags)


def plan_requests(records: list[tuple], limits) -> dict[str, list]:
    """Group records per run, in order, into _Batch objects within limits and barrier operations.

    delete-tag and log-inputs are separate endpoints: they close the batch before them so a
    set_tag → delete_tag → set_tag sequence reaches the server in that order.
    """
    plans: dict[str, list] = defaultdict(list)
    open_batch: dict[str, _Batch] = {}
    max_metrics, max_entities, max_body = limits.metrics, limits.entities, limits.body_bytes
    for rec in records:
        op = rec[0]
        if op == OP_METRIC_BLOCK:  # the hot case: a run of points as columns
            _plan_metric_block(rec, plans, open_batch, max_metrics, max_entities, max_body)
            continue
        run_id = rec[1]
        batch = open_batch.get(run_id)
        if op == OP_METRIC:  # a point that carries its names (the stream dictionary was full)
            if batch is None or len(batch.metrics) >= max_metrics or batch.n >= max_entities or batch.size >= max_body:
                batch = open_batch[run_id] = _Batch()
                plans[run_id].append(batch)
            batch.metrics.add((rec[2],), (rec[3],), (rec[4],), (rec[5],))
            batch.n += 1
            batch.size += len(rec[2]) + 60
            continue
        if op == OP_DELETE_TAG or op == OP_INPUTS:
            open_batch.pop(run_id, None)
            plans[run_id].append(rec)
            continue
        key, value = rec[2], rec[3]
        bucket_limit = limits.params if op == OP_PARAM else limits.tags
        item_size = len(key) + len(value) + 30
        if batch is not None:
            bucket = batch.params if op == OP_PARAM else batch.tags
            full = len(bucket) >= bucket_limit and key not in bucket
            # A param re-logged with a different value in one batch would be rejected whole: keep it apart.
            if op == OP_PARAM and key in bucket and bucket[key] != value:
                full = True
        if batch is None or full or batch.n >= max_entities or batch.size + item_size > max_body:
            batch = open_batch[run_id] = _Batch()
            plans[run_id].append(batch)
        bucket = batch.params if op == OP_PARAM else batch.tags
        if key not in bucket:
            batch.n += 1
        bucket[key] = value
        batch.size += item_size
    return plans


def _plan_metric_block(block, plans, open_batch, max_metrics: int, max_entities: int, max_body: int) -> None:
    """Add a block of points (columns) to its runs' batches, slicing it where a batch fills up."""
    _, names, sids, values, timestamps, steps = block
    streams = set(sids)
    runs = {names[sid][0] for sid in streams}
    if len(runs) > 1:  # points of several runs interleaved (threads logging to different runs)
        for run_id in runs:
            mine = [i for i, sid in enumerate(sids) if names[sid][0] == run_id]
            _plan_metric_block((OP_METRIC_BLOCK, names, [sids[i] for i in mine], [values[i] for i in mine],
                                [timestamps[i] for i in mine], [steps[i] for i in mine]),
                               plans, open_batch, max_metrics, max_entities, max_body)
        return
    (run_id,) = runs
    if len(streams) == 1:
        key = names[next(iter(streams))][1]
        keys = [key] * len(sids)
        point_size = len(key) + 60
    else:
        keys = [names[sid][1] for sid in sids]
        point_size = max(len(k) for k in keys) + 60
    at, total = 0, len(sids)
    while at < total:
        batch = open_batch.get(run_id)
        if batch is None or len(batch.metrics) >= max_metrics or batch.n >= max_entities or batch.size >= max_body:
            batch = open_batch[run_id] = _Batch()
            plans[run_id].append(batch)
        room = min(max_metrics - len(batch.metrics), max_entities - batch.n,
                   max(1, (max_body - batch.size) // point_size))
        end = min(total, at + room)
        batch.metrics.add(keys[at:end], values[at:end], timestamps[at:end], steps[at:end])
        batch.n += end - at
        batch.size += (end - at) * point_size
        at = end


class _RingState:
    """A ring being drained and where its records go."""

    def __init__(self, ring: RingBuffer, transport: Transport, adopted: bool):
        self.ring, self.transport, self.adopted = ring, transport, adopted
        self.lock = asyncio.Lock()
        self.done = False


class BatchWorker:
    def __init__(self, ring: RingBuffer, transport: Transport, *, family: str, spool_dir: str,
                 interval: float, max_in_flight: int, on_failure):
        self.ring = ring
        self.transport = transport
        self.family = family
        self.spool_dir = spool_dir
        self.interval = interval
        self.max_in_flight = max_in_flight
        self._on_failure = on_failure
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._progress = threading.Condition()
        self._stopping = False
        self._states: dict[str, _RingState] = {}
        self._adopted_transports: dict[str, Transport] = {}
        self._last_scan = 0.0
        self.thread = threading.Thread(target=self._run, name="asyncclient-worker", daemon=True)

    # ---- lifecycle (called from user threads) ----
    def start(self) -> None:
        self.thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    def submit(self, coro):
        """Run a coroutine on the worker loop and return its concurrent.futures.Future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro, timeout: float | None = None):
        return self.submit(coro).result(timeout)

    def wake(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self._wake_event.set)
        except RuntimeError:  # loop closed during interpreter shutdown
            pass

    def stop(self, timeout: float) -> None:
        self._stopping = True
        if self.thread.is_alive():
            self.wake()
            self.thread.join(timeout)

    # ---- the loop ----
    async def _main(self) -> None:
        self._wake_event = asyncio.Event()
        self._semaphore = asyncio.Semaphore(self.max_in_flight)
        own = _RingState(self.ring, self.transport, adopted=False)
        self._states[self.ring.path] = own
        try:
            await self.transport.start()
        finally:
            self._ready.set()
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake_event.wait(), self.interval)
            except TimeoutError:
                pass
            self._wake_event.clear()
            if time.monotonic() - self._last_scan > 1.0:
                self.adopt_orphans()
            await self.drain_all()
        await self.transport.close()
        for t in self._adopted_transports.values():
            await t.close()

    async def drain_all(self) -> None:
        await asyncio.gather(*(self._drain(state) for state in list(self._states.values())))

    async def adopt_orphans_now(self) -> int:
        return self.adopt_orphans()

    async def call_with_retries(self, method, args, kwargs, retry_seconds: float):
        try:
            async for attempt in tenacity.AsyncRetrying(
                retry=tenacity.retry_if_exception_type(TransientError),
                wait=_wait_with_retry_after,
                stop=tenacity.stop_after_delay(retry_seconds),
                reraise=True,
            ):
                with attempt:
                    return await method(*args, **kwargs)
        except TransientError as e:
            raise MlflowException(
                f"{method.__name__} failed after retrying for {retry_seconds:g} s: {e}",
                error_code="TEMPORARILY_UNAVAILABLE",
            ) from e

    def adopt_orphans(self) -> int:
        """Take over rings our dead descendants left (Pool.terminate(), os._exit, kill)."""
        self._last_scan = time.monotonic()
        orphans = find_orphans(self.spool_dir, self.family, _current_pid(), set(self._states))
        for ring in orphans:
            uri = ring.meta().get("tracking_uri")
            transport = self.transport if uri == self.transport.uri else self._adopted_transports.get(uri)
            if transport is None:
                transport = self._adopted_transports[uri] = transport_for_uri(uri)
                self.loop.create_task(transport.start())
            self._states[ring.path] = _RingState(ring, transport, adopted=True)
            _logger.debug("adopted orphan ring %s", ring.path)
        return len(orphans)

    async def _drain(self, state: _RingState) -> None:
        if state.lock.locked():
            return
        async with state.lock:
            ring = state.ring
            while True:
                records, new_read, consumed = ring.read(READ_CHUNK)
                if not records:
                    break
                await self._deliver(records, state.transport)
                ring.commit(new_read, consumed)
                with self._progress:
                    self._progress.notify_all()
            if state.adopted and ring.is_empty():
                ring.close(unlink=True)
                self._states.pop(ring.path, None)
                state.done = True
                with self._progress:
                    self._progress.notify_all()

    async def _deliver(self, records: list[tuple], transport: Transport) -> None:
        plans = plan_requests(records, transport.limits)
        await asyncio.gather(*(self._deliver_run(transport, run_id, items) for run_id, items in plans.items()))

    async def _deliver_run(self, transport: Transport, run_id: str, items: list) -> None:
        async with self._semaphore:
            for item in items:
                if isinstance(item, _Batch):
                    await self._send_batch(transport, run_id, item)
                elif item[0] == OP_DELETE_TAG:
                    await self._send(transport.delete_tag, run_id, item[2], what=("delete_tag", [item[2]]))
                elif item[0] == OP_INPUTS:
                    datasets = [wire.dataset_input_from_json(p) for p in item[2]]
                    await self._send(transport.log_inputs, run_id, datasets,
                                     what=("log_inputs", [d.dataset.name for d in datasets]))

    async def _send_batch(self, transport: Transport, run_id: str, batch: _Batch) -> None:
        params, tags = list(batch.params.items()), list(batch.tags.items())
        try:
            await self._retrying(transport.log_batch, run_id, batch.metrics, params, tags)
            return
        except MlflowException as e:
            parts = [p for p in (("params", [], params, []), ("tags", [], [], tags), ("metrics", batch.metrics, [], []))
                     if p[1] or p[2] or p[3]]
            if len(parts) == 1:
                self._fail(run_id, batch.keys(), batch.count(), e)
                return
        # The server refused a mixed batch: send each kind alone so one bad param costs no metrics.
        for _, metrics, p, t in parts:
            try:
                await self._retrying(transport.log_batch, run_id, metrics, p, t)
            except MlflowException as e:
                keys = {m[0] for m in metrics} | {k for k, _ in p} | {k for k, _ in t}
                self._fail(run_id, keys, len(metrics) + len(p) + len(t), e)

    async def _send(self, fn, run_id: str, *args, what) -> None:
        try:
            await self._retrying(fn, run_id, *args)
        except MlflowException as e:
            self._fail(run_id, set(what[1]), len(what[1]), e)

    async def _retrying(self, fn, *args) -> None:
        """Call fn until it succeeds or fails for good; transient errors back off, never give up early.

        Timestamps travel inside the records, so a retry of a batch the server had already applied only
        repeats identical points, which MLflow's SQL store and ours drop as exact duplicates.
        """
        async for attempt in tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(TransientError),
            wait=_wait_with_retry_after,
            stop=tenacity.stop_never,
            reraise=True,
            before_sleep=_log_retry,
        ):
            with attempt:
                await fn(*args)

    def _fail(self, run_id: str, keys: set[str], count: int, error: MlflowException) -> None:
        failure = {"run_id": run_id, "keys": sorted(keys), "count": count, "message": error.message,
                   "error_code": error.error_code}
        _logger.error("asyncclient: the server refused %d entries for run %s (keys: %s): %s",
                      count, run_id, ", ".join(failure["keys"][:10]), error.message)
        self._on_failure(failure)

    # ---- flush support (called from user threads) ----
    def wait_for(self, target: int, timeout: float | None, include_adopted: bool = True) -> bool:
        """Wait until the own ring committed `target` bytes and adopted rings are empty."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._progress:
            while True:
                pending_adopted = include_adopted and any(s.adopted for s in list(self._states.values()))
                if self.ring.committed_total >= target and not pending_adopted:
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self.wake()
                self._progress.wait(0.05 if remaining is None else min(0.05, remaining))

    def pending_summary(self) -> dict[str, int]:
        """Undelivered records per run across all rings (for the exit report)."""
        counts: dict[str, int] = defaultdict(int)
        for state in list(self._states.values()):
            ring = state.ring
            try:
                records, _, _ = ring.read(10_000_000)
            except (ValueError, RuntimeError):
                continue
            for rec in records:
                if rec[0] == OP_METRIC_BLOCK:
                    for sid in rec[2]:
                        counts[rec[1][sid][0]] += 1
                else:
                    counts[rec[1]] += 1
        return dict(counts)


def _current_pid() -> int:
    import os

    return os.getpid()


_expo = tenacity.wait_exponential_jitter(multiplier=0.1, max=10.0, jitter=0.5)


def _wait_with_retry_after(state: tenacity.RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, TransientError) and exc.retry_after is not None:
        return min(exc.retry_after, 60.0)
    return _expo(state)


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    level = logging.WARNING if state.attempt_number in (1, 5) or state.attempt_number % 20 == 0 else logging.DEBUG
    _logger.log(level, "asyncclient: delivery failed (attempt %d), retrying: %s", state.attempt_number, exc)
