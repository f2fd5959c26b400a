"""MLflow's wire conventions for requests and responses (mlflow-rest-compat.md §0).

MLflow parses a request with protobuf ``ParseDict(ignore_unknown_fields=True)`` and checks a per-handler
schema (``mlflow/server/handlers.py``: ``_get_request_message``, ``_assert_required``...). Here a request
is described by a small ``Message`` of typed ``Field`` s and parsed into a plain dict holding only the
fields that were present (proto2 presence), with MLflow's error codes and messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson
from aiohttp import web
from multidict import MultiMapping

from asyncclient.entities import LoggedModelStatus, RunStatus, ViewType
from asyncclient.exceptions import MlflowException
from asyncclient.wire import SPECIAL_DOUBLES  # one MLflow JSON codec for client and server

JSON_CONTENT_TYPE = "application/json"
_API_DOCS = " See the API docs for more information about request parameters."


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# ---- scalar converters: raw JSON / query value -> Python value, ValueError when it does not fit ----

def _to_string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


def _to_int(value: Any) -> int:
    # protobuf's JSON parser: numbers, integral floats and numeric strings; bools are refused.
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        return int(value)
    if isinstance(value, str) and value.strip() == value and value:
        return int(value)
    raise ValueError


def _to_double(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        special = SPECIAL_DOUBLES.get(value)
        return special if special is not None else float(value)
    raise ValueError


def _enum(names: Mapping[str, int]) -> Callable[[Any], int]:
    numbers = set(names.values())

    def convert(value: Any) -> int:
        if isinstance(value, str):
            if value in names:
                return names[value]
            return convert(_to_int(value))
        if isinstance(value, int) and not isinstance(value, bool) and value in numbers:
            return value
        raise ValueError

    return convert


def _to_bool(value: Any) -> bool:
    # protobuf's JSON parser takes true/false; a GET query string carries "true"/"false".
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError


STRING = _to_string
INT64 = _to_int
DOUBLE = _to_double
BOOL = _to_bool
RUN_STATUS = _enum(RunStatus._NAMES)
VIEW_TYPE = _enum(ViewType._NAMES)
LOGGED_MODEL_STATUS = _enum(LoggedModelStatus._NAMES)


class Field:
    """One proto field: its name, a converter (or a nested ``Message``) and whether it repeats."""

    __slots__ = ("name", "camel", "convert", "message", "repeated")

    def __init__(self, name: str, convert: Callable[[Any], Any] | Message, repeated: bool = False):
        self.name = name
        self.camel = _camel(name)
        self.repeated = repeated
        self.message = convert if isinstance(convert, Message) else None
        self.convert = None if isinstance(convert, Message) else convert


class Message:
    """A proto message shape: parse a JSON object into ``{snake_name: value}`` for the fields present."""

    __slots__ = ("fields",)

    def __init__(self, *fields: Field):
        self.fields = fields

    def parse(self, data: Any, path: str = "") -> dict[str, Any]:
        if not isinstance(data, dict):
            raise MlflowException.invalid_parameter_value(
                f"Invalid value for parameter '{path or 'request'}': expected a JSON object."
            )
        out: dict[str, Any] = {}
        for f in self.fields:
            has_snake = f.name in data
            if f.camel != f.name and f.camel in data:
                if has_snake:
                    raise MlflowException.invalid_parameter_value(
                        f"Request specifies both '{f.name}' and '{f.camel}'; provide only one of them."
                    )
                raw = data[f.camel]
            elif has_snake:
                raw = data[f.name]
            else:
                continue
            if raw is None:  # JSON null is "unset" for protobuf
                continue
            name = f"{path}{f.name}"
            if f.repeated:
                if not isinstance(raw, list):
                    raise _invalid_value(name, raw)
                out[f.name] = [self._one(f, item, f"{name}[{i}]") for i, item in enumerate(raw)]
            else:
                out[f.name] = self._one(f, raw, name)
        return out

    @staticmethod
    def _one(f: Field, raw: Any, name: str) -> Any:
        if f.message is not None:
            return f.message.parse(raw, name + ".")
        try:
            return f.convert(raw)
        except (ValueError, TypeError, OverflowError):
            raise _invalid_value(name, raw) from None


def _invalid_value(name: str, value: Any) -> MlflowException:
    try:
        shown = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        shown = repr(value)
    return MlflowException.invalid_parameter_value(
        f"Invalid value {shown} for parameter '{name}' supplied. "
        f"Hint: Value was of type '{type(value).__name__}'.{_API_DOCS}"
    )


KEY_VALUE = Message(Field("key", STRING), Field("value", STRING))


# ---- reading requests ----

def check_content_type(request: web.Request, allowed: tuple[str, ...] = (JSON_CONTENT_TYPE,)) -> str:
    """MLflow's ``_validate_content_type``: POST/PUT bodies must declare an allowed type; returns it."""
    raw = request.headers.get("Content-Type")
    if raw is None:
        raise MlflowException.invalid_parameter_value("Bad Request. Content-Type header is missing.")
    content_type = raw.split(";", 1)[0].strip().lower()
    if content_type not in allowed:
        raise MlflowException.invalid_parameter_value(
            f"Bad Request. Content-Type must be one of {list(allowed)}."
        )
    return content_type


def decode_json_body(body: bytes) -> dict[str, Any]:
    """The request JSON object; an empty body is ``{}``, as in MLflow."""
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
        # Older MLflow clients post their JSON double-encoded as a string.
        if isinstance(data, str):
            data = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise MlflowException.invalid_parameter_value(f"Malformed JSON request body: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MlflowException.invalid_parameter_value("The request body must be a JSON object.")
    return data


async def read_json(request: web.Request) -> dict[str, Any]:
    check_content_type(request)
    return decode_json_body(await request.read())


def query_to_dict(query: MultiMapping[str], message: Message) -> dict[str, Any]:
    """GET fields come from the query string; repeated fields repeat the key (``run_ids=a&run_ids=b``)."""
    data: dict[str, Any] = {}
    for f in message.fields:
        for key in (f.name, f.camel):
            if key in query:
                data[key] = query.getall(key) if f.repeated else query[key]
    return data


async def parse_request(request: web.Request, message: Message) -> dict[str, Any]:
    """Parse a GET query string or a POST JSON body into the fields of ``message``."""
    if request.method == "GET":
        return message.parse(query_to_dict(request.query, message))
    return message.parse(await read_json(request))


def required(fields: Mapping[str, Any], name: str, value: Any = None) -> Any:
    """MLflow's ``_assert_required``: a missing or empty field is a 400 with MLflow's message."""
    if value is None:
        value = fields.get(name)
    if value is None or value == "":
        raise MlflowException.invalid_parameter_value(
            f"Missing value for required parameter '{name}'.{_API_DOCS}"
        )
    return value


def run_id_of(fields: Mapping[str, Any], require: bool = True) -> str | None:
    """``run_id or run_uuid``: the MLflow client sends both, older ones only ``run_uuid``."""
    run_id = fields.get("run_id") or fields.get("run_uuid")
    if require:
        return required(fields, "run_id", run_id)
    return run_id


# ---- responses ----

def json_response(payload: Any, status: int = 200) -> web.Response:
    """JSON as MLflow's server writes it: indent 2, snake_case, int64 as numbers."""
    return web.Response(
        body=orjson.dumps(payload, option=orjson.OPT_INDENT_2),
        status=status,
        content_type=JSON_CONTENT_TYPE,
    )


_EMPTY = b"{}"


def empty_response() -> web.Response:
    """The ``{}`` answer of every write RPC."""
    return web.Response(body=_EMPTY, content_type=JSON_CONTENT_TYPE)


def error_response(exc: MlflowException) -> web.Response:
    return json_response(exc.serialize_as_json(), status=exc.get_http_status_code())
