"""Automatic logging (``mlflow.autolog``): integrations that call asyncclient's client, so they inherit the
ring's speed and guarantees. scikit-learn, XGBoost, LightGBM and PyTorch Lightning.

Every integration catches its own logging errors, warns once and lets the user's training finish.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys

from asyncclient.autolog import _common, _on_import

# library to import -> asyncclient.autolog module with enable(**settings) / disable()
INTEGRATIONS = {"sklearn": "sklearn", "xgboost": "xgboost", "lightgbm": "lightgbm", "lightning": "pytorch"}


def integration(library: str):
    return importlib.import_module(f"asyncclient.autolog.{INTEGRATIONS[library]}")


def autolog(log_input_examples: bool = False, log_model_signatures: bool = True, log_models: bool = True,
            log_datasets: bool = True, disable: bool = False, exclusive: bool = False,
            disable_for_unsupported_versions: bool = False, silent: bool = False, **_ignored) -> None:
    """``mlflow.autolog``: enable (or, with ``disable=True``, undo) autologging for every installed
    library asyncclient integrates with, each when it is imported (now, if it already is).
    ``log_models`` stores each fitted model as an artifact."""
    for library in INTEGRATIONS:
        if disable:
            _on_import.cancel(library)
            if library in sys.modules:
                integration(library).disable()
        elif importlib.util.find_spec(library) is not None:
            enable = functools.partial(_common.guarded, library, _enable, library, silent, log_models)
            _on_import.when_imported(library, enable)


def _enable(library: str, silent: bool, log_models: bool) -> None:
    integration(library).enable(silent=silent, log_models=log_models)
