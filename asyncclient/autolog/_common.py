"""What every autolog integration shares: a fit never fails because of logging, and a fit with no active
run gets a run of its own (as in MLflow), ended when the fit returns.

A logging error (the destination refusing, unreachable, a value that cannot be logged) is caught, warned
about once per integration and left behind: the user's training goes on and returns its result.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import threading
import warnings

_warned: set[str] = set()
_state = threading.local()  # .depth: fits nested inside an autologged fit are not logged again


def warn_once(integration: str, error: BaseException) -> None:
    if integration in _warned:
        return
    _warned.add(integration)
    warnings.warn(f"asyncclient autolog ({integration}) could not log this fit and let it go on: "
                  f"{type(error).__name__}: {error}", stacklevel=3)


def guarded(integration: str, fn, *args, **kwargs):
    """Call a logging step; on any error warn once and return None instead of raising."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:
        warn_once(integration, e)
        return None


def nested() -> bool:
    return getattr(_state, "depth", 0) > 0


class FitRun:
    """The run a fit logs to: the active run, or one started for this fit (ended by ``end``).

    ``run_id`` is None when no run could be started; the fit then runs unlogged.
    """

    def __init__(self, integration: str):
        import asyncclient

        self.integration = integration
        self.started = False
        self.run_id = None
        self.experiment_id = None
        active = asyncclient.active_run()
        if active is None:
            active = guarded(integration, asyncclient.start_run)
            self.started = active is not None
        if active is not None:
            self.run_id, self.experiment_id = active.info.run_id, active.info.experiment_id

    def __enter__(self) -> FitRun:
        _state.depth = getattr(_state, "depth", 0) + 1
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        _state.depth -= 1
        if exc_type is not None:
            self.end("FAILED")
        return False

    def end(self, status: str = "FINISHED") -> None:
        if self.started:
            import asyncclient

            self.started = False
            guarded(self.integration, asyncclient.end_run, status)


def client():
    import asyncclient

    return asyncclient.MlflowClient()


def log_params(run_id: str, params: dict) -> None:
    from asyncclient.entities import Param

    items = [Param(str(k), _param_str(v)) for k, v in params.items()]
    for at in range(0, len(items), 100):
        client().log_batch(run_id, params=items[at:at + 100])


def _param_str(value) -> str:
    text = str(value)
    return text if len(text) <= 6000 else text[:5997] + "..."


def log_metrics(run_id: str, metrics: dict, step: int = 0) -> None:
    import time

    from asyncclient.entities import Metric

    now = int(time.time() * 1000)
    items = [Metric(str(k), float(v), now, step) for k, v in metrics.items() if v is not None]
    for at in range(0, len(items), 1000):
        client().log_batch(run_id, metrics=items[at:at + 1000])


def set_tags(run_id: str, tags: dict) -> None:
    for key, value in tags.items():
        client().set_tag(run_id, key, value)


def log_file(run_id: str, name: str, write, artifact_path: str | None = None) -> None:
    """Write a file with ``write(path)`` in a temporary folder and upload it as an artifact."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        write(path)
        client().log_artifact(run_id, path, artifact_path)


def log_json(run_id: str, name: str, data) -> None:
    def write(path):
        with open(path, "w") as f:
            json.dump(data, f, indent=2)

    log_file(run_id, name, write)


def log_pickled_model(run_id: str, model) -> None:
    """``log_models``: the fitted estimator pickled to ``model/model.pkl`` (scikit-learn's own persistence)."""

    def write(path):
        with open(path, "wb") as f:
            pickle.dump(model, f)

    log_file(run_id, "model.pkl", write, "model")


def replace_functions(originals: dict, modules, name: str, wrap) -> None:
    """``module.<name> = wrap(module.<name>)`` in each module that has it and is not wrapped yet (a library
    re-exports ``train`` from several modules); ``originals`` keeps what was there for ``restore_functions``."""
    for module in modules:
        current = getattr(module, name, None)
        if current is None or getattr(current, "__asyncclient_autolog__", False):
            continue
        originals[(module, name)] = current
        setattr(module, name, wrap(current))


def restore_functions(originals: dict) -> None:
    for (module, name), original in originals.items():
        setattr(module, name, original)
    originals.clear()
