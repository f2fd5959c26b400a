"""``asyncclient.lightgbm.autolog()``, as ``mlflow.lightgbm.autolog()`` (see asyncclient/autolog/lightgbm.py)."""

from __future__ import annotations


def autolog(log_models: bool = True, disable: bool = False, silent: bool = False, **_ignored) -> None:
    """Enable (or with ``disable=True`` undo) lightgbm autologging; ``mlflow.lightgbm.autolog``."""
    from asyncclient.autolog import integration

    if disable:
        integration("lightgbm").disable()
    else:
        integration("lightgbm").enable(silent=silent, log_models=log_models)
