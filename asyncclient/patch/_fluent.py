"""Replacements for MLflow's fluent logging functions (``mlflow.log_metric`` and friends).

They take the run from MLflow's own active-run stack (starting one as MLflow does) and write through the
same per-URI asyncclient client as the patched ``MlflowClient``, skipping MLflow's per-call client set-up
and run look-ups. Calls MLflow would link to a LoggedModel or dataset keep MLflow's path.
"""

from __future__ import annotations

import functools

from asyncclient.patch._client_methods import (
    _now_ms,
    client_for,
    flush_all,
    flush_uri,
    mlflow_errors,
    redirected_uri,
)


def _destination() -> str | None:
    import mlflow

    return redirected_uri(mlflow.get_tracking_uri())


def _run_id(run_id: str | None, step: int | None = None) -> str | None:
    """The run to log to, or None when MLflow would link the metrics to a model at this step (metrics
    only: params and tags pass no step)."""
    if run_id is not None:
        return run_id
    from mlflow.tracking import fluent

    run = fluent._get_or_start_run()
    outputs = getattr(run, "outputs", None)
    if step is not None and outputs is not None and any(o.step == step for o in outputs.model_outputs):
        return None
    return run.info.run_id


def _links_to_model(model_id) -> bool:
    from mlflow.tracking import fluent

    return model_id is not None or fluent.get_active_model_id() is not None


def _log_metric(original):
    @functools.wraps(original)
    @mlflow_errors
    def log_metric(key, value, step=None, synchronous=None, timestamp=None, run_id=None, model_id=None,
                   dataset=None):
        uri = _destination()
        target = None if uri is None or dataset is not None or _links_to_model(model_id) else _run_id(run_id, step or 0)
        if target is None:
            return original(key, value, step=step, synchronous=synchronous, timestamp=timestamp, run_id=run_id,
                            model_id=model_id, dataset=dataset)
        client_for(uri).log_metric(target, key, value, timestamp or _now_ms(), step or 0)
        if synchronous:
            flush_uri(uri, target)

    return log_metric


def _log_metrics(original):
    @functools.wraps(original)
    @mlflow_errors
    def log_metrics(metrics, step=None, synchronous=None, run_id=None, timestamp=None, model_id=None,
                    dataset=None):
        uri = _destination()
        target = None if uri is None or dataset is not None or _links_to_model(model_id) else _run_id(run_id, step or 0)
        if target is None:
            return original(metrics, step=step, synchronous=synchronous, run_id=run_id, timestamp=timestamp,
                            model_id=model_id, dataset=dataset)
        client = client_for(uri)
        timestamp = timestamp or _now_ms()  # one timestamp for the whole dict, as MLflow
        for key, value in metrics.items():
            client.log_metric(target, key, value, timestamp, step or 0)
        if synchronous:
            flush_uri(uri, target)

    return log_metrics


def _log_param(original):
    @functools.wraps(original)
    @mlflow_errors
    def log_param(key, value, synchronous=None):
        uri = _destination()
        if uri is None:
            return original(key, value, synchronous=synchronous)
        run_id = _run_id(None)
        value = client_for(uri).log_param(run_id, key, value)
        if synchronous:
            flush_uri(uri, run_id)
        return value

    return log_param


def _log_params(original):
    @functools.wraps(original)
    @mlflow_errors
    def log_params(params, synchronous=None, run_id=None):
        uri = _destination()
        if uri is None:
            return original(params, synchronous=synchronous, run_id=run_id)
        run_id = _run_id(run_id)
        client = client_for(uri)
        for key, value in params.items():
            client.log_param(run_id, key, value)
        if synchronous:
            flush_uri(uri, run_id)

    return log_params


def _set_tag(original):
    @functools.wraps(original)
    @mlflow_errors
    def set_tag(key, value, synchronous=None):
        uri = _destination()
        if uri is None:
            return original(key, value, synchronous=synchronous)
        run_id = _run_id(None)
        client_for(uri).set_tag(run_id, key, value)
        if synchronous:
            flush_uri(uri, run_id)

    return set_tag


def _set_tags(original):
    @functools.wraps(original)
    @mlflow_errors
    def set_tags(tags, synchronous=None):
        uri = _destination()
        if uri is None:
            return original(tags, synchronous=synchronous)
        run_id = _run_id(None)
        client = client_for(uri)
        for key, value in tags.items():
            client.set_tag(run_id, str(key), value)
        if synchronous:
            flush_uri(uri, run_id)

    return set_tags


def _flush_async_logging(original):
    @functools.wraps(original)
    def flush_async_logging():
        original()
        flush_all()

    return flush_async_logging


REPLACEMENTS = {
    "log_metric": _log_metric,
    "log_metrics": _log_metrics,
    "log_param": _log_param,
    "log_params": _log_params,
    "set_tag": _set_tag,
    "set_tags": _set_tags,
    "flush_async_logging": _flush_async_logging,
}
