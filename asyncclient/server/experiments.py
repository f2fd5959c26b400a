"""Experiment RPCs (``/mlflow/experiments/*``), as MLflow's ``_create_experiment``, ``_search_experiments``..."""

from __future__ import annotations

from aiohttp import web

from asyncclient.entities import ExperimentTag, ViewType
from asyncclient.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException
from asyncclient.server.protocol import (
    INT64,
    KEY_VALUE,
    STRING,
    VIEW_TYPE,
    Field,
    Message,
    empty_response,
    json_response,
    parse_request,
    required,
)
from asyncclient.server.state import store_call
from asyncclient.validation import MAX_RESULTS_SEARCH_RUNS
from asyncclient.wire import experiment_to_json

routes = web.RouteTableDef()

_CREATE = Message(Field("name", STRING), Field("artifact_location", STRING), Field("tags", KEY_VALUE, True))
_BY_ID = Message(Field("experiment_id", STRING))
_BY_NAME = Message(Field("experiment_name", STRING))
_SEARCH = Message(
    Field("max_results", INT64), Field("page_token", STRING), Field("filter", STRING),
    Field("order_by", STRING, True), Field("view_type", VIEW_TYPE),
)
_UPDATE = Message(Field("experiment_id", STRING), Field("new_name", STRING))
_SET_TAG = Message(Field("experiment_id", STRING), Field("key", STRING), Field("value", STRING))
_DELETE_TAG = Message(Field("experiment_id", STRING), Field("key", STRING))

# MLflow leaves max_results without a default (so an omitted value is a 400); its client always sends 1000.
_DEFAULT_SEARCH_MAX_RESULTS = 1000


@routes.post("/experiments/create")
async def create_experiment(request: web.Request) -> web.Response:
    """``POST experiments/create`` -> ``{"experiment_id"}`` (MLflow ``_create_experiment``)."""
    f = await parse_request(request, _CREATE)
    name = required(f, "name")
    tags = [ExperimentTag(required(t, "key"), t.get("value", "")) for t in f.get("tags", ())]
    experiment_id = await store_call(request, "create_experiment", name, f.get("artifact_location") or None, tags)
    return json_response({"experiment_id": str(experiment_id)})


@routes.get("/experiments/get")
async def get_experiment(request: web.Request) -> web.Response:
    """``GET experiments/get`` -> ``{"experiment"}``; deleted experiments are returned too."""
    f = await parse_request(request, _BY_ID)
    experiment = await store_call(request, "get_experiment", required(f, "experiment_id"))
    return json_response({"experiment": experiment_to_json(experiment)})


@routes.get("/experiments/get-by-name")
async def get_experiment_by_name(request: web.Request) -> web.Response:
    """``GET experiments/get-by-name`` -> ``{"experiment"}``, 404 when no experiment has that name."""
    f = await parse_request(request, _BY_NAME)
    name = required(f, "experiment_name")
    experiment = await store_call(request, "get_experiment_by_name", name)
    if experiment is None:
        raise MlflowException(f"Could not find experiment with name '{name}'", error_code=RESOURCE_DOES_NOT_EXIST)
    return json_response({"experiment": experiment_to_json(experiment)})


@routes.post("/experiments/search")
@routes.get("/experiments/search")
async def search_experiments(request: web.Request) -> web.Response:
    """``experiments/search`` (POST or GET) -> ``{"experiments", "next_page_token"}``."""
    f = await parse_request(request, _SEARCH)
    max_results = f.get("max_results", _DEFAULT_SEARCH_MAX_RESULTS)
    if not 1 <= max_results <= MAX_RESULTS_SEARCH_RUNS:
        raise MlflowException.invalid_parameter_value(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a positive integer "
            f"at most {MAX_RESULTS_SEARCH_RUNS}."
        )
    page = await store_call(
        request, "search_experiments",
        view_type=f.get("view_type", ViewType.ACTIVE_ONLY), max_results=max_results,
        filter_string=f.get("filter") or None, order_by=f.get("order_by") or None,
        page_token=f.get("page_token") or None,
    )
    body: dict = {}
    if page:
        body["experiments"] = [experiment_to_json(e) for e in page]
    if page.token:
        body["next_page_token"] = page.token
    return json_response(body)


@routes.post("/experiments/update")
async def update_experiment(request: web.Request) -> web.Response:
    """``POST experiments/update``: rename (MLflow ``_update_experiment``; ``new_name`` is required)."""
    f = await parse_request(request, _UPDATE)
    experiment_id = required(f, "experiment_id")
    await store_call(request, "rename_experiment", experiment_id, required(f, "new_name"))
    return empty_response()


@routes.post("/experiments/delete")
async def delete_experiment(request: web.Request) -> web.Response:
    """``POST experiments/delete``: mark it and its runs deleted."""
    f = await parse_request(request, _BY_ID)
    await store_call(request, "delete_experiment", required(f, "experiment_id"))
    return empty_response()


@routes.post("/experiments/restore")
async def restore_experiment(request: web.Request) -> web.Response:
    """``POST experiments/restore``: undo a delete."""
    f = await parse_request(request, _BY_ID)
    await store_call(request, "restore_experiment", required(f, "experiment_id"))
    return empty_response()


@routes.post("/experiments/set-experiment-tag")
async def set_experiment_tag(request: web.Request) -> web.Response:
    """``POST experiments/set-experiment-tag``; an empty value is accepted, as in MLflow's handler."""
    f = await parse_request(request, _SET_TAG)
    experiment_id = required(f, "experiment_id")
    tag = ExperimentTag(required(f, "key"), f.get("value", ""))
    await store_call(request, "set_experiment_tag", experiment_id, tag)
    return empty_response()


@routes.post("/experiments/delete-experiment-tag")
async def delete_experiment_tag(request: web.Request) -> web.Response:
    """``POST experiments/delete-experiment-tag``."""
    f = await parse_request(request, _DELETE_TAG)
    experiment_id = required(f, "experiment_id")
    await store_call(request, "delete_experiment_tag", experiment_id, required(f, "key"))
    return empty_response()
