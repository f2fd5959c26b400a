"""Which experiment or registered model a request touches, read the way the handlers read it.

Every id a request carries under any of the names a handler accepts (``run_id`` / ``run_uuid`` / ``runId``,
repeated query values...) is collected, and the caller needs the permission on all of them, so no spelling a
handler accepts can slip a second resource past the check. Runs and logged models map to their experiment
(a run never changes experiment, so that mapping is cached).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import msgpack
import orjson
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import Engine

from asyncclient.server.auth.permissions import RESOURCE_EXPERIMENT, RESOURCE_REGISTERED_MODEL

MSGPACK_CONTENT_TYPE = "application/x-asyncclient-msgpack"
Resource = tuple[str, str]


class Unresolvable(Exception):
    """The request names a run or model that does not exist: MLflow's auth app answers 403 then."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


async def request_params(request: web.Request) -> dict[str, list[Any]]:
    """Every parameter of the request (query and body), each as the list of values it was given."""
    params: dict[str, list[Any]] = {}
    for key, value in request.query.items():
        params.setdefault(key, []).append(value)
    if request.method in ("GET", "HEAD") or not request.can_read_body:
        return params
    if request.content_type == MSGPACK_CONTENT_TYPE:
        body = _msgpack_top_level_strings(await request.read())
    else:
        try:
            body = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError:
            body = {}  # the handler answers the malformed body; nothing is resolved from it
    if isinstance(body, dict):
        for key, value in body.items():
            params.setdefault(key, []).extend(value if isinstance(value, list) else [value])
    return params


def _msgpack_top_level_strings(body: bytes) -> dict:
    # The ingest hot path: read only the top-level string values (run_id) and skip the metric arrays
    # without building them, so the check costs a fraction of the decode the handler does anyway.
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=len(body) + 1)
    unpacker.feed(body)
    out: dict = {}
    try:
        for _ in range(unpacker.read_map_header()):
            key = unpacker.unpack()
            if key == "run_id":
                out[key] = unpacker.unpack()
            else:
                unpacker.skip()
    except Exception:  # corrupt or not a map: the handler refuses it with its own message
        return {}
    return out


def values(params: dict[str, list[Any]], *names: str) -> list[str]:
    """All values given under ``names`` or their camelCase spellings, as strings."""
    found: list[str] = []
    for name in names:
        for spelling in {name, _camel(name)}:
            for value in params.get(spelling, ()):
                if isinstance(value, str | int) and not isinstance(value, bool):
                    found.append(str(value))
                elif value is not None:
                    found.append(repr(value))  # an odd type still names "something": never allowed silently
    return found


class ResourceResolver:
    """Maps runs, logged models and experiment names to experiment ids (blocking: call in a thread)."""

    def __init__(self, engine: Engine, cache_size: int = 100_000):
        self._engine = engine
        self._run_experiment: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def experiment_of_run(self, run_id: str) -> str:
        with self._lock:
            cached = self._run_experiment.get(run_id)
        if cached is not None:
            return cached
        with self._engine.connect() as conn:
            experiment_id = conn.execute(
                sa.text("SELECT experiment_id FROM runs WHERE run_uuid = :r"), {"r": run_id}).scalar()
        if experiment_id is None:
            raise Unresolvable(run_id)
        with self._lock:
            self._run_experiment[run_id] = str(experiment_id)
            while len(self._run_experiment) > self._cache_size:
                self._run_experiment.popitem(last=False)
        return str(experiment_id)

    def experiment_of_logged_model(self, model_id: str) -> str:
        with self._engine.connect() as conn:
            experiment_id = conn.execute(
                sa.text("SELECT experiment_id FROM logged_models WHERE model_id = :m"), {"m": model_id}).scalar()
        if experiment_id is None:
            raise Unresolvable(model_id)
        return str(experiment_id)

    def experiment_by_name(self, name: str) -> str | None:
        with self._engine.connect() as conn:
            experiment_id = conn.execute(
                sa.text("SELECT experiment_id FROM experiments WHERE name = :n"), {"n": name}).scalar()
        return None if experiment_id is None else str(experiment_id)

    def runs(self, run_ids: list[str]) -> list[Resource]:
        return [(RESOURCE_EXPERIMENT, self.experiment_of_run(r)) for r in run_ids]

    def logged_models(self, model_ids: list[str]) -> list[Resource]:
        return [(RESOURCE_EXPERIMENT, self.experiment_of_logged_model(m)) for m in model_ids]


def experiments(ids: list[str]) -> list[Resource]:
    return [(RESOURCE_EXPERIMENT, i) for i in ids]


def registered_models(names: list[str]) -> list[Resource]:
    return [(RESOURCE_REGISTERED_MODEL, n) for n in names]
