"""Run RPCs (``/mlflow/runs/*``) except log-batch, as MLflow's ``_create_run``, ``_search_runs``..."""

from __future__ import annotations

import orjson
from aiohttp import web

from asyncclient.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelOutput,
    Metric,
    ModelMetric,
    Param,
    RunTag,
    ViewType,
)
from asyncclient.exceptions import MlflowException
from asyncclient.server.protocol import (
    DOUBLE,
    INT64,
    KEY_VALUE,
    RUN_STATUS,
    STRING,
    VIEW_TYPE,
    Field,
    Message,
    empty_response,
    json_response,
    parse_request,
    required,
    run_id_of,
)
from asyncclient.server.state import store_call
from asyncclient.validation import MAX_RESULTS_SEARCH_RUNS, validate_run_id
from asyncclient.wire import run_info_to_json, run_to_json

routes = web.RouteTableDef()

_RUN_REF = (Field("run_id", STRING), Field("run_uuid", STRING))
_CREATE = Message(
    Field("experiment_id", STRING), Field("user_id", STRING), Field("run_name", STRING),
    Field("start_time", INT64), Field("tags", KEY_VALUE, True),
    # Not in MLflow's proto: an asyncclient client picks the id so that a retried create is idempotent.
    Field("run_id", STRING),
)
_GET = Message(*_RUN_REF)
_UPDATE = Message(*_RUN_REF, Field("status", RUN_STATUS), Field("end_time", INT64), Field("run_name", STRING))
_SEARCH = Message(
    Field("experiment_ids", STRING, True), Field("filter", STRING), Field("run_view_type", VIEW_TYPE),
    Field("max_results", INT64), Field("order_by", STRING, True), Field("page_token", STRING),
)
_LOG_METRIC = Message(
    *_RUN_REF, Field("key", STRING), Field("value", DOUBLE), Field("timestamp", INT64), Field("step", INT64),
    Field("model_id", STRING), Field("dataset_name", STRING), Field("dataset_digest", STRING),
)
_KEY_VALUE_ON_RUN = Message(*_RUN_REF, Field("key", STRING), Field("value", STRING))
_DATASET = Message(
    Field("name", STRING), Field("digest", STRING), Field("source_type", STRING), Field("source", STRING),
    Field("schema", STRING), Field("profile", STRING),
)
_LOG_INPUTS = Message(
    Field("run_id", STRING),
    Field("datasets", Message(Field("tags", KEY_VALUE, True), Field("dataset", _DATASET)), True),
    Field("models", Message(Field("model_id", STRING)), True),
)
_LOG_MODEL = Message(*_RUN_REF, Field("model_json", STRING))
_OUTPUTS = Message(Field("run_id", STRING), Field("models", Message(Field("model_id", STRING), Field("step", INT64)), True))

_DEFAULT_MAX_RESULTS = 1000
_LOGGED_MODELS_TAG = "mlflow.log-model.history"


@routes.post("/runs/create")
async def create_run(request: web.Request) -> web.Response:
    """``POST runs/create`` -> ``{"run"}`` (MLflow ``_create_run``); an empty experiment id means ``"0"``."""
    f = await parse_request(request, _CREATE)
    run_id = f.get("run_id") or None
    if run_id is not None:
        validate_run_id(run_id)
    tags = [RunTag(required(t, "key"), t.get("value", "")) for t in f.get("tags", ())]
    run = await store_call(
        request, "create_run", f.get("experiment_id") or "0", f.get("user_id", ""), f.get("start_time", 0),
        tags, f.get("run_name") or None, run_id=run_id,
    )
    body = run_to_json(run)
    body.pop("outputs", None)  # MLflow's CreateRun response has no outputs (GetRun's does)
    return json_response({"run": body})


@routes.get("/runs/get")
async def get_run(request: web.Request) -> web.Response:
    """``GET runs/get`` -> ``{"run"}``; deleted runs are returned too."""
    f = await parse_request(request, _GET)
    run_id = run_id_of(f)
    run = await store_call(request, "get_run", run_id)
    body = run_to_json(run)
    outputs, model_inputs = await store_call(request, "get_run_model_edges", run_id)
    if outputs:
        body["outputs"] = {"model_outputs": [{"model_id": o.model_id, "step": o.step} for o in outputs]}
    if model_inputs:
        body["inputs"]["model_inputs"] = [{"model_id": m} for m in model_inputs]
    return json_response({"run": body})


@routes.post("/runs/update")
async def update_run(request: web.Request) -> web.Response:
    """``POST runs/update`` -> ``{"run_info"}``; unset status / end_time keep their old values."""
    f = await parse_request(request, _UPDATE)
    info = await store_call(
        request, "update_run_info", run_id_of(f), f.get("status"), f.get("end_time"), f.get("run_name"),
    )
    return json_response({"run_info": run_info_to_json(info)})


@routes.post("/runs/delete")
async def delete_run(request: web.Request) -> web.Response:
    """``POST runs/delete``: mark the run deleted."""
    f = await parse_request(request, _GET)
    await store_call(request, "delete_run", required(f, "run_id"))
    return empty_response()


@routes.post("/runs/restore")
async def restore_run(request: web.Request) -> web.Response:
    """``POST runs/restore``: undo a delete."""
    f = await parse_request(request, _GET)
    await store_call(request, "restore_run", required(f, "run_id"))
    return empty_response()


@routes.post("/runs/search")
async def search_runs(request: web.Request) -> web.Response:
    """``POST runs/search`` -> ``{"runs", "next_page_token"}``; max_results 1..50000, default 1000."""
    f = await parse_request(request, _SEARCH)
    max_results = f.get("max_results", _DEFAULT_MAX_RESULTS)
    if max_results > MAX_RESULTS_SEARCH_RUNS or max_results < 1:
        raise MlflowException.invalid_parameter_value(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at most "
            f"{MAX_RESULTS_SEARCH_RUNS}, and at least 1."
        )
    page = await store_call(
        request, "search_runs", list(f.get("experiment_ids", ())), filter_string=f.get("filter", ""),
        run_view_type=f.get("run_view_type", ViewType.ACTIVE_ONLY), max_results=max_results,
        order_by=f.get("order_by") or None, page_token=f.get("page_token") or None,
    )
    body: dict = {}
    if page:
        body["runs"] = [run_to_json(r) for r in page]
    if page.token:
        body["next_page_token"] = page.token
    return json_response(body)


@routes.post("/runs/log-metric")
async def log_metric(request: web.Request) -> web.Response:
    """``POST runs/log-metric``: one point; key, value and timestamp are required, step defaults to 0."""
    f = await parse_request(request, _LOG_METRIC)
    run_id = run_id_of(f)
    metric = Metric(required(f, "key"), required(f, "value"), required(f, "timestamp"), f.get("step", 0))
    if f.get("model_id"):
        # MLflow 3: the point also belongs to a logged model (and maybe a dataset).
        linked = ModelMetric(f["model_id"], metric.key, metric.value, metric.timestamp, metric.step,
                             f.get("dataset_name") or None, f.get("dataset_digest") or None)
        await store_call(request, "log_batch", run_id, [metric], [], [], model_metrics=[linked])
    else:
        await store_call(request, "log_metric", run_id, metric)
    return empty_response()


@routes.post("/runs/log-parameter")
async def log_param(request: web.Request) -> web.Response:
    """``POST runs/log-parameter``; re-logging the same value is a no-op, a different one is a 400."""
    f = await parse_request(request, _KEY_VALUE_ON_RUN)
    run_id = run_id_of(f)
    await store_call(request, "log_param", run_id, Param(required(f, "key"), f.get("value", "")))
    return empty_response()


@routes.post("/runs/set-tag")
async def set_tag(request: web.Request) -> web.Response:
    """``POST runs/set-tag``; last write wins, ``mlflow.runName`` also renames the run."""
    f = await parse_request(request, _KEY_VALUE_ON_RUN)
    run_id = run_id_of(f)
    await store_call(request, "set_tag", run_id, RunTag(required(f, "key"), f.get("value", "")))
    return empty_response()


@routes.post("/runs/delete-tag")
async def delete_tag(request: web.Request) -> web.Response:
    """``POST runs/delete-tag``; 404 when the run has no such tag."""
    f = await parse_request(request, _KEY_VALUE_ON_RUN)
    await store_call(request, "delete_tag", required(f, "run_id"), required(f, "key"))
    return empty_response()


def _dataset_input(d: dict, i: int) -> DatasetInput:
    ds = required(d, f"datasets[{i}].dataset", d.get("dataset"))
    dataset = Dataset(
        *(required(ds, f"datasets[{i}].dataset.{k}", ds.get(k)) for k in ("name", "digest", "source_type", "source")),
        ds.get("schema"), ds.get("profile"),
    )
    tags = [InputTag(required(t, f"datasets[{i}].tags.key", t.get("key")), t.get("value", "")) for t in d.get("tags", ())]
    return DatasetInput(dataset, tags)


@routes.post("/runs/log-inputs")
async def log_inputs(request: web.Request) -> web.Response:
    """``POST runs/log-inputs``: dataset inputs, stored once per (dataset, run)."""
    f = await parse_request(request, _LOG_INPUTS)
    run_id = required(f, "run_id")
    datasets = [_dataset_input(d, i) for i, d in enumerate(f.get("datasets", ()))]
    await store_call(request, "log_inputs", run_id, datasets)
    model_ids = [required(m, f"models[{i}].model_id", m.get("model_id")) for i, m in enumerate(f.get("models", ()))]
    if model_ids:
        await store_call(request, "log_model_inputs", run_id, model_ids)
    return empty_response()


def _model_history_entry(model_json: str) -> dict:
    try:
        model = orjson.loads(model_json)
    except orjson.JSONDecodeError:
        model = None
    if not isinstance(model, dict):
        raise MlflowException.invalid_parameter_value(
            f"Malformed model info. \n {model_json} \n is not a valid JSON."
        )
    missing = {"artifact_path", "flavors", "utc_time_created", "run_id"} - set(model)
    if missing:
        raise MlflowException.invalid_parameter_value(f"Model json is missing mandatory fields: {missing}")
    # MLflow's Model.get_tags_dict: a few identifying fields, and flavors without their "config".
    entry = {k: model[k] for k in ("run_id", "utc_time_created", "artifact_path", "model_uuid") if k in model}
    flavors = model.get("flavors") or {}
    entry["flavors"] = {
        name: ({k: v for k, v in conf.items() if k != "config"} if isinstance(conf, dict) else conf)
        for name, conf in flavors.items()
    }
    return entry


@routes.post("/runs/log-model")
async def log_model(request: web.Request) -> web.Response:
    """``POST runs/log-model``: append the model to the run's ``mlflow.log-model.history`` tag."""
    f = await parse_request(request, _LOG_MODEL)
    run_id = run_id_of(f)
    entry = _model_history_entry(required(f, "model_json"))
    run = await store_call(request, "get_run", run_id)
    previous = run.data.tags.get(_LOGGED_MODELS_TAG)
    history = orjson.loads(previous) if previous else []
    history.append(entry)
    await store_call(request, "set_tag", run_id, RunTag(_LOGGED_MODELS_TAG, orjson.dumps(history).decode()))
    return empty_response()


@routes.post("/runs/outputs")
async def log_outputs(request: web.Request) -> web.Response:
    """``POST runs/outputs`` (MLflow 3): the run produced these logged models, each at a step."""
    f = await parse_request(request, _OUTPUTS)
    run_id = required(f, "run_id")
    models = [LoggedModelOutput(required(m, f"models[{i}].model_id", m.get("model_id")), m.get("step", 0))
              for i, m in enumerate(f.get("models", ()))]
    await store_call(request, "log_outputs", run_id, models)
    return empty_response()
