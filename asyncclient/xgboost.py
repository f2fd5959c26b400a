"""``asyncclient.xgboost.autolog()``, as ``mlflow.xgboost.autolog()`` (see asyncclient/autolog/xgboost.py)."""

from __future__ import annotations


def autolog(log_models: bool = True, disable: bool = False, silent: bool = False, **_ignored) -> None:
    """Enable (or with ``disable=True`` undo) xgboost autologging; ``mlflow.xgboost.autolog``."""
    from asyncclient.autolog import integration

    if disable:
        integration("xgboost").disable()
    else:
        integration("xgboost").enable(silent=silent, log_models=log_models)
