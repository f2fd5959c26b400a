"""``ASYNCCLIENT_PATCH_MLFLOW=1``: patch MLflow in processes whose code never imports asyncclient.

MLflow loads the plugins declared under its ``mlflow.default_experiment_provider`` entry-point group while
``import mlflow`` runs (mlflow/tracking/default_experiment/registry.py). asyncclient declares this module
there (pyproject.toml), so any process that imports MLflow with the variable set is patched; without it,
loading changes nothing. The provider itself never claims a default experiment.
"""

from __future__ import annotations

import os


class NoDefaultExperiment:
    """The registered provider: never in context, so MLflow's own default-experiment logic decides."""

    def in_context(self) -> bool:
        return False

    def get_experiment_id(self) -> str | None:
        return None


def _patch_when_asked() -> None:
    if os.environ.get("ASYNCCLIENT_PATCH_MLFLOW"):
        # MLflow is still importing itself here: patch_mlflow() patches MlflowClient now and MLflow's
        # fluent functions once they exist.
        from asyncclient.patch import patch_from_environment

        patch_from_environment()


_patch_when_asked()
