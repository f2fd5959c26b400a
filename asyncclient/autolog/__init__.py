"""Automatic logging (``mlflow.autolog``): integrations that call asyncclient's client, so they inherit the
ring's speed and guarantees. scikit-learn, XGBoost, LightGBM and PyTorch Lightning.

Every integration catches its own logging errors, warns once and lets the user's training finish.
"""

from __future__ import annotations

import importlib
import importlib.util

# library to import -> asyncclient.autolog module with enable(**settings) / disable()
INTEGRATIONS = {"sklearn": "sklearn", "xgboost": "xgboost", "lightgbm": "lightgbm", "lightning": "pytorch"}


def integration(library: str):
    return importlib.import_module(f"asyncclient.autolog.{INTEGRATIONS[library]}")


def autolog(log_input_examples: bool = False, log_model_signatures: bool = True, log_models: bool = True,
            log_datasets: bool = True, disable: bool = False, exclusive: bool = False,
            disable_for_unsupported_versions: bool = False, silent: bool = False, **_ignored) -> None:
    """``mlflow.autolog``: enable (or, with ``disable=True``, undo) autologging for every installed
    library asyncclient integrates with. ``log_models`` stores each fitted model as an artifact."""
    for library in INTEGRATIONS:
        if importlib.util.find_spec(library) is None:
            continue
        if disable:
            integration(library).disable()
        else:
            integration(library).enable(silent=silent, log_models=log_models)
