"""``POST runs/log-batch``: MLflow's JSON batch, and the msgpack fast path for asyncclient clients.

This is the ingest hot path: bodies are decoded with orjson / msgpack straight into entities (JSON) or the
store's plain tuples (msgpack), checks are per-item type tests, and the store call runs in the thread pool.
A request is always one store call, so one transaction: it is stored whole or not at all. Retries are safe: the store drops exact
duplicate metric points and accepts an identical param re-log, so a replayed batch neither errors nor
duplicates (MLflow equivalent: ``_log_batch`` in mlflow/server/handlers.py).
"""

from __future__ import annotations

from typing import Any

import msgpack
from aiohttp import web

from asyncclient.entities import Metric, ModelMetric, Param, RunTag
from asyncclient.exceptions import MlflowException
from asyncclient.server.config import MSGPACK_MAX_METRICS_PER_BATCH, MSGPACK_MAX_PARAMS_TAGS_PER_BATCH
from asyncclient.server.protocol import (
    DOUBLE,
    INT64,
    JSON_CONTENT_TYPE,
    check_content_type,
    decode_json_body,
    empty_response,
    required,
)
from asyncclient.server.state import STORE, in_thread
from asyncclient.store.base import TrackingStore
from asyncclient.validation import (
    param_value,
    tag_value,
    validate_batch_limits,
    validate_key,
    validate_run_id,
)

MSGPACK_CONTENT_TYPE = "application/x-asyncclient-msgpack"

routes = web.RouteTableDef()


def _bad(message: str) -> MlflowException:
    return MlflowException.invalid_parameter_value(message)


def _field(item: dict, name: str, path: str) -> Any:
    value = item.get(name)
    if value is None or value == "":
        raise _bad(f"Missing value for required parameter '{path}.{name}'. "
                   "See the API docs for more information about request parameters.")
    return value


def _convert(convert, value: Any, path: str) -> Any:
    try:
        return convert(value)
    except (ValueError, TypeError, OverflowError):
        raise _bad(f"Invalid value {value!r} for parameter '{path}' supplied.") from None


def _json_list(data: dict, name: str) -> list:
    items = data.get(name)
    if items is None:
        return []
    if not isinstance(items, list):
        raise _bad(f"Invalid value for parameter '{name}' supplied: expected a list.")
    return items


def _metric_from_json(m: Any, i: int) -> Metric:
    """One metric with every check and MLflow's messages: the slow path, for anything unusual."""
    if type(m) is not dict:
        raise _bad(f"Invalid value for parameter 'metrics[{i}]': expected an object.")
    key = _field(m, "key", f"metrics[{i}]")
    value = _convert(DOUBLE, _field(m, "value", f"metrics[{i}]"), f"metrics[{i}].value")
    timestamp = _convert(INT64, _field(m, "timestamp", f"metrics[{i}]"), f"metrics[{i}].timestamp")
    step = m.get("step")
    step = 0 if step is None else _convert(INT64, step, f"metrics[{i}].step")
    if type(key) is not str:
        raise _bad(f"Invalid value {key!r} for parameter 'metrics[{i}].key' supplied.")
    return Metric(key, value, timestamp, step)


def metrics_from_json(items: list) -> list[Metric]:
    """MLflow ``Metric`` JSON objects -> entities; key, value and timestamp are required."""
    out = []
    append = out.append
    for i, m in enumerate(items):
        # Fast path: what every well-behaved client sends (float value, int timestamp and step, a key),
        # tested in one expression; strings, "NaN", ints as values and errors take the slow path.
        try:
            key, value, timestamp = m["key"], m["value"], m["timestamp"]
            step = m.get("step", 0)
        except (KeyError, TypeError, AttributeError):
            append(_metric_from_json(m, i))
            continue
        if type(value) is float and type(timestamp) is int and type(step) is int and type(key) is str and key:
            append(Metric(key, value, timestamp, step))
        else:
            append(_metric_from_json(m, i))
    return out


def _pairs_from_json(items: list, name: str, cls: type) -> list:
    out = []
    for i, p in enumerate(items):
        if type(p) is not dict:
            raise _bad(f"Invalid value for parameter '{name}[{i}]': expected an object.")
        key = _field(p, "key", f"{name}[{i}]")
        value = p.get("value")
        if value is None:
            value = ""
        if type(key) is not str or type(value) is not str:
            raise _bad(f"Invalid value for parameter '{name}[{i}]': key and value must be strings.")
        out.append(cls(key, value))
    return out


def decode_json_batch(body: bytes) -> tuple[str, list[Metric], list[Param], list[RunTag]]:
    """A JSON ``LogBatch`` request -> (run_id, metrics, params, tags), within MLflow's batch limits."""
    data = decode_json_body(body)
    if "run_id" in data and "runId" in data:
        raise _bad("Request specifies both 'run_id' and 'runId'; provide only one of them.")
    run_id = data.get("run_id", data.get("runId"))
    run_id = required({"run_id": run_id}, "run_id")
    if type(run_id) is not str:
        raise _bad(f"Invalid value {run_id!r} for parameter 'run_id' supplied.")
    raw_metrics, raw_params, raw_tags = (_json_list(data, n) for n in ("metrics", "params", "tags"))
    validate_batch_limits(raw_metrics, raw_params, raw_tags)
    return (
        run_id, metrics_from_json(raw_metrics),
        _pairs_from_json(raw_params, "params", Param), _pairs_from_json(raw_tags, "tags", RunTag),
    )


def model_metrics_from_json(body: bytes, metrics: list[Metric]) -> list[ModelMetric]:
    """The points of a JSON batch that name a logged model (MLflow 3's ``model_id`` on ``Metric``).

    Only called when the body mentions ``model_id``, so the common batch is decoded once.
    """
    raw = _json_list(decode_json_body(body), "metrics")
    out = []
    for i, (m, metric) in enumerate(zip(raw, metrics, strict=True)):
        model_id = m.get("model_id")
        if not model_id:
            continue
        if type(model_id) is not str:
            raise _bad(f"Invalid value {model_id!r} for parameter 'metrics[{i}].model_id' supplied.")
        out.append(ModelMetric(model_id, metric.key, metric.value, metric.timestamp, metric.step,
                               m.get("dataset_name") or None, m.get("dataset_digest") or None))
    return out


def _msgpack_pairs(items: Any, name: str) -> list:
    if not isinstance(items, list):
        raise _bad(f"msgpack log-batch: '{name}' must be a list of [key, value] pairs.")
    if len(items) > MSGPACK_MAX_PARAMS_TAGS_PER_BATCH:
        raise _bad(f"A batch logging request can contain at most {MSGPACK_MAX_PARAMS_TAGS_PER_BATCH} {name}. "
                   f"Got {len(items)} {name}. Please split up the request into multiple requests.")
    for i, p in enumerate(items):
        if type(p) is not list or len(p) != 2 or type(p[0]) is not str or type(p[1]) is not str:
            raise _bad(f"msgpack log-batch: {name}[{i}] must be [key: str, value: str], got {p!r}.")
    return items


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def decode_msgpack_batch(body: bytes) -> tuple[str, list, list, list]:
    """The asyncclient msgpack batch: ``{"run_id", "metrics": [[key, value, timestamp_ms, step]],
    "params": [[key, value]], "tags": [[key, value]]}``, up to 10000 metrics and 1000 params / tags.

    Returns (run_id, metrics as (key, float value, timestamp, step) sequences, params and tags as (key,
    value) pairs): the shapes ``store.log_batch_tuples`` takes, with no entity built per point.
    """
    try:
        data = msgpack.unpackb(body, raw=False)
    except Exception as e:  # msgpack raises several unrelated types for corrupt input
        raise _bad(f"Malformed msgpack request body: {e}") from None
    if not isinstance(data, dict):
        raise _bad("msgpack log-batch: the body must be a map.")
    run_id = data.get("run_id")
    if not run_id or type(run_id) is not str:
        raise _bad("Missing value for required parameter 'run_id'. "
                   "See the API docs for more information about request parameters.")
    raw_metrics = data.get("metrics") or []
    if not isinstance(raw_metrics, list):
        raise _bad("msgpack log-batch: 'metrics' must be a list of [key, value, timestamp, step].")
    if len(raw_metrics) > MSGPACK_MAX_METRICS_PER_BATCH:
        raise _bad(f"A batch logging request can contain at most {MSGPACK_MAX_METRICS_PER_BATCH} metrics. "
                   f"Got {len(raw_metrics)} metrics. Please split up the request into multiple requests.")
    metrics = []
    append = metrics.append
    for m in raw_metrics:
        # One combined type test per point; the precise message is built only on failure.
        try:
            key, value, timestamp, step = m
        except (TypeError, ValueError):
            raise _bad(f"msgpack log-batch: a metric must be [key, value, timestamp, step], got {m!r}.") from None
        tv = type(value)
        if type(key) is not str or (tv is not float and tv is not int) or type(timestamp) is not int \
                or type(step) is not int or not 0 <= timestamp <= _INT64_MAX \
                or not _INT64_MIN <= step <= _INT64_MAX:
            raise _bad(
                f"msgpack log-batch: invalid metric {m!r}: key must be a string, value a number, "
                "timestamp a non-negative 64-bit integer (ms) and step a 64-bit integer."
            )
        # The decoded list itself is the row: no per-point object unless an int value needs a float.
        append(m if tv is float else (key, float(value), timestamp, step))
    params = _msgpack_pairs(data.get("params") or [], "params")
    tags = _msgpack_pairs(data.get("tags") or [], "tags")
    return run_id, metrics, params, tags


def validate_msgpack_batch(run_id: str, metrics: list, params: list, tags: list) -> None:
    """Everything the store would refuse about the content itself, refused before anything is written.

    ``decode_msgpack_batch`` checked the types and sizes; this checks the run id, every key, the param and
    tag value lengths and a param key repeated with another value, with MLflow's messages.
    """
    validate_run_id(run_id)
    seen: dict[str, str] = {}
    for key, value in params:
        validate_key(key, "param")
        param_value(key, value)
        if seen.setdefault(key, value) != value:
            raise _bad(f"Duplicate parameter keys have been submitted: ['{key}']. Please ensure the request "
                       "contains only one param value per param key.")
    for key, value in tags:
        validate_key(key, "tag")
        tag_value(key, value)
    for key in {m[0] for m in metrics}:
        validate_key(key, "metric")


def write_msgpack_batch(store: TrackingStore, run_id: str, metrics: list, params: list, tags: list) -> None:
    """A whole msgpack batch (up to 10000 metrics, 1000 params, 1000 tags) in ONE store transaction.

    Validation runs first; then ``store.log_batch_tuples`` writes params, metrics and tags together, so a
    param that conflicts with a stored value leaves nothing of the request behind, and a retry of the
    whole request is harmless because every store write is idempotent.
    """
    validate_msgpack_batch(run_id, metrics, params, tags)
    write = getattr(store, "log_batch_tuples", None)
    if write is not None:
        write(run_id, metrics, params, tags)
        return
    # A store without the tuple entry point still gets one call (its own per-call limits apply).
    store.log_batch(run_id, [Metric(k, v, ts, st) for k, v, ts, st in metrics],
                    [Param(k, v) for k, v in params], [RunTag(k, v) for k, v in tags])


@routes.post("/runs/log-batch")
async def log_batch(request: web.Request) -> web.Response:
    """``POST runs/log-batch`` with a JSON body (MLflow) or a msgpack body (asyncclient) -> ``{}``."""
    content_type = check_content_type(request, (JSON_CONTENT_TYPE, MSGPACK_CONTENT_TYPE))
    body = await request.read()
    # Even an empty batch goes to the store, which answers 404 / 400 for a missing or deleted run as MLflow does.
    if content_type == MSGPACK_CONTENT_TYPE:
        run_id, metrics, params, tags = decode_msgpack_batch(body)
        await in_thread(request, write_msgpack_batch, request.app[STORE], run_id, metrics, params, tags)
    else:
        run_id, metrics, params, tags = decode_json_batch(body)
        if b'"model_id"' in body:
            model_metrics = model_metrics_from_json(body, metrics)
            await in_thread(request, request.app[STORE].log_batch, run_id, metrics, params, tags,
                            model_metrics=model_metrics)
        else:
            await in_thread(request, request.app[STORE].log_batch, run_id, metrics, params, tags)
    request["asyncclient.points_ingested"] = len(metrics)  # read by --expose-prometheus (prometheus.py)
    return empty_response()

