"""asyncclient: MLflow-compatible experiment tracking with a non-blocking, loss-free logging client.

``import asyncclient as mlflow`` runs MLflow fluent code unchanged; logging calls return in about a
microsecond and a background worker delivers them in batches.
"""

from asyncclient import artifacts, data, entities, tracking
from asyncclient.autolog import autolog
from asyncclient.entities import Experiment, Metric, Param, Run, RunInfo, RunStatus, RunTag, ViewType
from asyncclient.exceptions import DeliveryError, MlflowException
from asyncclient.fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_tag,
    end_run,
    flush,
    flush_async_logging,
    get_experiment,
    get_experiment_by_name,
    get_tracking_uri,
    last_active_run,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    search_experiments,
    set_experiment,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from asyncclient.fluent_io import (
    get_artifact_uri,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_input,
    log_inputs,
    log_table,
    log_text,
)
from asyncclient.patch import patch_mlflow, unpatch_mlflow
from asyncclient.tracking import MlflowClient
from asyncclient.tracking._registry import get_logged_model, register_model, search_logged_models

Client = MlflowClient
__version__ = "0.1.0"
_AUTOLOG_FLAVORS = ("sklearn", "xgboost", "lightgbm", "pytorch")


def __getattr__(name: str):
    # asyncclient.sklearn.autolog() and the other flavors, imported on first use (not with asyncclient).
    if name in _AUTOLOG_FLAVORS:
        import importlib

        return importlib.import_module(f"asyncclient.{name}")
    raise AttributeError(f"module 'asyncclient' has no attribute {name!r}")


__all__ = [
    "ActiveRun", "Client", "autolog", "DeliveryError", "Experiment", "Metric", "MlflowClient", "MlflowException", "Param",
    "Run", "RunInfo", "RunStatus", "RunTag", "ViewType", "active_run", "create_experiment", "delete_tag",
    "end_run", "entities", "flush", "flush_async_logging", "get_experiment", "get_experiment_by_name",
    "get_tracking_uri", "last_active_run", "log_metric", "log_metrics", "log_param", "log_params",
    "search_experiments", "set_experiment", "set_tag", "set_tags", "set_tracking_uri", "start_run", "tracking",
    # artifacts and datasets
    "artifacts", "data", "get_artifact_uri", "log_artifact", "log_artifacts", "log_dict", "log_figure",
    "log_image", "log_input", "log_inputs", "log_table", "log_text",
    # models: the registry and MLflow 3 LoggedModels
    "get_logged_model", "register_model", "search_logged_models",
    # MLflow's own package logging through asyncclient
    "patch_mlflow", "unpatch_mlflow",
]
