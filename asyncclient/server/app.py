"""``create_app(config)``: the aiohttp application serving MLflow's tracking REST API over a store.

MLflow equivalent: the Flask app of ``mlflow.server`` with the handlers of ``mlflow/server/handlers.py``.
The server keeps no state outside the store, so several worker processes can share one port.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from asyncclient.artifacts import get_artifact_repository
from asyncclient.exceptions import MlflowException
from asyncclient.server import (
    artifacts,
    batch,
    bucketed,
    experiments,
    logged_models,
    metrics,
    misc,
    openapi,
    registry,
    runs,
    ui,
    ui_endpoints,
)
from asyncclient.server.config import ServerConfig
from asyncclient.server.graphql_api import routes as graphql_routes
from asyncclient.server.protocol import error_response, json_response
from asyncclient.server.state import ARTIFACT_REPO, CONFIG, EXECUTOR, STORE
from asyncclient.store.base import TrackingStore

_log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TRACKING_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
ARTIFACT_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
# Endpoints of our own (the UI's bucketed history), beside MLflow's.
ASYNCCLIENT_PREFIXES = ("/api/2.0/asyncclient", "/ajax-api/2.0/asyncclient")
TRACKING_ROUTE_TABLES = (
    experiments.routes, runs.routes, batch.routes, metrics.routes, artifacts.tracking_routes, logged_models.routes,
    registry.routes,
)


def open_store(config: ServerConfig) -> TrackingStore:
    """The configured backend store, created and migrated if needed (``store_from_uri``)."""
    from asyncclient.store import store_from_uri

    return store_from_uri(config.backend_store_uri, config.resolved_artifact_root())


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """MLflow's ``catch_mlflow_exception``: errors as ``{"error_code", "message"}`` with MLflow's status."""
    try:
        return await handler(request)
    except MlflowException as e:
        if e.get_http_status_code() >= 500:
            _log.error("%s %s failed: %s", request.method, request.path, e.message)
        return error_response(e)
    except web.HTTPRequestEntityTooLarge as e:
        # A 4xx in MLflow's error format; 413 is not one of the statuses MLflow clients retry.
        return json_response({"error_code": "INVALID_PARAMETER_VALUE",
                              "message": f"Request body too large: {e.text}"}, status=413)
    except web.HTTPException:
        raise
    except Exception as e:  # a bug: say so in MLflow's format instead of an HTML page
        _log.exception("%s %s failed", request.method, request.path)
        # The log has the traceback; the answer names no internal path, query or exception text.
        return error_response(MlflowException(f"Internal error ({type(e).__name__}); see the server log.",
                                              error_code="INTERNAL_ERROR"))


def _disabled(reason: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=f"Endpoint: {request.path} disabled due to the {reason}", status=503)

    return handler


_NO_SERVE_ARTIFACTS = _disabled(
    "mlflow server running with `--no-serve-artifacts`. To enable artifacts server functionality, "
    "run `mlflow server` with `--serve-artifacts`"
)
_ARTIFACTS_ONLY = _disabled(
    "mlflow server running in `--artifacts-only` mode. To enable tracking server functionality, run "
    "`mlflow server` without `--artifacts-only`"
)


def _mount(app: web.Application, table: web.RouteTableDef, prefixes: tuple[str, ...],
           replacement: Handler | None = None) -> None:
    """Add every route of ``table`` under each prefix; ``replacement`` serves them instead when disabled."""
    for prefix in prefixes:
        for route in table:
            assert isinstance(route, web.RouteDef)
            app.router.add_route(route.method, prefix + route.path, replacement or route.handler)


def create_app(config: ServerConfig | None = None, store: TrackingStore | None = None) -> web.Application:
    """The tracking server application; ``store`` defaults to ``open_store(config)`` at startup."""
    config = config or ServerConfig()
    app = web.Application(middlewares=[_errors], client_max_size=config.max_request_body_bytes)
    app[CONFIG] = config
    sp = config.static_prefix.rstrip("/")

    tracking_off = _ARTIFACTS_ONLY if config.artifacts_only else None
    artifacts_off = None if config.serve_artifacts else _NO_SERVE_ARTIFACTS
    for table in TRACKING_ROUTE_TABLES:
        _mount(app, table, tuple(sp + p for p in TRACKING_PREFIXES), tracking_off)
    _mount(app, artifacts.service_routes, tuple(sp + p for p in ARTIFACT_PREFIXES), artifacts_off)
    _mount(app, artifacts.root_routes, (sp,), tracking_off)
    _mount(app, registry.root_routes, (sp,), tracking_off)
    _mount(app, ui_endpoints.root_routes, (sp,), tracking_off)
    _mount(app, graphql_routes.routes, (sp,), tracking_off)
    _mount(app, misc.routes, (sp,))
    _mount(app, openapi.routes, (sp,))
    _mount(app, bucketed.routes, tuple(sp + p for p in ASYNCCLIENT_PREFIXES), tracking_off)
    if not config.artifacts_only:
        _mount(app, ui.routes, (sp,))
        if sp:
            app.router.add_get(sp, ui.redirect_to_slash(sp))

    async def lifecycle(app: web.Application):
        executor = ThreadPoolExecutor(max_workers=config.store_threads, thread_name_prefix="asyncclient-store")
        app[EXECUTOR] = executor
        owns_store = store is None
        app[STORE] = store if store is not None else open_store(config)
        app[ARTIFACT_REPO] = get_artifact_repository(config.artifacts_destination)
        yield
        executor.shutdown(wait=True)
        if owns_store:
            app[STORE].close()

    app.cleanup_ctx.append(lifecycle)
    if config.expose_prometheus:
        from asyncclient.server import prometheus

        prometheus.install(app, config.expose_prometheus)
    if not config.disable_security_middleware:
        from asyncclient.server import security

        security.install(app, config.allowed_hosts, config.cors_allowed_origins, config.x_frame_options, sp)
    if config.app_name:
        from asyncclient.server import auth

        if config.app_name != auth.APP_NAME:
            raise ValueError(f"Unknown app name {config.app_name!r}: the one app is {auth.APP_NAME!r}.")
        auth.install(app, _mount)
    return app
