"""The Deliverer: drains rings into their destinations, on an asyncio loop, and never stops doing so.

Per run, entries leave in the order they were logged (one request in flight per run); different runs go out
side by side up to ``max_in_flight``. Records stay in the ring until the destination acknowledged them, so a
crash or a kill of the drainer only delays them. The same code runs in the delivery agent (every ring of a
spool folder) and in the in-process fallback worker (this process's ring).

Failure policy, by what went wrong:

- a refusal (``MlflowException``: the server or store said no): a mixed batch is split by kind so one bad
  param costs no metrics; what is still refused is reported to the ring's writer, whose next ``flush()`` /
  ``end_run()`` raises it, and delivery goes on;
- transient (``TransientError``: connection refused or reset, timeout, 408/429/5xx, a 200 that is not JSON):
  retried with exponential backoff and jitter, honouring Retry-After, for as long as it takes;
- anything else (a full disk, a bug): contained the same way, retried with backoff, and reported once per
  episode so the writer hears of it at its next flush, while the records wait in the ring.
"""

from __future__ import annotations

import asyncio
import logging

import tenacity

from asyncclient import wire
from asyncclient.buffer import RingBuffer
from asyncclient.buffer.ring import OP_DELETE_TAG, OP_END_RUN, OP_INPUTS, OP_METRIC_BLOCK, CorruptRing
from asyncclient.delivery.plan import Batch, plan_requests
from asyncclient.exceptions import MlflowException
from asyncclient.transports import TransientError, Transport

_logger = logging.getLogger("asyncclient")

READ_CHUNK = 20_000  # records decoded per pass; bounds the loop's time away from its other tasks


class RingState:
    """A ring being drained, where its records go, and whether its writer still listens for reports."""

    def __init__(self, ring: RingBuffer, transport: Transport, owner_alive: bool = True):
        self.ring, self.transport = ring, transport
        self.owner_alive = owner_alive
        self.lock = asyncio.Lock()
        self.unexpected: str | None = None  # the contained error being retried, reported once


class Deliverer:
    def __init__(self, max_in_flight: int, on_progress=None, on_failure=None):
        self.max_in_flight = max_in_flight
        self._semaphore: asyncio.Semaphore | None = None
        self._on_progress = on_progress or (lambda: None)
        self._on_failure = on_failure or (lambda state, failure: None)

    async def drain(self, state: RingState) -> bool:
        """Deliver what the ring holds now; False if the ring is damaged beyond reading (quarantine it)."""
        if state.lock.locked():
            return True
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_in_flight)
        async with state.lock:
            ring = state.ring
            while True:
                try:
                    records, new_read, consumed = ring.read(READ_CHUNK)
                except CorruptRing as e:
                    _logger.error("asyncclient: %s; its remaining records cannot be delivered", e)
                    self._report(state, {"run_id": None, "keys": [], "count": 0, "message": str(e),
                                         "error_code": "DATA_LOSS"})
                    return False
                if not records:
                    return True
                await self._deliver(state, records)
                ring.commit(new_read, consumed)
                ring.ring_bell()
                self._on_progress()

    async def _deliver(self, state: RingState, records: list[tuple]) -> None:
        plans = plan_requests(records, state.transport.limits)
        await asyncio.gather(*(self._deliver_run(state, run_id, items) for run_id, items in plans.items()))

    async def _deliver_run(self, state: RingState, run_id: str, items: list) -> None:
        transport = state.transport
        async with self._semaphore:
            for item in items:
                if isinstance(item, Batch):
                    await self._send_batch(state, run_id, item)
                elif item[0] == OP_DELETE_TAG:
                    await self._send(state, transport.delete_tag, run_id, item[2], keys=[item[2]],
                                     already_done="RESOURCE_DOES_NOT_EXIST")
                elif item[0] == OP_INPUTS:
                    datasets = [wire.dataset_input_from_json(p) for p in item[2]]
                    await self._send(state, transport.log_inputs, run_id, datasets,
                                     keys=[d.dataset.name for d in datasets])
                elif item[0] == OP_END_RUN:
                    await self._send(state, transport.update_run_info, run_id, item[2], item[3], None,
                                     keys=["status"])

    async def _send_batch(self, state: RingState, run_id: str, batch: Batch) -> None:
        log_batch = state.transport.log_batch
        params, tags = list(batch.params.items()), list(batch.tags.items())
        try:
            await self._retrying(state, log_batch, run_id, batch.metrics, params, tags)
            return
        except MlflowException as e:
            parts = [p for p in (([], params, []), ([], [], tags), (batch.metrics, [], [])) if any(p)]
            if len(parts) == 1:
                self._refused(state, run_id, batch.keys(), batch.count(), e)
                return
        # The destination refused a mixed batch: send each kind alone so one bad param costs no metrics.
        for metrics, p, t in parts:
            try:
                await self._retrying(state, log_batch, run_id, metrics, p, t)
            except MlflowException as e:
                keys = {m[0] for m in metrics} | {k for k, _ in p} | {k for k, _ in t}
                self._refused(state, run_id, keys, len(metrics) + len(p) + len(t), e)

    async def _send(self, state: RingState, fn, run_id: str, *args, keys, already_done: str | None = None) -> None:
        retried = []
        try:
            await self._retrying(state, fn, run_id, *args, retried=retried)
        except MlflowException as e:
            # A request that failed in transit may have been applied: deleting the tag again then finds
            # nothing to delete, which is the success we were waiting for, not a refusal.
            if retried and already_done is not None and e.error_code == already_done:
                return
            self._refused(state, run_id, set(keys), len(keys), e)

    async def _retrying(self, state: RingState, fn, *args, retried: list | None = None) -> None:
        """Call fn until it succeeds or is refused; everything else backs off and tries again, forever.

        Timestamps travel inside the records, so a retry of a batch the destination had already applied
        only repeats identical points, which MLflow's SQL store and ours drop as exact duplicates.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                await fn(*args)
                if state.unexpected is not None:
                    _logger.warning("asyncclient: delivery recovered after: %s", state.unexpected)
                    state.unexpected = None
                return
            except MlflowException:
                raise
            except TransientError as e:
                delay = e.retry_after if e.retry_after is not None else _backoff(attempt)
                _log_retry(attempt, e)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # contained: no exception type may stop delivery
                message = f"{type(e).__name__}: {e}"
                if state.unexpected != message:
                    state.unexpected = message
                    _logger.error("asyncclient: delivery failed unexpectedly, retrying: %s", message)
                    self._report(state, {"run_id": args[0] if args and isinstance(args[0], str) else None,
                                         "keys": [], "count": 0, "message": message,
                                         "error_code": "INTERNAL_ERROR", "retrying": True})
                delay = _backoff(attempt)
            if retried is not None:
                retried.append(attempt)
            await asyncio.sleep(min(delay, 60.0))

    def _refused(self, state: RingState, run_id: str, keys: set[str], count: int, error: MlflowException) -> None:
        failure = {"run_id": run_id, "keys": sorted(keys), "count": count, "message": error.message,
                   "error_code": error.error_code}
        _logger.error("asyncclient: the destination refused %d entries for run %s (keys: %s): %s",
                      count, run_id, ", ".join(failure["keys"][:10]), error.message)
        self._report(state, failure)

    def _report(self, state: RingState, failure: dict) -> None:
        self._on_failure(state, failure)
        if not state.owner_alive:
            return  # nobody will flush this ring again: the log line above is the report
        try:
            state.ring.report_failure(failure)
            state.ring.ring_bell()
        except (OSError, ValueError) as e:
            _logger.error("asyncclient: could not record a delivery failure in %s: %s", state.ring.path, e)


_expo = tenacity.wait_exponential_jitter(multiplier=0.1, max=10.0, jitter=0.5)


class _Attempt:
    def __init__(self, n: int):
        self.attempt_number = n
        self.idle_for = 0.0
        self.upcoming_sleep = 0.0


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter (tenacity's policy), from 0.1 s up to 10 s."""
    return _expo(_Attempt(attempt))


def _log_retry(attempt: int, exc: Exception) -> None:
    level = logging.WARNING if attempt in (1, 5) or attempt % 20 == 0 else logging.DEBUG
    _logger.log(level, "asyncclient: delivery failed (attempt %d), retrying: %s", attempt, exc)


def pending_summary(rings: list[RingBuffer]) -> dict[str, int]:
    """Undelivered records per run across rings (for the exit report)."""
    counts: dict[str, int] = {}
    for ring in rings:
        try:
            records, _, _ = ring.read(10_000_000)
        except (ValueError, CorruptRing):
            continue
        for rec in records:
            if rec[0] == OP_METRIC_BLOCK:
                names = rec[1]
                for sid in rec[2]:
                    run = names[sid][0]
                    counts[run] = counts.get(run, 0) + 1
            else:
                counts[rec[1]] = counts.get(rec[1], 0) + 1
    return counts


