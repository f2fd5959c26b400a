"""``POST /graphql`` (MLflow's ``_graphql`` handler): run one GraphQL document against the store.

The answer is always ``{"data", "errors"}`` with the errors as plain messages, as MLflow's server writes it;
store errors (a missing run, a bad filter) become messages of the failed field, the rest of the data stays.
"""

from __future__ import annotations

import posixpath

from aiohttp import web
from graphql import GraphQLError, parse

from asyncclient.artifacts import validate_path_is_safe
from asyncclient.server.artifacts import run_artifact_location
from asyncclient.server.graphql_api import safety
from asyncclient.server.protocol import json_response, read_json
from asyncclient.server.state import STORE, in_thread
from asyncclient.wire import file_info_to_json

routes = web.RouteTableDef()


def _execute(request: web.Request, query: str, variables, operation_name) -> dict:
    from asyncclient.server.graphql_api.schema import schema  # graphene only loads when GraphQL is used

    store = request.app[STORE]

    def list_artifacts(run_id: str, path: str | None) -> dict:
        path = validate_path_is_safe(path) if path else None
        run = store.get_run(run_id)
        repo, repo_path = run_artifact_location(request, run.info.artifact_uri, path)
        files = []
        for info in repo.list_artifacts(repo_path):
            rel = posixpath.join(path, posixpath.basename(info.path)) if path else posixpath.basename(info.path)
            files.append(file_info_to_json(type(info)(rel, info.is_dir, info.file_size)))
        return {"root_uri": run.info.artifact_uri, "files": files}

    try:
        document = parse(query)
    except GraphQLError as e:
        return {"data": None, "errors": [e.message]}
    refused = safety.check(document)
    if refused is not None:
        return {"data": None, "errors": [refused.message]}
    result = schema.execute(query, variables=variables, operation_name=operation_name,
                            context_value={"store": store, "list_artifacts": list_artifacts})
    return {"data": result.data, "errors": [e.message for e in result.errors] if result.errors else None}


@routes.post("/graphql")
async def graphql(request: web.Request) -> web.Response:
    """``POST /graphql`` with ``{"query", "variables", "operationName"}`` -> ``{"data", "errors"}``."""
    body = await read_json(request)
    query = body.get("query")
    if not isinstance(query, str):
        return json_response({"data": None, "errors": ["Must provide query string."]}, status=400)
    return json_response(await in_thread(request, _execute, request, query, body.get("variables"),
                                         body.get("operationName")))
