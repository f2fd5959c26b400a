"""The one per-process object: the ring, who drains it, the control plane, and what failed.

Delivery leaves the process by default: a log call writes the ring and nothing else, and the delivery
agent (``asyncclient.delivery.agent``, one per user and spool folder) drains it. ``flush()`` wakes the agent
and waits until the ring's delivered counter passes what was written, then raises what the destination
refused (the agent appends refusals next to the ring). Where no agent can run, or with
``ASYNCCLIENT_DELIVERY=thread``, an in-process worker thread drains the ring instead; everything else is
the same.

A forked child never uses its parent's session: ``os.register_at_fork`` drops it (and the inherited map and
file descriptor) so the child lazily builds its own, with fresh locks: no inherited pending entries, no
lock held by a thread that does not exist in the child.
"""

from __future__ import annotations

import atexit
import glob
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
    OP_DELETE_TAG,
    OP_END_RUN,
    OP_INPUTS,
    OP_METRIC,
    OP_PARAM,
    OP_TAG,
    SpoolFull,
)
from asyncclient.buffer.spool import ancestors, fallback_spool_dir
from asyncclient.delivery.agent_link import AgentLink
from asyncclient.delivery.control import ControlPlane
from asyncclient.delivery.deliverer import pending_summary
from asyncclient.delivery.doorbell import Doorbell
from asyncclient.exceptions import DeliveryError, MlflowException
from asyncclient.transports import transport_for_uri

_logger = logging.getLogger("asyncclient")

_CREDENTIAL_VARIABLES = ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
AGENT_START_GRACE = 10.0  # seconds flush() waits for a (re)started agent before draining in process


class Session:
    def __init__(self, tracking_uri: str):
        self.pid = os.getpid()
        self.tracking_uri = tracking_uri
        self.mode = config.delivery_mode()
        self.family = config.family_id()
        meta = {
            "tracking_uri": tracking_uri, "pid": self.pid, "family": self.family,
            "ancestors": ancestors(), "created": time.time(),
            # The agent delivers for us with our credentials (the file is ours alone: mode 0600).
            "credentials": {k: os.environ[k] for k in _CREDENTIAL_VARIABLES if os.environ.get(k)},
        }
        self.spool_dir, self.ring = _create_ring(meta, in_process=self.mode == "thread")
        self.control = ControlPlane(tracking_uri)
        self.doorbell = Doorbell(self.ring)
        self._failures_seen = 0
        self._pending_failures: list[dict] = []
        self._failures_lock = threading.Lock()
        # Params are immutable: a different value for a key already logged from this process fails here,
        # at the call site, instead of as a server error later.
        self.params_logged: dict[tuple[str, str], str] = {}
        self._warned_full = False
        self.closed = False
        self.worker = None
        self.agent: AgentLink | None = None
        self._agent_dead_since: float | None = None
        self._next_liveness_check = time.monotonic() + 1.0
        # When a bounded wait gave up (the destination is down), later bounded waits count from then: the
        # `with` exit and the interpreter exit together wait ASYNCCLIENT_EXIT_TIMEOUT, not twice that.
        self.stalled_since: float | None = None
        self._family_rings: dict[str, RingBuffer] = {}
        if self.mode == "agent":
            self.agent = AgentLink(self.spool_dir)
            if not self.agent.ensure():
                _logger.warning("asyncclient: the delivery agent cannot start here; delivering in process")
                self._drain_in_process()
        else:
            self._drain_in_process()

    def _drain_in_process(self) -> None:
        from asyncclient.delivery.worker import InProcessWorker

        self.ring.set_drained_in_process(True)
        self.agent = None
        self.mode = "thread"
        self.worker = InProcessWorker(
            self.ring, transport_for_uri(self.tracking_uri), family=self.family, spool_dir=self.spool_dir,
            interval=config.flush_interval(), max_in_flight=config.max_in_flight(),
        )
        self.worker.start()

    # ---- writing ----
    def log_metric(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
        try:
            if self.ring.append_metric(run_id, key, value, timestamp, step):
                self.wake()
        except RingFull:
            self.put_when_room(msgpack.packb((OP_METRIC, run_id, key, value, timestamp, step)))

    def log_param(self, run_id: str, key: str, value: str) -> None:
        previous = self.params_logged.get((run_id, key))
        if previous is not None and previous != value:
            raise MlflowException.invalid_parameter_value(
                f"Changing param values is not allowed. Param with key='{key}' was already logged with "
                f"value='{previous}' for run ID='{run_id}'. Attempted logging new value '{value}'."
            )
        self.params_logged[(run_id, key)] = value
        self.put(msgpack.packb((OP_PARAM, run_id, key, value)))

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self.put(msgpack.packb((OP_TAG, run_id, key, value)))

    def delete_tag(self, run_id: str, key: str) -> None:
        self.put(msgpack.packb((OP_DELETE_TAG, run_id, key)))

    def log_inputs(self, run_id: str, datasets_json: list[dict]) -> None:
        self.put(msgpack.packb((OP_INPUTS, run_id, datasets_json)))

    def end_run(self, run_id: str, status: str, end_time: int) -> None:
        """Queue the run's end behind everything logged to it: the destination marks it ended after its data."""
        self.put(msgpack.packb((OP_END_RUN, run_id, status, end_time)))
        self.wake()

    def put(self, payload: bytes) -> None:
        try:
            self.ring.append_packed(payload)
        except RingFull:
            self.put_when_room(payload)

    def put_when_room(self, payload: bytes) -> None:
        """Backpressure: the buffer is full, so the caller waits for delivery; nothing is dropped."""
        if not self._warned_full:
            self._warned_full = True
            _logger.warning("asyncclient: the log buffer (%d MiB) is full; logging waits for delivery "
                            "(raise ASYNCCLIENT_BUFFER_MB to buffer more)", self.ring.size >> 20)
        delay = 0.0005
        next_check = time.monotonic() + 1.0
        while True:
            self.wake()
            try:
                self.ring.append_packed(payload)
                return
            except RingFull:
                pass
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
            if time.monotonic() > next_check:  # nobody drains: make sure somebody will
                next_check = time.monotonic() + 1.0
                self._check_drainer()

    def wake(self) -> None:
        if self.agent is not None:
            self.agent.wake(self.ring.path)
            # About once a second of logging, make sure the agent is there (it may have been killed):
            # a monotonic clock read per batch of points, a flock probe per second.
            now = time.monotonic()
            if now >= self._next_liveness_check:
                self._next_liveness_check = now + 1.0
                self._check_drainer()
        elif self.worker is not None:
            self.worker.wake()

    # ---- control plane ----
    def call(self, name: str, *args, **kwargs):
        """create_run, get_run, search_runs, ...: synchronous, retried while the server is unreachable."""
        return self.control.call(name, *args, **kwargs)

    # ---- flushing and errors ----
    def flush(self, timeout: float | None = None, raise_errors: bool = True, run_id: str | None = None) -> bool:
        """Wait until everything logged so far (here, and by this process's dead children) is stored.

        One deadline for the whole wait. Returns False if it passed first (the data is still being
        delivered). Raises DeliveryError for entries the destination refused, and for an unexpected error
        that keeps delivery retrying (so a full disk is said, not waited on forever).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        ring = self.ring
        ring.flush_deferred()
        with ring.lock:
            target = ring.written_total
        next_check = time.monotonic() + 0.5
        done = False
        with self.doorbell.waiting():  # set before the first check: a commit after it rings the bell
            # With a bell, polls are only the safety net, so they are sparse and leave the CPU to delivery.
            delay, longest = (0.002, 0.02) if self.doorbell.bound else (0.0002, 0.01)
            self.wake()
            while True:
                if ring.delivered_total() >= target and self._family_delivered():
                    done = True
                    break
                if raise_errors and self._collect_failures(retrying_only=True):
                    break
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                if now >= next_check:
                    next_check = now + 0.5
                    self._check_drainer()
                    self.wake()
                self.doorbell.sleep(delay if deadline is None else max(0.0, min(delay, deadline - now)))
                delay = min(delay * 1.5, longest)
        if done:
            self.stalled_since = None
        elif timeout is not None and self.stalled_since is None:
            self.stalled_since = deadline - timeout
        if raise_errors:
            failures = self.take_failures(run_id)
            if failures:
                raise DeliveryError(failures)
        return done

    def _check_drainer(self) -> None:
        """Restart a dead agent; if none comes up within a grace period, drain in process instead."""
        if self.agent is None:
            if self.worker is not None:
                self.worker.adopt_orphans()
            return
        if self.agent.alive():
            self._agent_dead_since = None
            return
        now = time.monotonic()
        if self._agent_dead_since is None:
            self._agent_dead_since = now
        if now - self._agent_dead_since > AGENT_START_GRACE:
            _logger.warning("asyncclient: the delivery agent does not start (see %s/agent.log); delivering in "
                            "process", self.spool_dir)
            self._drain_in_process()
            return
        self.agent.start()

    def _family_delivered(self) -> bool:
        """True when the rings of this process's descendants (pool workers, forked children), live or dead,
        are all delivered: a parent that reads after its pool returned sees its workers' points."""
        me = self.pid
        if self.worker is not None and self.worker.adopted_rings():
            return False
        for path in glob.glob(os.path.join(self.spool_dir, "*.ring")):
            if path == self.ring.path:
                continue
            ring = self._family_rings.get(path, False)
            if ring is False:
                try:
                    ring = RingBuffer.open_existing(path)
                except (OSError, ValueError, RuntimeError):
                    continue
                if me not in ring.meta().get("ancestors", ()):
                    ring._release()
                    ring = None  # not ours: remembered, so it is not opened again
                self._family_rings[path] = ring
            if ring is not None and not ring.is_drained() and os.path.exists(path):
                return False
        return True

    def _collect_failures(self, retrying_only: bool = False) -> bool:
        count = self.ring.failure_count()
        with self._failures_lock:
            if count > self._failures_seen:
                new = self.ring.read_failures(self._failures_seen)
                self._failures_seen += len(new)
                self._pending_failures.extend(new)
            if retrying_only:
                return any(f.get("retrying") for f in self._pending_failures)
            return bool(self._pending_failures)

    def take_failures(self, run_id: str | None = None) -> list[dict]:
        self._collect_failures()
        with self._failures_lock:
            pending = self._pending_failures
            if run_id is None:
                taken, self._pending_failures = pending, []
            else:
                taken = [f for f in pending if f.get("run_id") in (run_id, None)]
                self._pending_failures = [f for f in pending if f.get("run_id") not in (run_id, None)]
        return taken

    def pending_runs(self) -> dict[str, int]:
        return pending_summary([self.ring])

    def shutdown(self, timeout: float) -> None:
        """Flush within `timeout`; then say what was not delivered yet and who delivers it."""
        if self.closed:
            return
        self.closed = True
        delivered = self.flush(timeout, raise_errors=False)
        failures = self.take_failures()
        if failures:
            print(f"asyncclient: {DeliveryError(failures).message}", file=sys.stderr)
        if not delivered:
            pending = self.pending_runs()
            total = sum(pending.values())
            runs = ", ".join(f"{run} ({n})" for run, n in sorted(pending.items(), key=lambda kv: -kv[1])[:10])
            if self.worker is None and total:
                pid = self.agent.agent_pid() if self.agent else None
                print(f"asyncclient: {total} logged entries were not delivered to {self.tracking_uri} yet within "
                      f"{timeout:.1f} s (runs: {runs}); the delivery agent (pid {pid}) goes on delivering them "
                      f"from {self.spool_dir}.", file=sys.stderr)
            elif total:
                print(f"asyncclient: {total} logged entries were not delivered to {self.tracking_uri} within "
                      f"{timeout:.1f} s (runs: {runs}). They are kept in {self.spool_dir}; run `asyncclient sync` "
                      "to deliver them.", file=sys.stderr)
        if self.worker is not None:
            self.worker.stop(timeout=1.0)
        self.control.close()
        for ring in self._family_rings.values():
            if ring is not None:
                ring._release()
        self.doorbell.close()
        # In agent mode the agent deletes the file once it is empty and we are gone; in process, we do.
        self.ring.close(unlink=self.worker is not None and delivered and self.ring.is_empty())


def _create_ring(meta: dict, in_process: bool) -> tuple[str, RingBuffer]:
    """The spool folder and our ring in it; a full default folder (a small /dev/shm) falls back to disk."""
    folder = spool_dir()
    try:
        return folder, RingBuffer.create(folder, meta, config.buffer_bytes(), config.dictionary_bytes(),
                                         in_process)
    except SpoolFull as e:
        fallback = fallback_spool_dir()
        if os.environ.get("ASYNCCLIENT_SPOOL_DIR") or fallback == folder:
            raise MlflowException(
                f"asyncclient: {e.strerror}. Free space there, point ASYNCCLIENT_SPOOL_DIR at a folder with "
                "room, or lower ASYNCCLIENT_BUFFER_MB.", error_code="RESOURCE_EXHAUSTED") from e
        _logger.warning("asyncclient: %s; using %s instead", e.strerror, fallback)
        try:
            return fallback, RingBuffer.create(fallback, meta, config.buffer_bytes(), config.dictionary_bytes(),
                                               in_process)
        except SpoolFull as e2:
            raise MlflowException(
                f"asyncclient: {e.strerror}, nor in {fallback}. Point ASYNCCLIENT_SPOOL_DIR at a folder with "
                "room, or lower ASYNCCLIENT_BUFFER_MB.", error_code="RESOURCE_EXHAUSTED") from e2


# ---- the process-wide session ----
_session: Session | None = None
_session_lock = threading.Lock()
_exit_hooks: list = []  # fluent registers "end the runs this process started" here
extra_sessions: list[Session] = []  # clients pointed at another tracking URI than the fluent API's
_fork_hooks: list = []  # fluent registers "forget the parent's active runs as ours" here


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
        inherited.doorbell.abandon_after_fork()
        if inherited.worker is not None:
            inherited.worker.abandon_after_fork()
        for ring in inherited._family_rings.values():
            if ring is not None:
                ring.abandon_after_fork()
    extra_sessions.clear()
    for hook in _fork_hooks:
        hook()


def _at_exit() -> None:
    s = current_session()
    started = s.stalled_since if s is not None and s.stalled_since is not None else time.monotonic()
    deadline = started + config.exit_timeout()
    if s is not None and not s.closed:
        for hook in _exit_hooks:
            try:
                hook(deadline)
            except Exception as e:  # exit must finish: report and go on
                print(f"asyncclient: at exit: {e}", file=sys.stderr)
    for extra in [x for x in extra_sessions if x.pid == os.getpid()]:
        extra.shutdown(max(0.0, deadline - time.monotonic()))
    if s is not None:
        s.shutdown(max(0.0, deadline - time.monotonic()))


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)
