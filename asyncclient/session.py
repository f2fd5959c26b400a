"""The one per-process object: the ring, the worker, the transport, and what failed.

A forked child never uses its parent's session: ``os.register_at_fork`` drops it (and the inherited map and
file descriptor) so the child lazily builds its own, with fresh locks: no inherited pending entries, no
lock held by a thread that does not exist in the child.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import sys
import threading
import time

import msgpack

from asyncclient import config
from asyncclient.buffer import RingBuffer, RingFull, spool_dir
from asyncclient.buffer.ring import (
    _METRIC,
    _OFF_WRITE,
    _U64,
    KIND_METRIC,
    METRIC_RECORD_SIZE,
    OP_DELETE_TAG,
    OP_INPUTS,
    OP_METRIC,
    OP_PARAM,
    OP_TAG,
)
from asyncclient.buffer.spool import ancestors
from asyncclient.exceptions import DeliveryError, MlflowException
from asyncclient.transports import transport_for_uri
from asyncclient.worker import BatchWorker

_logger = logging.getLogger("asyncclient")
_pack_metric = _METRIC.pack_into
_pack_u64 = _U64.pack_into

WAKE_EVERY_BYTES = 1000 * METRIC_RECORD_SIZE  # about one full log-batch of metric points


class Session:
    def __init__(self, tracking_uri: str):
        self.pid = os.getpid()
        self.tracking_uri = tracking_uri
        self.transport = transport_for_uri(tracking_uri)
        meta = {
            "tracking_uri": tracking_uri, "pid": self.pid, "family": config.family_id(),
            "ancestors": ancestors(), "created": time.time(),
        }
        self.spool_dir = spool_dir()
        self.ring = RingBuffer.create(self.spool_dir, meta, config.buffer_bytes(), config.dictionary_bytes())
        self._failures: list[dict] = []
        self._failures_lock = threading.Lock()
        # Params are immutable: a different value for a key already logged from this process fails here,
        # at the call site, instead of as a server error later.
        self.params_logged: dict[tuple[str, str], str] = {}
        self._next_wake = WAKE_EVERY_BYTES
        self._warned_full = False
        self.closed = False
        self.worker = BatchWorker(
            self.ring, self.transport, family=meta["family"], spool_dir=self.spool_dir,
            interval=config.flush_interval(), max_in_flight=config.max_in_flight(),
            on_failure=self._record_failure,
        )
        self.worker.start()

    # ---- the hot path ----
    def log_metric(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
        # The common case is written out here rather than through RingBuffer.put_metric: two method calls
        # are a fifth of the cost of a log_metric call. It is the same code as put_metric's fast path.
        ring = self.ring
        with ring.lock:
            keys = ring._streams.get(run_id)
            sid = keys.get(key) if keys is not None else None
            if sid is None:
                sid = ring.stream_id(run_id, key)
            w = ring._w
            if sid >= 0 and w >= ring._r and w + METRIC_RECORD_SIZE <= ring.size:
                _pack_metric(ring._mm, w, KIND_METRIC, sid, value, timestamp, step)
                ring._w = w = w + METRIC_RECORD_SIZE
                _pack_u64(ring._mm, _OFF_WRITE, w)  # publish only after the record is whole
                ring.written_total += METRIC_RECORD_SIZE
                if ring.written_total < self._next_wake:
                    return
                full = False
            else:
                full = not self._put_metric_slow(sid, run_id, key, value, timestamp, step)
        if full:
            self._put_when_room(msgpack.packb((OP_METRIC, run_id, key, value, timestamp, step)))
        self._wake_if_due()

    def _put_metric_slow(self, sid: int, run_id: str, key: str, value: float, timestamp: int, step: int) -> bool:
        """Wrap-around, full ring, or a full stream dictionary (lock held); False when there is no room."""
        ring = self.ring
        try:
            if sid >= 0:
                ring.put_metric(sid, value, timestamp, step)
            else:  # the stream dictionary is full: carry run and key in the record itself
                ring.put_packed(msgpack.packb((OP_METRIC, run_id, key, value, timestamp, step)))
            return True
        except RingFull:
            return False

    def _wake_if_due(self) -> None:
        # A full batch's worth of bytes wakes the worker at once instead of waiting for its timer.
        if self.ring.written_total >= self._next_wake:
            self._next_wake = self.ring.written_total + WAKE_EVERY_BYTES
            self.worker.wake()

    def log_param(self, run_id: str, key: str, value: str) -> None:
        previous = self.params_logged.get((run_id, key))
        if previous is not None and previous != value:
            raise MlflowException.invalid_parameter_value(
                f"Changing param values is not allowed. Param with key='{key}' was already logged with "
                f"value='{previous}' for run ID='{run_id}'. Attempted logging new value '{value}'."
            )
        self.params_logged[(run_id, key)] = value
        self._put(msgpack.packb((OP_PARAM, run_id, key, value)))

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self._put(msgpack.packb((OP_TAG, run_id, key, value)))

    def delete_tag(self, run_id: str, key: str) -> None:
        self._put(msgpack.packb((OP_DELETE_TAG, run_id, key)))

    def log_inputs(self, run_id: str, datasets_json: list[dict]) -> None:
        self._put(msgpack.packb((OP_INPUTS, run_id, datasets_json)))

    def _put(self, payload: bytes) -> None:
        with self.ring.lock:
            try:
                self.ring.put_packed(payload)
                full = False
            except RingFull:
                full = True
        if full:
            self._put_when_room(payload)
        self._wake_if_due()

    def _put_when_room(self, payload: bytes) -> None:
        """Backpressure: the buffer is full, so the caller waits for the worker; nothing is dropped."""
        if not self._warned_full:
            self._warned_full = True
            _logger.warning("asyncclient: the log buffer (%d MiB) is full; logging waits for delivery "
                            "(raise ASYNCCLIENT_BUFFER_MB to buffer more)", self.ring.size >> 20)
        while True:
            self.worker.wake()
            with self.ring.lock:
                try:
                    self.ring.put_packed(payload)
                    return
                except RingFull:
                    pass
            with self.worker._progress:
                self.worker._progress.wait(0.05)

    # ---- control plane ----
    def call(self, name: str, *args, **kwargs):
        """Run a transport call (create_run, get_run, search_runs, ...) on the worker loop and wait.

        Transient failures are retried for up to ASYNCCLIENT_REQUEST_RETRY_SECONDS, as MLflow's client
        retries its requests; then the error is raised.
        """
        method = getattr(self.transport, name)
        return self.worker.call(self.worker.call_with_retries(method, args, kwargs, config.request_retry_seconds()))

    # ---- flushing and errors ----
    def _record_failure(self, failure: dict) -> None:
        with self._failures_lock:
            self._failures.append(failure)

    def take_failures(self, run_id: str | None = None) -> list[dict]:
        with self._failures_lock:
            if run_id is None:
                taken, self._failures = self._failures, []
            else:
                taken = [f for f in self._failures if f["run_id"] == run_id]
                self._failures = [f for f in self._failures if f["run_id"] != run_id]
        return taken

    def flush(self, timeout: float | None = None, raise_errors: bool = True, run_id: str | None = None) -> bool:
        """Wait until everything logged so far (here, and by dead child processes) is stored.

        Returns False if the timeout passed first. Raises DeliveryError for entries the server refused.
        """
        with self.ring.lock:
            target = self.ring.written_total
        try:
            # Synchronously, so rings of children that just died count as pending in the wait below.
            self.worker.call(self.worker.adopt_orphans_now(), timeout)
        except TimeoutError:
            pass
        done = self.worker.wait_for(target, timeout)
        if raise_errors:
            failures = self.take_failures(run_id)
            if failures:
                raise DeliveryError(failures)
        return done

    def shutdown(self, timeout: float) -> None:
        """Flush within `timeout`; then say what was not delivered and keep it on disk for `asyncclient sync`."""
        if self.closed:
            return
        self.closed = True
        delivered = self.flush(timeout, raise_errors=False)
        failures = self.take_failures()
        if failures:
            print(f"asyncclient: {DeliveryError(failures).message}", file=sys.stderr)
        if delivered:
            self.worker.stop(timeout=1.0)
            self.ring.close(unlink=True)
            return
        pending = self.worker.pending_summary()
        total = sum(pending.values())
        runs = ", ".join(f"{run} ({n})" for run, n in sorted(pending.items(), key=lambda kv: -kv[1])[:10])
        print(
            f"asyncclient: {total} logged entries were not delivered to {self.tracking_uri} within {timeout:g} s "
            f"(runs: {runs}). They are kept in {self.spool_dir}; run `asyncclient sync` to deliver them.",
            file=sys.stderr,
        )
        self.ring.close(unlink=False)


# ---- the process-wide session ----
_session: Session | None = None
_session_lock = threading.Lock()
_exit_hooks: list = []  # fluent registers "end the runs this process started" here
extra_sessions: list[Session] = []  # clients pointed at another tracking URI than the fluent API's


def get_session() -> Session:
    global _session
    s = _session
    if s is not None and s.pid == os.getpid():
        return s
    with _session_lock:
        if _session is None or _session.pid != os.getpid():
            _session = Session(config.resolved_tracking_uri())
            if multiprocessing.parent_process() is not None:
                # multiprocessing children end through os._exit, which skips atexit but runs these.
                multiprocessing.util.Finalize(None, _at_exit, exitpriority=100)
        return _session


def current_session() -> Session | None:
    s = _session
    return s if s is not None and s.pid == os.getpid() else None


def reset_session(flush_timeout: float = 30.0) -> None:
    """Flush and close the session (after set_tracking_uri, a new one is built on next use)."""
    global _session
    with _session_lock:
        s, _session = current_session(), None
    if s is not None:
        s.shutdown(flush_timeout)


def _after_fork_in_child() -> None:
    global _session, _session_lock
    _session_lock = threading.Lock()
    s, _session = _session, None
    for inherited in ([s] if s is not None else []) + extra_sessions:
        inherited.ring.abandon_after_fork()
    extra_sessions.clear()


def _at_exit() -> None:
    deadline = time.monotonic() + config.exit_timeout()
    for extra in [x for x in extra_sessions if x.pid == os.getpid()]:
        extra.shutdown(max(0.0, deadline - time.monotonic()))
    s = current_session()
    if s is None or s.closed:
        return
    for hook in _exit_hooks:
        try:
            hook(deadline)
        except Exception as e:  # exit must finish: report and go on
            print(f"asyncclient: at exit: {e}", file=sys.stderr)
    s.shutdown(max(0.0, deadline - time.monotonic()))


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)
