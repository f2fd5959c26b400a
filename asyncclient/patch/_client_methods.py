"""Replacements for ``mlflow.tracking.MlflowClient``'s write methods, and the per-URI asyncclient clients
they write through. Each factory takes MLflow's original method and returns the replacement."""

from __future__ import annotations

import functools
import os
import time

from asyncclient.exceptions import DeliveryError
from asyncclient.exceptions import MlflowException as AsyncclientException

_clients: dict[tuple[int, str], object] = {}  # (pid, tracking URI) -> asyncclient MlflowClient
_written: set[tuple[int, str]] = set()  # destinations with writes a read must wait for
READ_YOUR_WRITES_TIMEOUT = 60.0
on_first_write = None  # set by patch_mlflow() when it ran inside `import mlflow`


def redirected_uri(uri: str) -> str | None:
    """The URI when asyncclient takes its writes (tracking servers), else None (MLflow's path)."""
    return uri if uri.startswith(("http://", "https://")) else None


def client_for(uri: str):
    """asyncclient's client for ``uri``, with a session of its own: MLflow may change its tracking URI at
    any time, and asyncclient's process-wide session would stay on the old one."""
    key = (os.getpid(), uri)
    client = _clients.get(key)
    if client is None:
        from asyncclient.tracking.client import MlflowClient, _OtherDestination

        client = MlflowClient(uri)
        client._own = _OtherDestination(uri)
        _clients[key] = client
        if on_first_write is not None:
            on_first_write()
    _written.add(key)
    return client


def as_mlflow_error(error: AsyncclientException) -> Exception:
    """The same error as MLflow's own exception type, so code that catches MLflow's errors still does."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import ErrorCode

    try:
        code = ErrorCode.Value(str(error.error_code))
    except ValueError:
        code = ErrorCode.Value("INTERNAL_ERROR")
    return MlflowException(str(error.message if hasattr(error, "message") else error), error_code=code)


def mlflow_errors(fn):
    """Raise asyncclient's errors (bad input at the call site, refusals at flush) as MLflow's."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AsyncclientException as e:
            raise as_mlflow_error(e) from e

    return wrapper


def flush_uri(uri: str, run_id: str | None = None) -> None:
    """Wait until everything buffered for ``uri`` is stored; raise what the server refused."""
    client = _clients.get((os.getpid(), uri))
    if client is None:
        return
    s = client._session()
    s.flush(raise_errors=False)
    _written.discard((os.getpid(), uri))
    failures = s.take_failures(run_id)
    if failures:
        raise as_mlflow_error(DeliveryError(failures))


def flush_all() -> None:
    for pid, uri in list(_clients):
        if pid == os.getpid():
            flush_uri(uri)


def _read_barrier(uri: str) -> None:
    key = (os.getpid(), uri)
    if key in _written:
        _written.discard(key)
        _clients[key]._session().flush(READ_YOUR_WRITES_TIMEOUT, raise_errors=False)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _log_metric(original):
    @functools.wraps(original)
    @mlflow_errors
    def log_metric(self, run_id, key, value, timestamp=None, step=None, synchronous=None, dataset_name=None,
                   dataset_digest=None, model_id=None):
        uri = redirected_uri(self.tracking_uri)
        if uri is None or model_id is not None or dataset_name is not None:
            return original(self, run_id, key, value, timestamp=timestamp, step=step, synchronous=synchronous,
                            dataset_name=dataset_name, dataset_digest=dataset_digest, model_id=model_id)
        client_for(uri).log_metric(run_id, key, value, timestamp or _now_ms(), step or 0)
        if synchronous:
            flush_uri(uri, run_id)

    return log_metric


def _log_param(original):
    @functools.wraps(original)
    @mlflow_errors
    def log_param(self, run_id, key, value, synchronous=None):
        uri = redirected_uri(self.tracking_uri)
        if uri is None:
            return original(self, run_id, key, value, synchronous=synchronous)
        value = client_for(uri).log_param(run_id, key, value)
        if synchronous:
            flush_uri(uri, run_id)
        return value

    return log_param


def _set_tag(original):
    @functools.wraps(original)
    @mlflow_errors
    def set_tag(self, run_id, key, value, synchronous=None):
        uri = redirected_uri(self.tracking_uri)
        if uri is None:
            return original(self, run_id, key, value, synchronous=synchronous)
        client_for(uri).set_tag(run_id, key, value)
        if synchronous:
            flush_uri(uri, run_id)

    return set_tag


def _delete_tag(original):
    # Buffered too, so it lands after the set_tag calls before it, as with MLflow.
    @functools.wraps(original)
    @mlflow_errors
    def delete_tag(self, run_id, key):
        uri = redirected_uri(self.tracking_uri)
        if uri is None or (os.getpid(), uri) not in _clients:
            return original(self, run_id, key)
        client_for(uri).delete_tag(run_id, key)

    return delete_tag


def _log_batch(original):
    @functools.wraps(original)
    @mlflow_errors
    def log_batch(self, run_id, metrics=(), params=(), tags=(), synchronous=None):
        uri = redirected_uri(self.tracking_uri)
        if uri is None:
            return original(self, run_id, metrics=metrics, params=params, tags=tags, synchronous=synchronous)
        metrics = list(metrics)
        if any(getattr(m, "model_id", None) or getattr(m, "dataset_name", None) for m in metrics):
            # Metrics linked to a LoggedModel or dataset: MLflow's own request, after what is buffered.
            flush_uri(uri)
            return original(self, run_id, metrics=metrics, params=params, tags=tags, synchronous=synchronous)
        client_for(uri).log_batch(run_id, metrics, list(params), list(tags))
        if synchronous:
            flush_uri(uri, run_id)

    return log_batch


def _set_terminated(original):
    @functools.wraps(original)
    @mlflow_errors
    def set_terminated(self, run_id, status=None, end_time=None):
        uri = redirected_uri(self.tracking_uri)
        if uri is None or (os.getpid(), uri) not in _clients:
            return original(self, run_id, status=status, end_time=end_time)
        # Queued behind the run's buffered data; waits for delivery and raises the run's refusals.
        client_for(uri).set_terminated(run_id, status, end_time)
        _written.discard((os.getpid(), uri))

    return set_terminated


def _read(original):
    @functools.wraps(original)
    def read(self, *args, **kwargs):
        uri = redirected_uri(self.tracking_uri)
        if uri is not None:
            _read_barrier(uri)
        return original(self, *args, **kwargs)

    return read


REPLACEMENTS = {
    "log_metric": _log_metric,
    "log_param": _log_param,
    "set_tag": _set_tag,
    "delete_tag": _delete_tag,
    "log_batch": _log_batch,
    "set_terminated": _set_terminated,
    "get_run": _read,
    "get_metric_history": _read,
    "search_runs": _read,
}
