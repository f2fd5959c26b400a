"""Metric history RPCs (``/mlflow/metrics/*``), as MLflow's ``_get_metric_history`` and bulk handlers."""

from __future__ import annotations

from aiohttp import web

from asyncclient.exceptions import MlflowException
from asyncclient.server.protocol import (
    INT64,
    STRING,
    Field,
    Message,
    json_response,
    parse_request,
    required,
    run_id_of,
)
from asyncclient.server.state import STORE, in_thread, store_call
from asyncclient.wire import double_to_json, metric_to_json

routes = web.RouteTableDef()

_HISTORY = Message(
    Field("run_id", STRING), Field("run_uuid", STRING), Field("metric_key", STRING),
    Field("page_token", STRING), Field("max_results", INT64),
)
_BULK_INTERVAL = Message(
    Field("run_ids", STRING, True), Field("metric_key", STRING), Field("start_step", INT64),
    Field("end_step", INT64), Field("max_results", INT64),
)
_BULK = Message(Field("run_id", STRING, True), Field("metric_key", STRING), Field("max_results", INT64))

MAX_RUNS_PER_BULK_REQUEST = 100
MAX_RESULTS_PER_RUN_INTERVAL = 2500
MAX_RESULTS_BULK = 25000


def _point(m) -> dict:
    return {"key": m.key, "value": double_to_json(m.value), "timestamp": m.timestamp, "step": m.step}


@routes.get("/metrics/get-history")
async def get_metric_history(request: web.Request) -> web.Response:
    """``GET metrics/get-history`` -> ``{"metrics", "next_page_token"}``: the whole history unless
    ``max_results`` (> 0) asks for pages."""
    f = await parse_request(request, _HISTORY)
    run_id = run_id_of(f)
    key = required(f, "metric_key")
    max_results = f.get("max_results")
    if max_results is not None and max_results <= 0:
        raise MlflowException.invalid_parameter_value(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a positive integer."
        )
    page = await store_call(request, "get_metric_history", run_id, key, max_results=max_results,
                            page_token=f.get("page_token") or None)
    body: dict = {}
    if page:
        body["metrics"] = [_point(m) for m in page]
    if page.token:
        body["next_page_token"] = page.token
    return json_response(body)


@routes.get("/metrics/get-history-bulk-interval")
async def get_metric_history_bulk_interval(request: web.Request) -> web.Response:
    """``GET metrics/get-history-bulk-interval`` (MLflow >= 2.11): evenly sampled steps per run, first and
    last kept; ``run_ids`` 1..100, ``max_results`` 1..2500."""
    f = await parse_request(request, _BULK_INTERVAL)
    run_ids = required(f, "run_ids", f.get("run_ids") or None)
    if len(run_ids) > MAX_RUNS_PER_BULK_REQUEST:
        raise MlflowException.invalid_parameter_value(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS_PER_BULK_REQUEST} run_ids. "
            # MLflow's wording, API-docs hint included: clients match on messages.
            f"Received {len(run_ids)} run_ids. See the API docs for more information about request parameters."
        )
    key = required(f, "metric_key")
    max_results = f.get("max_results", MAX_RESULTS_PER_RUN_INTERVAL)
    if not 1 <= max_results <= MAX_RESULTS_PER_RUN_INTERVAL:
        raise MlflowException.invalid_parameter_value(
            f"max_results must be between 1 and {MAX_RESULTS_PER_RUN_INTERVAL}."
        )
    start_step, end_step = f.get("start_step"), f.get("end_step")
    if (start_step is None) != (end_step is None):
        raise MlflowException.invalid_parameter_value(
            "If either start step or end step are specified, both must be specified."
        )
    if start_step is not None and start_step > end_step:
        raise MlflowException.invalid_parameter_value(
            f"end_step must be greater than start_step. Found start_step={start_step} and end_step={end_step}."
        )
    points = await store_call(request, "get_metric_history_bulk_interval", run_ids, key, max_results,
                              start_step=start_step, end_step=end_step)
    body = {"metrics": [metric_to_json(m) for m in points]} if points else {}
    return json_response(body)


@routes.get("/metrics/get-history-bulk")
async def get_metric_history_bulk(request: web.Request) -> web.Response:
    """``GET /ajax-api/2.0/mlflow/metrics/get-history-bulk`` (the UI's, not a proto RPC): full histories of
    up to 100 runs, sorted by run id then (timestamp, step, value), at most 25000 points."""
    f = await parse_request(request, _BULK)
    run_ids = f.get("run_id") or []
    if not run_ids:
        raise MlflowException.invalid_parameter_value("GetMetricHistoryBulk request must specify at least one run_id.")
    if len(run_ids) > MAX_RUNS_PER_BULK_REQUEST:
        raise MlflowException.invalid_parameter_value(
            f"GetMetricHistoryBulk request cannot specify more than {MAX_RUNS_PER_BULK_REQUEST} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    key = f.get("metric_key")
    if key is None:
        raise MlflowException.invalid_parameter_value("GetMetricHistoryBulk request must specify a metric_key.")
    max_results = min(f.get("max_results", MAX_RESULTS_BULK), MAX_RESULTS_BULK)
    store = request.app[STORE]

    def collect() -> list[dict]:
        out: list[dict] = []
        for run_id in sorted(run_ids):
            history = sorted(store.get_metric_history(run_id, key),
                             key=lambda m: (m.timestamp, m.step, m.value))
            out.extend({**_point(m), "run_id": run_id} for m in history)
            if len(out) >= max_results:
                break
        return out[:max_results]

    return json_response({"metrics": await in_thread(request, collect)})
