"""REST transport: MLflow's JSON API over aiohttp (any MLflow-compatible server), and the msgpack fast path
to an asyncclient server, discovered through its capabilities endpoint."""

from __future__ import annotations

import os

import aiohttp
import msgpack
import orjson

from asyncclient import wire
from asyncclient.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    Metric,
    PagedList,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from asyncclient.exceptions import MlflowException, RestException
from asyncclient.transports.base import (
    BatchLimits,
    KeyValue,
    MetricRecords,
    MetricTuple,
    TransientError,
    Transport,
)
from asyncclient.transports.rest_models import RestModelsMixin

API = "/api/2.0/mlflow/"
MSGPACK_CONTENT_TYPE = "application/x-asyncclient-msgpack"
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class RestTransport(RestModelsMixin, Transport):
    limits = BatchLimits()

    def __init__(self, uri: str, request_timeout: float | None = None, credentials: dict | None = None):
        self.uri = uri.rstrip("/")
        if request_timeout is None:
            from asyncclient import config

            request_timeout = config.request_timeout()
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._session: aiohttp.ClientSession | None = None
        self.msgpack = False
        self._headers = {}
        self._auth = None
        # The delivery agent sends for other processes: it gets their credentials, not its own environment's.
        env = credentials if credentials is not None else os.environ
        token = env.get("MLFLOW_TRACKING_TOKEN")
        user, password = env.get("MLFLOW_TRACKING_USERNAME"), env.get("MLFLOW_TRACKING_PASSWORD")
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        elif user and password:
            self._auth = aiohttp.BasicAuth(user, password)

    async def start(self) -> None:
        # Kept-alive connections; a few per host so different runs' batches go out side by side.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=16, keepalive_timeout=30),
            timeout=self._timeout, headers=self._headers, auth=self._auth,
        )
        await self._discover()

    async def _discover(self) -> None:
        """Use msgpack and larger batches only if the server says it is an asyncclient server."""
        try:
            async with self._session.get(self.uri + "/api/2.0/asyncclient/capabilities") as resp:
                if resp.status != 200:
                    return
                caps = orjson.loads(await resp.read())
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return  # the server may be down right now: JSON works everywhere, so start with it
        if isinstance(caps, dict) and caps.get("msgpack_log_batch"):
            self.msgpack = True
            self.limits = BatchLimits(
                metrics=int(caps.get("max_metrics_per_batch", 1000)),
                params=int(caps.get("max_params_tags_per_batch", 100)),
                tags=int(caps.get("max_params_tags_per_batch", 100)),
                entities=int(caps.get("max_metrics_per_batch", 1000)) + 2 * int(caps.get("max_params_tags_per_batch", 100)),
                body_bytes=int(caps.get("max_body_bytes", 8_000_000)),
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # ---- the HTTP exchange ----
    async def _request(self, method: str, path: str, body=None, params=None, raw: bytes | None = None,
                       content_type: str = "application/json") -> dict:
        url = self.uri + API + path
        data = raw if raw is not None else (orjson.dumps(body) if body is not None else None)
        headers = {"Content-Type": content_type} if data is not None else None
        try:
            async with self._session.request(method, url, data=data, params=params, headers=headers) as resp:
                payload = await resp.read()
                status = resp.status
                retry_after = _retry_after(resp.headers)
        except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as e:
            raise TransientError(f"{method} {url}: {type(e).__name__}: {e}") from e
        if status == 200:
            try:
                return orjson.loads(payload) if payload else {}
            except orjson.JSONDecodeError:
                # A login proxy or captive portal answering for the server: not the server's answer, so
                # nothing was stored. Retry (with backoff) until the real server answers.
                raise TransientError(f"{method} {url}: HTTP 200 with a body that is not JSON: "
                                     f"{payload[:120]!r}") from None
        if status in RETRYABLE_STATUSES:
            raise TransientError(f"{method} {url}: HTTP {status}: {payload[:300]!r}", retry_after)
        try:
            error = orjson.loads(payload)
            if not isinstance(error, dict) or "error_code" not in error:
                raise ValueError
        except ValueError:
            code = "ENDPOINT_NOT_FOUND" if status == 404 else "BAD_REQUEST"
            error = {"error_code": code, "message": f"HTTP {status} from {url}: {payload[:300].decode(errors='replace')}"}
        raise RestException(error, http_status=status)

    # ---- the data path ----
    async def log_batch(self, run_id: str, metrics: MetricRecords | list[MetricTuple], params: list[KeyValue],
                        tags: list[KeyValue]) -> None:
        if self.msgpack:
            raw = msgpack.packb({"run_id": run_id, "metrics": list(metrics), "params": params, "tags": tags})
            await self._request("POST", "runs/log-batch", raw=raw, content_type=MSGPACK_CONTENT_TYPE)
            return
        to_json = wire.double_to_json
        body = {
            "run_id": run_id,
            "metrics": [{"key": k, "value": to_json(v), "timestamp": t, "step": s} for k, v, t, s in metrics],
            "params": [{"key": k, "value": v} for k, v in params],
            "tags": [{"key": k, "value": v} for k, v in tags],
        }
        await self._request("POST", "runs/log-batch", body)

    async def delete_tag(self, run_id: str, key: str) -> None:
        await self._request("POST", "runs/delete-tag", {"run_id": run_id, "key": key})

    async def log_inputs(self, run_id: str, datasets: list[DatasetInput]) -> None:
        await self._request("POST", "runs/log-inputs",
                            {"run_id": run_id, "datasets": [wire.dataset_input_to_json(d) for d in datasets]})

    # ---- experiments ----
    async def create_experiment(self, name: str, artifact_location: str | None = None,
                                tags: list[ExperimentTag] | None = None) -> str:
        body = {"name": name, "tags": [{"key": t.key, "value": t.value} for t in tags or []]}
        if artifact_location:
            body["artifact_location"] = artifact_location
        return (await self._request("POST", "experiments/create", body))["experiment_id"]

    async def get_experiment(self, experiment_id: str) -> Experiment:
        js = await self._request("GET", "experiments/get", params={"experiment_id": str(experiment_id)})
        return wire.experiment_from_json(js["experiment"])

    async def get_experiment_by_name(self, experiment_name: str) -> Experiment | None:
        try:
            js = await self._request("GET", "experiments/get-by-name", params={"experiment_name": experiment_name})
        except MlflowException as e:
            if e.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        return wire.experiment_from_json(js["experiment"])

    async def search_experiments(self, view_type: int = ViewType.ACTIVE_ONLY, max_results: int = 1000,
                                 filter_string: str | None = None, order_by: list[str] | None = None,
                                 page_token: str | None = None) -> PagedList:
        body = {"view_type": ViewType.to_string(view_type), "max_results": max_results,
                "order_by": list(order_by or [])}
        if filter_string:
            body["filter"] = filter_string
        if page_token:
            body["page_token"] = page_token
        js = await self._request("POST", "experiments/search", body)
        return PagedList([wire.experiment_from_json(e) for e in js.get("experiments", [])], js.get("next_page_token"))

    async def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        await self._request("POST", "experiments/update", {"experiment_id": str(experiment_id), "new_name": new_name})

    async def delete_experiment(self, experiment_id: str) -> None:
        await self._request("POST", "experiments/delete", {"experiment_id": str(experiment_id)})

    async def restore_experiment(self, experiment_id: str) -> None:
        await self._request("POST", "experiments/restore", {"experiment_id": str(experiment_id)})

    async def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        await self._request("POST", "experiments/set-experiment-tag",
                            {"experiment_id": str(experiment_id), "key": tag.key, "value": tag.value})

    async def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        await self._request("POST", "experiments/delete-experiment-tag",
                            {"experiment_id": str(experiment_id), "key": key})

    # ---- runs ----
    async def create_run(self, experiment_id: str, user_id: str, start_time: int | None, tags: list[RunTag],
                         run_name: str | None, run_id: str | None = None) -> Run:
        body = {"experiment_id": str(experiment_id), "user_id": user_id, "start_time": start_time,
                "tags": [{"key": t.key, "value": t.value} for t in tags]}
        if run_name:
            body["run_name"] = run_name
        if run_id:  # an asyncclient server takes a client-chosen id, which makes a retried create idempotent
            body["run_id"] = run_id
        return wire.run_from_json((await self._request("POST", "runs/create", body))["run"])

    async def get_run(self, run_id: str) -> Run:
        js = await self._request("GET", "runs/get", params={"run_id": run_id})
        return wire.run_from_json(js["run"])

    async def update_run_info(self, run_id: str, run_status, end_time: int | None,
                              run_name: str | None) -> RunInfo:
        body = {"run_id": run_id, "run_uuid": run_id}
        if run_status is not None:
            body["status"] = run_status if isinstance(run_status, str) else RunStatus.to_string(run_status)
        if end_time is not None:
            body["end_time"] = end_time
        if run_name:
            body["run_name"] = run_name
        js = await self._request("POST", "runs/update", body)
        return wire.run_info_from_json(js["run_info"])

    async def delete_run(self, run_id: str) -> None:
        await self._request("POST", "runs/delete", {"run_id": run_id})

    async def restore_run(self, run_id: str) -> None:
        await self._request("POST", "runs/restore", {"run_id": run_id})

    async def get_metric_history(self, run_id: str, metric_key: str, max_results: int | None = None,
                                 page_token: str | None = None) -> PagedList:
        params = {"run_id": run_id, "metric_key": metric_key}
        if max_results is not None:
            params["max_results"] = str(max_results)
        if page_token:
            params["page_token"] = page_token
        js = await self._request("GET", "metrics/get-history", params=params)
        metrics = [Metric(m["key"], wire.double_from_json(m["value"]), int(m.get("timestamp", 0)),
                          int(m.get("step", 0))) for m in js.get("metrics", [])]
        return PagedList(metrics, js.get("next_page_token"))

    async def search_runs(self, experiment_ids: list[str], filter_string: str = "",
                          run_view_type: int = ViewType.ACTIVE_ONLY, max_results: int = 1000,
                          order_by: list[str] | None = None, page_token: str | None = None) -> PagedList:
        body = {"experiment_ids": [str(e) for e in experiment_ids], "filter": filter_string or "",
                "run_view_type": ViewType.to_string(run_view_type), "max_results": max_results,
                "order_by": list(order_by or [])}
        if page_token:
            body["page_token"] = page_token
        js = await self._request("POST", "runs/search", body)
        return PagedList([wire.run_from_json(r) for r in js.get("runs", [])], js.get("next_page_token"))
