"""``asyncclient.sklearn.autolog()``, as ``mlflow.sklearn.autolog()`` (see asyncclient/autolog/sklearn.py)."""

from __future__ import annotations


def autolog(log_models: bool = True, disable: bool = False, silent: bool = False, max_tuning_runs: int = 5, **_ignored) -> None:
    """Enable (or with ``disable=True`` undo) sklearn autologging; ``mlflow.sklearn.autolog``."""
    from asyncclient.autolog import integration

    if disable:
        integration("sklearn").disable()
    else:
        integration("sklearn").enable(silent=silent, log_models=log_models, max_tuning_runs=max_tuning_runs)
