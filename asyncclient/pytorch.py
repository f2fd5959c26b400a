"""``asyncclient.pytorch.autolog()``, as ``mlflow.pytorch.autolog()`` (see asyncclient/autolog/pytorch.py)."""

from __future__ import annotations


def autolog(log_models: bool = True, disable: bool = False, silent: bool = False, **_ignored) -> None:
    """Enable (or with ``disable=True`` undo) lightning autologging; ``mlflow.pytorch.autolog``."""
    from asyncclient.autolog import integration

    if disable:
        integration("lightning").disable()
    else:
        integration("lightning").enable(silent=silent, log_models=log_models)
