"""Make the installed ``mlflow`` package log through asyncclient: ``asyncclient.patch_mlflow()``.

Code written for MLflow (PyTorch Lightning's ``MLFlowLogger``, MLflow's own autologgers, Hugging Face's
callback, plain ``mlflow.log_metric`` loops) then writes its metrics, params and tags into asyncclient's
ring instead of making one HTTP request per call. Runs are still created, read and searched by MLflow
itself, so run ids, experiments and artifacts are MLflow's; only the writes below change path:

- ``mlflow.tracking.MlflowClient``: ``log_metric``, ``log_param``, ``set_tag``, ``log_batch`` (buffered),
  ``set_terminated`` (delivers the run's data, then ends it), and ``get_run``, ``get_metric_history``,
  ``search_runs`` (wait for this process's pending writes first, so reads see what was logged);
- the fluent ``mlflow.log_metric``, ``log_metrics``, ``log_param``, ``log_params``, ``set_tag``,
  ``set_tags`` (the same path without MLflow's per-call client set-up), and ``mlflow.flush_async_logging``.

Only ``http(s)://`` tracking URIs are redirected (an ``mlflow server`` gets REST JSON, an asyncclient
server msgpack); for any other URI the original MLflow method runs. Metrics linked to a LoggedModel or a
dataset (MLflow 3's ``model_id`` / ``dataset``) also take MLflow's own path, since asyncclient's ring
records run metrics only. Errors the server returns are raised as ``mlflow.exceptions.MlflowException``
from ``set_terminated`` / ``mlflow.end_run`` / ``flush_async_logging`` / ``synchronous=True`` calls,
which is MLflow's own contract for asynchronous logging.

``unpatch_mlflow()`` restores every original. ``python -m asyncclient.patch script.py`` runs an unedited
script patched, as does ``ASYNCCLIENT_PATCH_MLFLOW=1`` for any process that imports ``mlflow`` (through
MLflow's plugin entry points, see ``asyncclient.patch.entrypoint``).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

from asyncclient.patch import _client_methods, _fluent

_lock = threading.Lock()
_originals: list[tuple[object, str, object]] = []  # (owner, attribute, original value)
_atexit_registered = False


def is_patched() -> bool:
    """True while ``patch_mlflow()`` is in effect."""
    return bool(_originals)


def patch_mlflow() -> None:
    """Route the installed ``mlflow`` package's logging calls through asyncclient's buffer (idempotent)."""
    global _atexit_registered
    import mlflow.tracking.client

    with _lock:
        if _originals:
            return
        client_cls = mlflow.tracking.client.MlflowClient
        for name, make in _client_methods.REPLACEMENTS.items():
            _replace(client_cls, name, make(getattr(client_cls, name)))
        if _fluent_module_complete():
            _patch_fluent()
        else:
            # Called while `import mlflow` runs (ASYNCCLIENT_PATCH_MLFLOW): the fluent functions do not exist
            # yet. They go through the patched client meanwhile; the first write patches them too.
            _client_methods.on_first_write = patch_fluent_when_ready
        if not _atexit_registered:
            # Registered after both packages are imported, so it runs before their own exit hooks: MLflow's
            # end of the open runs then goes through asyncclient while its session is still there.
            atexit.register(_end_mlflow_runs_at_exit)
            _atexit_registered = True


def _fluent_module_complete() -> bool:
    # Looked up in sys.modules: during `import mlflow` the attribute mlflow.tracking.fluent is not set yet.
    fluent, package = sys.modules.get("mlflow.tracking.fluent"), sys.modules.get("mlflow")
    return hasattr(fluent, "flush_async_logging") and hasattr(package, "flush_async_logging")


def _patch_fluent() -> None:
    fluent, mlflow = sys.modules["mlflow.tracking.fluent"], sys.modules["mlflow"]
    for name, make in _fluent.REPLACEMENTS.items():
        original = getattr(fluent, name)
        replacement = make(original)
        _replace(fluent, name, replacement)
        if getattr(mlflow, name, None) is original:
            _replace(mlflow, name, replacement)


def patch_fluent_when_ready() -> None:
    with _lock:
        if _originals and _fluent_module_complete():
            _client_methods.on_first_write = None
            _patch_fluent()


def unpatch_mlflow(flush: bool = True) -> None:
    """Undo ``patch_mlflow()``: deliver what is buffered (unless ``flush=False``), restore MLflow's methods."""
    with _lock:
        for owner, name, original in reversed(_originals):
            setattr(owner, name, original)
        _originals.clear()
        _client_methods.on_first_write = None
    if flush:
        _client_methods.flush_all()


def _replace(owner, name: str, replacement) -> None:
    _originals.append((owner, name, getattr(owner, name)))
    setattr(owner, name, replacement)


def _end_mlflow_runs_at_exit() -> None:
    if not is_patched():
        return
    try:
        import mlflow

        while mlflow.active_run() is not None:
            mlflow.end_run()
    except Exception as e:  # exit must finish; the error was the user's to see at end_run
        import sys

        print(f"asyncclient: ending MLflow's open run at exit: {e}", file=sys.stderr)


def patch_from_environment() -> bool:
    """Patch when ``ASYNCCLIENT_PATCH_MLFLOW`` is 1/true/yes; returns whether it did."""
    if os.environ.get("ASYNCCLIENT_PATCH_MLFLOW", "").strip().lower() in ("1", "true", "yes"):
        patch_mlflow()
        return True
    return False


__all__ = ["is_patched", "patch_mlflow", "patch_from_environment", "unpatch_mlflow"]
