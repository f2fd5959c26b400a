"""``MlflowClient``'s Model Registry and LoggedModel read methods, and ``register_model``.

Calls go to the client's destination (the embedded store or a server's REST API) synchronously, as
MLflow's registry calls do; none of them goes through the logging ring.
"""

from __future__ import annotations

import urllib.parse

from asyncclient.entities import LoggedModel, ModelVersion, PagedList, RegisteredModel
from asyncclient.exceptions import RESOURCE_ALREADY_EXISTS, MlflowException


def _parse_runs_uri(uri: str) -> tuple[str, str]:
    """``runs:/<run_id>/<path>`` -> (run_id, path)."""
    parsed = urllib.parse.urlparse(uri)
    run_id, _, path = (parsed.netloc + parsed.path).lstrip("/").partition("/")
    if not run_id:
        raise MlflowException.invalid_parameter_value(f"Not a valid runs:/ URI: {uri!r}")
    return run_id, path.strip("/")


class RegistryMethods:
    """Mixed into ``MlflowClient``; ``_call(name, ...)`` runs a store / transport method."""

    # ---- logged models ----
    def get_logged_model(self, model_id: str) -> LoggedModel:
        """``MlflowClient.get_logged_model``."""
        return self._call("get_logged_model", model_id)

    def search_logged_models(self, experiment_ids: list[str], filter_string: str | None = None,
                             datasets: list[dict] | None = None, max_results: int | None = None,
                             order_by: list[dict] | None = None, page_token: str | None = None
                             ) -> PagedList[LoggedModel]:
        """``MlflowClient.search_logged_models``: MLflow's filter grammar; ``order_by`` as dicts
        (``{"field_name": "metrics.acc", "ascending": False}``)."""
        return self._call("search_logged_models", [str(e) for e in experiment_ids], filter_string, datasets,
                          max_results, order_by, page_token)

    # ---- registered models ----
    def create_registered_model(self, name: str, tags: dict | None = None,
                                description: str | None = None) -> RegisteredModel:
        return self._call("create_registered_model", name, {k: str(v) for k, v in (tags or {}).items()},
                          description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._call("get_registered_model", name)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        return self._call("update_registered_model", name, description or "")

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self._call("rename_registered_model", name, new_name)

    def delete_registered_model(self, name: str) -> None:
        self._call("delete_registered_model", name)

    def search_registered_models(self, filter_string: str | None = None, max_results: int = 100,
                                 order_by: list[str] | None = None,
                                 page_token: str | None = None) -> PagedList[RegisteredModel]:
        return self._call("search_registered_models", filter_string, max_results, order_by, page_token)

    def set_registered_model_tag(self, name: str, key: str, value) -> None:
        self._call("set_registered_model_tag", name, key, str(value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call("delete_registered_model_tag", name, key)

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        return self._call("get_latest_versions", name, stages)

    # ---- model versions ----
    def create_model_version(self, name: str, source: str, run_id: str | None = None, tags: dict | None = None,
                             run_link: str | None = None, description: str | None = None,
                             model_id: str | None = None) -> ModelVersion:
        """``MlflowClient.create_model_version``; a ``models:/<id>`` source is resolved to where the logged
        model's files are, so ``models:/name/version`` loads from there (``runs:/`` stays as given, as in MLflow)."""
        storage = None
        if model_id and source.startswith("models:/"):
            storage = self.get_logged_model(model_id).artifact_location
        elif source.startswith("runs:/"):
            run_id = run_id or _parse_runs_uri(source)[0]
        return self._call("create_model_version", name, source, run_id,
                          {k: str(v) for k, v in (tags or {}).items()}, run_link, description, model_id, storage)

    def get_model_version(self, name: str, version) -> ModelVersion:
        return self._call("get_model_version", name, str(version))

    def update_model_version(self, name: str, version, description: str | None = None) -> ModelVersion:
        return self._call("update_model_version", name, str(version), description or "")

    def transition_model_version_stage(self, name: str, version, stage: str,
                                       archive_existing_versions: bool = False) -> ModelVersion:
        """Legacy stages (None / Staging / Production / Archived), as MLflow still supports them."""
        return self._call("transition_model_version_stage", name, str(version), stage, archive_existing_versions)

    def delete_model_version(self, name: str, version) -> None:
        self._call("delete_model_version", name, str(version))

    def search_model_versions(self, filter_string: str | None = None, max_results: int = 10000,
                              order_by: list[str] | None = None,
                              page_token: str | None = None) -> PagedList[ModelVersion]:
        return self._call("search_model_versions", filter_string, max_results, order_by, page_token)

    def get_model_version_download_uri(self, name: str, version) -> str:
        return self._call("get_model_version_download_uri", name, str(version))

    def set_model_version_tag(self, name: str, version, key: str, value) -> None:
        self._call("set_model_version_tag", name, str(version), key, str(value))

    def delete_model_version_tag(self, name: str, version, key: str) -> None:
        self._call("delete_model_version_tag", name, str(version), key)

    # ---- aliases ----
    def set_registered_model_alias(self, name: str, alias: str, version) -> None:
        self._call("set_registered_model_alias", name, alias, str(version))

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._call("delete_registered_model_alias", name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._call("get_model_version_by_alias", name, alias)


def register_model(model_uri: str, name: str, tags: dict | None = None) -> ModelVersion:
    """``mlflow.register_model``: create ``name`` if needed, then a new version of it from ``model_uri``.

    ``models:/<model_id>`` registers that logged model; ``runs:/<run_id>/<path>`` registers the run's logged
    model named ``<path>`` when there is one (as MLflow 3 does), else the run's artifact folder.
    """
    from asyncclient.tracking.client import MlflowClient

    client = MlflowClient()
    try:
        client.create_registered_model(name)
    except MlflowException as e:
        if e.error_code != RESOURCE_ALREADY_EXISTS:
            raise
    source, run_id, model_id = model_uri, None, None
    if model_uri.startswith("models:/") and "@" not in model_uri and model_uri.count("/") == 1:
        model_id = model_uri[len("models:/"):]
        run_id = client.get_logged_model(model_id).source_run_id
    elif model_uri.startswith("runs:/"):
        run_id, path = _parse_runs_uri(model_uri)
        experiment_id = client.get_run(run_id).info.experiment_id
        found = client.search_logged_models(
            [experiment_id], f"source_run_id = '{run_id}' AND name = '{path}'", max_results=1)
        if found:
            model_id = found[0].model_id
            source = f"models:/{model_id}"
    return client.create_model_version(name, source, run_id, tags, model_id=model_id)


def get_logged_model(model_id: str) -> LoggedModel:
    """``mlflow.get_logged_model``."""
    from asyncclient.tracking.client import MlflowClient

    return MlflowClient().get_logged_model(model_id)


def search_logged_models(experiment_ids: list[str] | None = None, filter_string: str | None = None,
                         datasets: list[dict] | None = None, max_results: int | None = None,
                         order_by: list[dict] | None = None) -> list[LoggedModel]:
    """``mlflow.search_logged_models(..., output_format="list")``: every page, in the active experiment
    when no experiment is given."""
    from asyncclient import fluent
    from asyncclient.tracking.client import MlflowClient

    client = MlflowClient()
    ids = [str(e) for e in experiment_ids] if experiment_ids else [fluent._experiment_id_for_new_run()]
    out: list[LoggedModel] = []
    token = None
    while True:
        page = client.search_logged_models(ids, filter_string, datasets, None, order_by, token)
        out.extend(page)
        token = page.token
        if not token or (max_results is not None and len(out) >= max_results):
            return out[:max_results] if max_results is not None else out
