"""``GET /openapi.json``: an OpenAPI 3 document of the server's REST API, built from the app's own routes.

No MLflow equivalent (MLflow documents its API in protobuf). Each operation comes from the router, so the
document cannot drift from what is served; a handler's request shape comes from the one protocol
``Message`` its code parses with (JSON body for POST/PATCH/DELETE, query parameters for GET), and routes
whose body is not a JSON message (artifact uploads, GraphQL...) are described as an open object.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from asyncclient import __version__
from asyncclient.server import protocol
from asyncclient.server.protocol import Field, Message, json_response

routes = web.RouteTableDef()

# Documented: the MLflow-compatible API and ours. The UI's pages and static files are not an API.
DOCUMENTED_PREFIXES = ("/api/", "/ajax-api/", "/get-artifact", "/model-versions/get-artifact", "/graphql",
                       "/health", "/version")
_ENUMS = {
    id(protocol.RUN_STATUS): sorted(protocol.RunStatus._NAMES),
    id(protocol.VIEW_TYPE): sorted(protocol.ViewType._NAMES),
    id(protocol.LOGGED_MODEL_STATUS): sorted(protocol.LoggedModelStatus._NAMES),
}
_SCALARS = {id(protocol.STRING): {"type": "string"}, id(protocol.INT64): {"type": "integer", "format": "int64"},
            id(protocol.DOUBLE): {"type": "number"}, id(protocol.BOOL): {"type": "boolean"}}


def _field_schema(field: Field) -> dict:
    if field.message is not None:
        item = message_schema(field.message)
    elif id(field.convert) in _ENUMS:
        item = {"type": "string", "enum": _ENUMS[id(field.convert)]}
    else:
        item = dict(_SCALARS.get(id(field.convert), {}))
    return {"type": "array", "items": item} if field.repeated else item


def message_schema(message: Message) -> dict:
    return {"type": "object", "properties": {f.name: _field_schema(f) for f in message.fields}}


def message_of(handler: Any) -> Message | None:
    """The one module-level ``Message`` a handler's code refers to, if exactly one."""
    code, names = getattr(handler, "__code__", None), getattr(handler, "__globals__", {})
    if code is None:
        return None
    found = {id(m): m for n in code.co_names if isinstance(m := names.get(n), Message)}
    return next(iter(found.values())) if len(found) == 1 else None


# Handlers that decode their body themselves (the ingest hot path) have no Message; their shape here.
_KEY_VALUE = {"type": "object", "properties": {"key": {"type": "string"}, "value": {"type": "string"}}}
_LOG_BATCH = {"type": "object", "properties": {
    "run_id": {"type": "string"},
    "metrics": {"type": "array", "items": {"type": "object", "properties": {
        "key": {"type": "string"}, "value": {"type": "number"}, "timestamp": {"type": "integer"},
        "step": {"type": "integer"}}}},
    "params": {"type": "array", "items": _KEY_VALUE}, "tags": {"type": "array", "items": _KEY_VALUE}}}


def _operation(method: str, path: str, handler: Any) -> dict:
    message = message_of(handler)
    op: dict = {"operationId": f"{method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', path)}",
                "responses": {"default": {"description": "MLflow's JSON answer, or {error_code, message}"}}}
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in re.findall(r"{([^}:]+)(?::[^}]*)?}", path)]
    if method == "GET" and message is not None:
        params += [{"name": f.name, "in": "query", "schema": _field_schema(f), "style": "form", "explode": True}
                   for f in message.fields if f.message is None]
    elif method in ("POST", "PATCH", "DELETE", "PUT"):
        schema = message_schema(message) if message is not None else {"type": "object"}
        if path.endswith("/runs/log-batch"):
            schema = _LOG_BATCH
        op["requestBody"] = {"content": {"application/json": {"schema": schema}}}
    if params:
        op["parameters"] = params
    return op


def build_document(app: web.Application) -> dict:
    paths: dict[str, dict] = {}
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in ("HEAD", "*"):
            continue
        canonical = resource.canonical
        if not canonical.startswith(DOCUMENTED_PREFIXES) or canonical == "/openapi.json":
            continue
        path = re.sub(r"{([^}:]+):[^}]*}", r"{\1}", canonical)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route.method, canonical, route.handler)
    return {
        "openapi": "3.0.3",
        "info": {"title": "asyncclient tracking server (MLflow-compatible REST API)", "version": __version__},
        "paths": paths,
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                           "bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"basic": []}, {"bearer": []}, {}],
    }


@routes.get("/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    return json_response(build_document(request.app))
