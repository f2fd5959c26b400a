"""Functions that child processes run (importable by spawn and forkserver children)."""

from __future__ import annotations

import os

import asyncclient


def log_points(args) -> int:
    """Log n points of key `key` to `run_id` with explicit run id (works under every start method)."""
    uri, run_id, key, n = args
    asyncclient.set_tracking_uri(uri)
    for step in range(n):
        asyncclient.log_metric(key, float(step), step=step, run_id=run_id)
    return os.getpid()


def log_points_to_inherited_run(args) -> int:
    """Log to the run active in the parent (fork children inherit it, as threads do)."""
    key, n = args
    for step in range(n):
        asyncclient.log_metric(key, float(step), step=step)
    return os.getpid()


def sweep_trial(args) -> str:
    """A hyperparameter-sweep trial: its own nested run under the parent, with params and metrics."""
    uri, experiment_id, parent_run_id, lr, n = args
    asyncclient.set_tracking_uri(uri)
    with asyncclient.start_run(experiment_id=experiment_id, parent_run_id=parent_run_id, nested=True) as run:
        asyncclient.log_param("lr", lr)
        for step in range(n):
            asyncclient.log_metric("loss", lr / (step + 1), step=step)
    return run.info.run_id
