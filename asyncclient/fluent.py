"""MLflow's fluent API (``mlflow.start_run``, ``mlflow.log_metric``, ...) on top of the ring and worker.

Logging calls validate cheaply and append one record to this process's ring; nothing waits for the
network. ``end_run``, ``flush`` and leaving ``with start_run()`` wait for delivery and raise what the
server refused.
"""

from __future__ import annotations

import getpass
import os
import sys
import threading
import time
import warnings

from asyncclient import config, session, validation
from asyncclient.buffer import RingFull
from asyncclient.entities import Experiment, Run, RunStatus, SourceType
from asyncclient.exceptions import DeliveryError, MlflowException
from asyncclient.validation import _known_good_keys

_time = time.time

# ---- active runs: per thread, falling back to the main thread's ----


class _ThreadRuns(threading.local):
    def __init__(self):
        # The main thread's stack is the module-level one, so other threads can fall back to it.
        self.stack = _main_stack if threading.current_thread() is threading.main_thread() else []


_main_stack: list[ActiveRun] = []
_runs = _ThreadRuns()
_active_experiment_id: str | None = None
# In a forked child: the parent's active runs. As in MLflow, the child's own start_run() starts a run of its
# own (no "already active"); a child that starts none still logs to the run it inherited.
_inherited: list[ActiveRun] = []


def _forget_parent_runs_after_fork() -> None:
    global _inherited
    _inherited = list(_main_stack) + [r for r in _runs.stack if r not in _main_stack] + _inherited
    _main_stack.clear()
    _runs.stack = _main_stack if threading.current_thread() is threading.main_thread() else []


session._fork_hooks.append(_forget_parent_runs_after_fork)


class ActiveRun(Run):
    """The run returned by ``start_run``; a context manager that ends the run on exit (mlflow.ActiveRun)."""

    __slots__ = ("_pid",)

    def __init__(self, run: Run):
        super().__init__(run.info, run.data, run.inputs)
        self._pid = os.getpid()

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> bool:
        status = RunStatus.FINISHED if exc_type is None else RunStatus.FAILED
        stack = _runs.stack
        if self not in stack:
            return False
        try:
            _end(self, RunStatus.to_string(status), pop_from=stack)
        except DeliveryError:
            if exc_type is None:
                raise
            # The user's exception is the one to see; the delivery error was already logged.
        return False


def _current_run_id() -> str:
    """The run to log to: this thread's active run, else the main thread's, else a new one (as MLflow)."""
    stack = _runs.stack
    if stack:
        return stack[-1].info.run_id
    if _main_stack:
        return _main_stack[-1].info.run_id
    if _inherited:
        return _inherited[-1].info.run_id
    return start_run().info.run_id


# ---- tracking URI and experiments ----

def set_tracking_uri(uri) -> None:
    """Set where runs are logged (``mlflow.set_tracking_uri``); flushes what was logged to the old one."""
    if str(uri or "") == (config._tracking_uri or ""):
        return
    session.reset_session()
    config.set_tracking_uri(uri)


def get_tracking_uri() -> str:
    """``mlflow.get_tracking_uri``."""
    return config.get_tracking_uri()


def _client():
    from asyncclient.tracking import MlflowClient

    return MlflowClient()


def create_experiment(name: str, artifact_location: str | None = None, tags: dict | None = None) -> str:
    """``mlflow.create_experiment``: returns the new experiment's id."""
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """``mlflow.get_experiment_by_name``: None when there is none."""
    return _client().get_experiment_by_name(name)


def search_experiments(view_type=None, max_results=None, filter_string=None, order_by=None):
    from asyncclient.entities import ViewType

    client = _client()
    out, token = [], None
    while True:
        page = client.search_experiments(view_type or ViewType.ACTIVE_ONLY, min(max_results or 1000, 1000),
                                         filter_string, order_by, token)
        out.extend(page)
        token = page.token
        if not token or (max_results is not None and len(out) >= max_results):
            return out[:max_results] if max_results is not None else out


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """``mlflow.set_experiment``: make an experiment active, creating it by name if needed."""
    global _active_experiment_id
    if (experiment_name is None) == (experiment_id is None):
        raise MlflowException.invalid_parameter_value("Must specify exactly one of: `experiment_id` or `experiment_name`.")
    client = _client()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is None:
            try:
                client.create_experiment(experiment_name)
            except MlflowException as e:
                if e.error_code != "RESOURCE_ALREADY_EXISTS":  # another process created it first
                    raise
            experiment = client.get_experiment_by_name(experiment_name)
    if experiment.lifecycle_stage != "active":
        raise MlflowException.invalid_parameter_value(
            f"Cannot set a deleted experiment '{experiment.name}' as the active experiment. "
            "You can restore the experiment, or permanently delete the experiment to create a new one."
        )
    _active_experiment_id = experiment.experiment_id
    return experiment


def _experiment_id_for_new_run() -> str:
    if _active_experiment_id is not None:
        return _active_experiment_id
    if os.environ.get("MLFLOW_EXPERIMENT_ID"):
        return os.environ["MLFLOW_EXPERIMENT_ID"]
    if os.environ.get("MLFLOW_EXPERIMENT_NAME"):
        return set_experiment(os.environ["MLFLOW_EXPERIMENT_NAME"]).experiment_id
    return "0"


# ---- runs ----

def _source_name() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return os.path.abspath(path) if path else "<console>"


def _git_commit(source: str) -> str | None:
    """The commit of the git checkout holding the script, read from .git (no git binary needed)."""
    folder = os.path.dirname(source) if os.path.isabs(source) else os.getcwd()
    while True:
        git = os.path.join(folder, ".git")
        if os.path.isdir(git):
            try:
                with open(os.path.join(git, "HEAD")) as f:
                    head = f.read().strip()
                if not head.startswith("ref: "):
                    return head or None
                ref = head[5:]
                ref_path = os.path.join(git, ref)
                if os.path.exists(ref_path):
                    with open(ref_path) as f:
                        return f.read().strip() or None
                packed = os.path.join(git, "packed-refs")
                if os.path.exists(packed):
                    with open(packed) as f:
                        for line in f:
                            parts = line.split()
                            if len(parts) == 2 and parts[1] == ref:
                                return parts[0]
            except OSError:
                return None
            return None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _system_tags() -> dict[str, str]:
    source = _source_name()
    tags = {"mlflow.user": _user(), "mlflow.source.name": source,
            "mlflow.source.type": SourceType.to_string(SourceType.LOCAL)}
    commit = _git_commit(source)
    if commit:
        tags["mlflow.source.git.commit"] = commit
    return tags


def start_run(run_id: str | None = None, experiment_id: str | None = None, run_name: str | None = None,
              nested: bool = False, parent_run_id: str | None = None, tags: dict | None = None,
              description: str | None = None, log_system_metrics: bool | None = None) -> ActiveRun:
    """``mlflow.start_run``: start a new run or resume ``run_id``; use it as a context manager."""
    stack = _runs.stack
    if stack and not nested:
        raise MlflowException.invalid_parameter_value(
            f"Run with UUID {stack[-1].info.run_id} is already active. To start a new run, first end the "
            "current run with mlflow.end_run(). To start a nested run, call start_run with nested=True"
        )
    client = _client()
    parent = stack[-1].info.run_id if (nested and stack) else None
    if nested and parent is None and _inherited:
        parent = _inherited[-1].info.run_id
    if parent_run_id is not None:
        if parent is not None and parent != parent_run_id:
            raise MlflowException.invalid_parameter_value(
                f"Current run with UUID {parent} does not match the specified parent_run_id {parent_run_id}."
            )
        parent = parent_run_id
    existing = run_id or os.environ.get("MLFLOW_RUN_ID")
    if existing:
        run = client.get_run(existing)
        if run.info.lifecycle_stage != "active":
            raise MlflowException.invalid_parameter_value(
                f"Cannot start run with ID {existing} because it is in the deleted state.")
        if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
            raise MlflowException.invalid_parameter_value(
                f"The provided experiment_id {experiment_id} does not match the experiment of run {existing}.")
        for key, value in (tags or {}).items():
            client.set_tag(existing, key, value)
        if description:
            client.set_tag(existing, "mlflow.note.content", description)
        client.update_run(existing, "RUNNING")
        run = client.get_run(existing)
    else:
        all_tags = _system_tags()
        all_tags.update({str(k): str(v) for k, v in (tags or {}).items()})
        if parent:
            all_tags["mlflow.parentRunId"] = parent
        if description:
            all_tags["mlflow.note.content"] = description
        exp_id = str(experiment_id) if experiment_id is not None else _experiment_id_for_new_run()
        run = client.create_run(exp_id, tags=all_tags, run_name=run_name)
    active = ActiveRun(run)
    stack.append(active)
    return active


def _end(run: ActiveRun, status: str, pop_from: list, deadline: float | None = None) -> None:
    """Queue the run's end behind its data, then wait for delivery, at most until the exit timeout.

    Past it the caller goes on: the data and the end of the run are still delivered (by the agent, also
    after this process is gone), and a warning says so. Refusals for this run are raised here.
    """
    if run in pop_from:
        pop_from.remove(run)
    s = session.get_session()
    run_id = run.info.run_id
    s.end_run(run_id, status, int(_time() * 1000))
    if deadline is None:
        deadline = time.monotonic() + config.exit_timeout()
    delivered = s.flush(timeout=max(0.0, deadline - time.monotonic()), raise_errors=False)
    failures = s.take_failures(run_id)
    if failures:
        raise DeliveryError(failures)
    if not delivered:
        where = "the delivery agent" if s.worker is None else "this process's worker while it lives"
        warnings.warn(f"asyncclient: run {run_id} was not fully delivered to {s.tracking_uri} within "
                      f"{config.exit_timeout():g} s (ASYNCCLIENT_EXIT_TIMEOUT); {where} goes on delivering it "
                      f"and marks it {status} after its data.", stacklevel=3)


def end_run(status: str = "FINISHED") -> None:
    """``mlflow.end_run``: deliver everything logged to the active run, then mark it ended.

    Raises DeliveryError naming the keys and the server's message if any of its data was refused.
    """
    stack = _runs.stack
    if not stack:
        return
    _end(stack[-1], status, pop_from=stack)


def active_run() -> ActiveRun | None:
    """``mlflow.active_run``: this thread's run (or the main thread's, which this thread logs to)."""
    stack = _runs.stack
    if stack:
        return stack[-1]
    return _main_stack[-1] if _main_stack else None


def last_active_run() -> Run | None:
    run = active_run()
    return _client().get_run(run.info.run_id) if run else None


def _end_runs_at_exit(deadline: float) -> None:
    # As MLflow's atexit: runs this process started and left open are ended FINISHED. Runs inherited by a
    # forked child belong to the parent and stay open.
    # The ends are queued behind the runs' data; the session's shutdown then waits for all of it at once,
    # until the exit deadline, and says what the agent still has to deliver.
    s = session.current_session()
    for run in reversed(list(_main_stack)):
        if run._pid == os.getpid() and s is not None:
            _main_stack.remove(run)
            s.end_run(run.info.run_id, "FINISHED", int(_time() * 1000))


session._exit_hooks.append(_end_runs_at_exit)


# ---- logging: the hot path ----

def log_metric(key: str, value: float, step: int | None = None, synchronous: bool | None = None,
               timestamp: int | None = None, run_id: str | None = None, model_id: str | None = None,
               dataset=None) -> None:
    """``mlflow.log_metric`` (same parameters, same order): one point into the buffer, about a microsecond.

    ``synchronous=True`` also waits for delivery, as MLflow's default does. ``model_id`` and ``dataset``
    (MLflow 3's links of a metric to a logged model) are not recorded; a warning says so once.
    """
    s = session._session  # reset to None in a forked child by the at-fork hook, so no pid check here
    if s is None:
        s = session.get_session()
    if run_id is None:
        stack = _runs.stack
        run_id = stack[-1]._info._run_id if stack else _current_run_id()
    if key not in _known_good_keys:
        validation.validate_key(key, "metric")
    if type(value) is not float:
        value = validation.metric_value(value, key)
    if timestamp is None:
        timestamp = int(_time() * 1000)
    elif type(timestamp) is not int or timestamp < 0:
        timestamp = validation.metric_timestamp(timestamp, key)
    if step is None:
        step = 0
    elif type(step) is not int:
        step = validation.metric_step(step, key)
    try:
        if s.ring.append_metric(run_id, key, value, timestamp, step):
            s.wake()
    except RingFull:
        s.log_metric(run_id, key, value, timestamp, step)  # waits for room (backpressure)
    if synchronous or model_id is not None or dataset is not None:
        _after_log_metric(s, synchronous, model_id, dataset)


def _after_log_metric(s, synchronous, model_id, dataset) -> None:
    if model_id is not None or dataset is not None:
        _warn_once("model_id", "asyncclient does not record a metric's model_id or dataset link; the point was "
                   "logged to the run only")
    if synchronous:
        s.flush()


_warned: set[str] = set()


def _warn_once(what: str, message: str) -> None:
    if what not in _warned:
        _warned.add(what)
        warnings.warn(message, stacklevel=3)


def log_metrics(metrics: dict, step: int | None = None, synchronous: bool | None = None, run_id: str | None = None,
                timestamp: int | None = None, model_id: str | None = None, dataset=None) -> None:
    """``mlflow.log_metrics`` (same parameters, same order): all points share one timestamp, as in MLflow."""
    timestamp = int(_time() * 1000) if timestamp is None else timestamp
    for key, value in metrics.items():
        log_metric(key, value, step, timestamp=timestamp, run_id=run_id, model_id=model_id, dataset=dataset)
    if synchronous:
        flush()


def log_param(key: str, value, synchronous: bool | None = None):
    """``mlflow.log_param``: returns the value; a different value for a logged key raises here."""
    run_id = _current_run_id()
    validation.validate_key(key, "param")
    value = validation.param_value(key, value)
    session.get_session().log_param(run_id, key, value)
    if synchronous:
        flush()
    return value


def log_params(params: dict, synchronous: bool | None = None, run_id: str | None = None) -> None:
    """``mlflow.log_params``."""
    run_id = run_id or _current_run_id()
    s = session.get_session()
    for key, value in params.items():
        validation.validate_key(key, "param")
        s.log_param(run_id, key, validation.param_value(key, value))
    if synchronous:
        flush()


def set_tag(key: str, value, synchronous: bool | None = None) -> None:
    """``mlflow.set_tag``."""
    run_id = _current_run_id()
    validation.validate_key(key, "tag")
    session.get_session().set_tag(run_id, key, validation.tag_value(key, value))
    if synchronous:
        flush()


def set_tags(tags: dict, synchronous: bool | None = None) -> None:
    """``mlflow.set_tags``."""
    run_id = _current_run_id()
    s = session.get_session()
    for key, value in tags.items():
        validation.validate_key(str(key), "tag")
        s.set_tag(run_id, str(key), validation.tag_value(key, value))
    if synchronous:
        flush()


def delete_tag(key: str) -> None:
    """``mlflow.delete_tag``: ordered after earlier set_tag calls for the same run."""
    session.get_session().delete_tag(_current_run_id(), key)


def flush(timeout: float | None = None) -> bool:
    """Wait until everything logged so far is stored; raise DeliveryError for what the server refused.

    Returns False when ``timeout`` (seconds) passed first; the data is still being delivered.
    (MLflow's equivalent is ``mlflow.flush_async_logging``.)
    """
    s = session.current_session()
    if s is None:
        return True
    return s.flush(timeout)


def flush_async_logging() -> None:
    flush()
