"""Automatic logging (``mlflow.autolog``): integrations that call the fluent API, so they inherit the
batching core's speed and guarantees. Today: scikit-learn."""

from __future__ import annotations

import importlib.util

from asyncclient.autolog import sklearn as _sklearn

INTEGRATIONS = {"sklearn": _sklearn}


def autolog(log_input_examples: bool = False, log_model_signatures: bool = True, log_models: bool = True,
            log_datasets: bool = True, disable: bool = False, exclusive: bool = False,
            disable_for_unsupported_versions: bool = False, silent: bool = False, **_ignored) -> None:
    """``mlflow.autolog``: enable (or, with ``disable=True``, undo) autologging for every installed
    library asyncclient integrates with. Params, training metrics and estimator tags are logged;
    models are not yet (``log_models`` is accepted for compatibility)."""
    for module_name, integration in INTEGRATIONS.items():
        if importlib.util.find_spec(module_name) is None:
            continue
        if disable:
            integration.disable()
        else:
            integration.enable(silent=silent)
