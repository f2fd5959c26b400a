"""``--expose-prometheus DIR``: request, latency, ingest and error metrics at ``GET /metrics``.

MLflow equivalent: ``mlflow server --expose-prometheus`` (prometheus_flask_exporter). Here prometheus_client's
multiprocess mode: every worker writes its samples under ``DIR`` (``PROMETHEUS_MULTIPROC_DIR``) and
``/metrics`` sums them, so the figures cover all ``--workers``. With the basic-auth app, ``/metrics`` is for
admins (it has no per-resource rule).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Set by log-batch handlers on the request: how many metric points the request stored.
POINTS_INGESTED = "asyncclient.points_ingested"


def prepare_directory(directory: str) -> None:
    """Point prometheus_client at ``directory``; must run before prometheus_client is imported (the CLI does)."""
    os.makedirs(directory, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.abspath(directory)


@functools.cache
def _metrics() -> tuple:
    # Once per process: prometheus_client refuses a second registration of the same name.
    from prometheus_client import Counter, Histogram

    requests_total = Counter("asyncclient_http_requests_total", "HTTP requests answered",
                             ["method", "route", "status"])
    latency = Histogram("asyncclient_http_request_duration_seconds", "Time to answer a request",
                        ["method", "route"])
    points = Counter("asyncclient_points_ingested_total", "Metric points stored through runs/log-batch")
    errors = Counter("asyncclient_store_errors_total", "Requests answered 5xx (store or internal errors)",
                     ["route"])
    return requests_total, latency, points, errors


def install(app: web.Application, directory: str) -> None:
    prepare_directory(directory)
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    requests_total, latency, points, errors = _metrics()

    @web.middleware
    async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"  # bounded label values
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as e:
            status = e.status
            raise
        finally:
            requests_total.labels(request.method, route, str(status)).inc()
            latency.labels(request.method, route).observe(time.perf_counter() - start)
            if status >= 500:
                errors.labels(route).inc()
            elif status == 200 and request.get(POINTS_INGESTED):
                points.inc(request[POINTS_INGESTED])

    async def metrics(request: web.Request) -> web.Response:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.middlewares.insert(0, measure)
    app.router.add_get("/metrics", metrics)
