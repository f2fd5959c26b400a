"""The REST transport's LoggedModel and Model Registry calls (MLflow's ``RestStore`` for both), with the
same names and arguments as the store methods, so ``MlflowClient`` calls either one the same way."""

from __future__ import annotations

from asyncclient.entities import LoggedModel, ModelVersion, PagedList, RegisteredModel
from asyncclient.wire_models import (
    logged_model_from_json,
    model_version_from_json,
    registered_model_from_json,
)


def _pairs(d: dict | None) -> list[dict]:
    return [{"key": k, "value": v} for k, v in (d or {}).items()]


class RestModelsMixin:
    """Mixed into ``RestTransport``; ``_request(method, path, body, params)`` does the HTTP exchange."""

    # ---- logged models ----
    async def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        return logged_model_from_json((await self._request("GET", f"logged-models/{model_id}"))["model"])

    async def search_logged_models(self, experiment_ids: list[str], filter_string: str | None = None,
                                   datasets: list[dict] | None = None, max_results: int | None = None,
                                   order_by: list[dict] | None = None,
                                   page_token: str | None = None) -> PagedList[LoggedModel]:
        body = {"experiment_ids": list(experiment_ids), "filter": filter_string, "datasets": datasets or [],
                "max_results": max_results, "order_by": order_by or [], "page_token": page_token}
        js = await self._request("POST", "logged-models/search", {k: v for k, v in body.items() if v is not None})
        return PagedList([logged_model_from_json(m) for m in js.get("models", [])], js.get("next_page_token"))

    # ---- registered models ----
    async def create_registered_model(self, name: str, tags: dict | None = None,
                                      description: str | None = None) -> RegisteredModel:
        body = {"name": name, "tags": _pairs(tags)}
        if description:
            body["description"] = description
        js = await self._request("POST", "registered-models/create", body)
        return registered_model_from_json(js["registered_model"])

    async def get_registered_model(self, name: str) -> RegisteredModel:
        js = await self._request("GET", "registered-models/get", params={"name": name})
        return registered_model_from_json(js["registered_model"])

    async def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        js = await self._request("PATCH", "registered-models/update", {"name": name, "description": description})
        return registered_model_from_json(js["registered_model"])

    async def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        js = await self._request("POST", "registered-models/rename", {"name": name, "new_name": new_name})
        return registered_model_from_json(js["registered_model"])

    async def delete_registered_model(self, name: str) -> None:
        await self._request("DELETE", "registered-models/delete", {"name": name})

    async def search_registered_models(self, filter_string: str | None = None, max_results: int = 100,
                                       order_by: list[str] | None = None,
                                       page_token: str | None = None) -> PagedList[RegisteredModel]:
        params: list = [("max_results", str(max_results))]
        params += [("filter", filter_string)] if filter_string else []
        params += [("order_by", o) for o in order_by or []]
        params += [("page_token", page_token)] if page_token else []
        js = await self._request("GET", "registered-models/search", params=params)
        return PagedList([registered_model_from_json(m) for m in js.get("registered_models", [])],
                         js.get("next_page_token"))

    async def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        await self._request("POST", "registered-models/set-tag", {"name": name, "key": key, "value": value})

    async def delete_registered_model_tag(self, name: str, key: str) -> None:
        await self._request("DELETE", "registered-models/delete-tag", {"name": name, "key": key})

    async def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        js = await self._request("POST", "registered-models/get-latest-versions",
                                 {"name": name, "stages": list(stages or [])})
        return [model_version_from_json(v) for v in js.get("model_versions", [])]

    # ---- model versions ----
    async def create_model_version(self, name: str, source: str, run_id: str | None = None,
                                   tags: dict | None = None, run_link: str | None = None,
                                   description: str | None = None, model_id: str | None = None,
                                   storage_location: str | None = None) -> ModelVersion:
        # storage_location is the embedded store's; a server resolves it from the source itself.
        body = {"name": name, "source": source, "run_id": run_id, "tags": _pairs(tags), "run_link": run_link,
                "description": description, "model_id": model_id}
        js = await self._request("POST", "model-versions/create", {k: v for k, v in body.items() if v is not None})
        return model_version_from_json(js["model_version"])

    async def get_model_version(self, name: str, version) -> ModelVersion:
        js = await self._request("GET", "model-versions/get", params={"name": name, "version": str(version)})
        return model_version_from_json(js["model_version"])

    async def update_model_version(self, name: str, version, description: str) -> ModelVersion:
        js = await self._request("PATCH", "model-versions/update",
                                 {"name": name, "version": str(version), "description": description})
        return model_version_from_json(js["model_version"])

    async def transition_model_version_stage(self, name: str, version, stage: str,
                                             archive_existing_versions: bool = False) -> ModelVersion:
        js = await self._request("POST", "model-versions/transition-stage", {
            "name": name, "version": str(version), "stage": stage,
            "archive_existing_versions": archive_existing_versions})
        return model_version_from_json(js["model_version"])

    async def delete_model_version(self, name: str, version) -> None:
        await self._request("DELETE", "model-versions/delete", {"name": name, "version": str(version)})

    async def search_model_versions(self, filter_string: str | None = None, max_results: int = 10000,
                                    order_by: list[str] | None = None,
                                    page_token: str | None = None) -> PagedList[ModelVersion]:
        params: list = [("max_results", str(max_results))]
        params += [("filter", filter_string)] if filter_string else []
        params += [("order_by", o) for o in order_by or []]
        params += [("page_token", page_token)] if page_token else []
        js = await self._request("GET", "model-versions/search", params=params)
        return PagedList([model_version_from_json(v) for v in js.get("model_versions", [])],
                         js.get("next_page_token"))

    async def get_model_version_download_uri(self, name: str, version) -> str:
        js = await self._request("GET", "model-versions/get-download-uri",
                                 params={"name": name, "version": str(version)})
        return js["artifact_uri"]

    async def set_model_version_tag(self, name: str, version, key: str, value: str) -> None:
        await self._request("POST", "model-versions/set-tag",
                            {"name": name, "version": str(version), "key": key, "value": value})

    async def delete_model_version_tag(self, name: str, version, key: str) -> None:
        await self._request("DELETE", "model-versions/delete-tag", {"name": name, "version": str(version), "key": key})

    # ---- aliases ----
    async def set_registered_model_alias(self, name: str, alias: str, version) -> None:
        await self._request("POST", "registered-models/alias", {"name": name, "alias": alias, "version": str(version)})

    async def delete_registered_model_alias(self, name: str, alias: str) -> None:
        await self._request("DELETE", "registered-models/alias", {"name": name, "alias": alias})

    async def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        js = await self._request("GET", "registered-models/alias", params={"name": name, "alias": alias})
        return model_version_from_json(js["model_version"])
