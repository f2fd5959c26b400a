"""Authorizing ``POST /graphql``: every run and experiment a query names must be readable.

The ids can sit in literal arguments of the query text or in its variables (whole input objects
included), so both are walked; a query that does not parse is passed on for graphene to refuse. Model
version searches carry no id; their results are filtered instead (``filter_response``), so such a
query may not rename fields with aliases.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from graphql import GraphQLError, parse
from graphql.language import ListValueNode, ObjectFieldNode, StringValueNode, VariableNode, visit
from graphql.language.visitor import Visitor

from asyncclient.server.auth.permissions import CAN_READ, RESOURCE_EXPERIMENT, RESOURCE_REGISTERED_MODEL
from asyncclient.server.auth.resources import Unresolvable, experiments
from asyncclient.server.state import in_thread

_RUN_NAMES = {"runId", "runUuid", "runIds", "run_id", "run_uuid", "run_ids"}
_EXPERIMENT_NAMES = {"experimentId", "experimentIds", "experiment_id", "experiment_ids"}


def _strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [] if value is None or isinstance(value, dict) else [str(value)]


def _walk_variables(value: Any, runs: list[str], exps: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _RUN_NAMES:
                runs.extend(_strings(item))
            elif key in _EXPERIMENT_NAMES:
                exps.extend(_strings(item))
            _walk_variables(item, runs, exps)
    elif isinstance(value, list):
        for item in value:
            _walk_variables(item, runs, exps)


class _Ids(Visitor):
    def __init__(self, variables: dict):
        super().__init__()
        self.variables = variables
        self.runs: list[str] = []
        self.experiments: list[str] = []
        self.searches_versions = False
        self.aliased = False

    def enter_field(self, node, *_):
        self.searches_versions |= node.name.value == "mlflowSearchModelVersions"
        self.aliased |= node.alias is not None

    def _values(self, node) -> list[str]:
        if isinstance(node, StringValueNode):
            return [node.value]
        if isinstance(node, ListValueNode):
            return [s for v in node.values for s in self._values(v)]
        if isinstance(node, VariableNode):
            return _strings(self.variables.get(node.name.value))
        return [repr(getattr(node, "value", node))]  # ints etc.: still checked, never skipped

    def enter_object_field(self, node: ObjectFieldNode, *_):
        self._collect(node.name.value, node.value)

    def enter_argument(self, node, *_):
        self._collect(node.name.value, node.value)

    def _collect(self, name: str, value) -> None:
        if name in _RUN_NAMES:
            self.runs.extend(self._values(value))
        elif name in _EXPERIMENT_NAMES:
            self.experiments.extend(self._values(value))


async def allowed(request: web.Request, auth, user) -> bool:
    try:
        body = orjson.loads(await request.read() or b"{}")
    except orjson.JSONDecodeError:
        return True  # the handler refuses a malformed body; nothing runs
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return True
    variables = body.get("variables") if isinstance(body.get("variables"), dict) else {}
    try:
        document = parse(body["query"])
    except GraphQLError:
        return True
    ids = _Ids(variables)
    visit(document, ids)
    _walk_variables(variables, ids.runs, ids.experiments)
    if ids.searches_versions and ids.aliased:
        return False  # results are filtered by field name; an alias would hide them from the filter

    def check() -> bool:
        try:
            resources = experiments(ids.experiments) + auth.resolver.runs(ids.runs)
        except Unresolvable:
            return False
        return auth.allowed(user, CAN_READ, resources)

    return await in_thread(request, check)


async def filter_response(request: web.Request, auth, user, response: web.Response) -> None:
    """Drop model versions of registered models the user may not read from ``mlflowSearchModelVersions``."""
    body = orjson.loads(response.body)
    search = ((body.get("data") or {}) if isinstance(body, dict) else {}).get("mlflowSearchModelVersions")
    if not isinstance(search, dict) or not isinstance(search.get("modelVersions"), list):
        return
    can_read = await in_thread(request, auth.readable, user, RESOURCE_REGISTERED_MODEL)
    search["modelVersions"] = [v for v in search["modelVersions"] if can_read(v.get("name"))]
    response.body = orjson.dumps(body)


__all__ = ["allowed", "filter_response", "RESOURCE_EXPERIMENT"]
