"""``GET /ajax-api/2.0/asyncclient/metrics/get-history-bucketed``: a metric history sized for a chart.

No MLflow equivalent (MLflow's ``get-history-bulk-interval`` keeps every n-th step and loses spikes).
The store aggregates in SQL (``store/bucketing.py``); the answer is columnar so the UI hands the arrays to
uPlot as they come.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from asyncclient.server.protocol import INT64, STRING, Field, Message, parse_request, required, run_id_of
from asyncclient.server.state import store_call

routes = web.RouteTableDef()

_BUCKETED = Message(
    Field("run_id", STRING), Field("run_uuid", STRING), Field("metric_key", STRING), Field("buckets", INT64),
    Field("min_x", INT64), Field("max_x", INT64), Field("min_step", INT64), Field("max_step", INT64),
    Field("x", STRING),
)
DEFAULT_BUCKETS = 1000


@routes.get("/metrics/get-history-bucketed")
async def get_history_bucketed(request: web.Request) -> web.Response:
    """``run_id``, ``metric_key``, ``buckets`` (1..5000, default 1000), ``x`` = ``step`` | ``time``, and an
    optional x window ``min_x`` / ``max_x`` (``min_step`` / ``max_step`` are aliases for x=step) ->
    ``{"x", "bucket_width", "x_range", "total", "x_first", "x_last", "min", "max", "mean", "last", "count"}``."""
    f = await parse_request(request, _BUCKETED)
    run_id = run_id_of(f)
    key = required(f, "metric_key")
    x = f.get("x", "step")
    lo = f.get("min_x", f.get("min_step"))
    hi = f.get("max_x", f.get("max_step"))
    h = await store_call(request, "get_metric_history_bucketed", run_id, key, f.get("buckets", DEFAULT_BUCKETS),
                         x, lo, hi)
    body = {
        "x": h.x, "bucket_width": h.bucket_width, "x_range": h.x_range, "total": h.total,
        "x_first": h.x_first, "x_last": h.x_last, "min": h.min, "max": h.max, "mean": h.mean, "last": h.last,
        "count": h.count,
    }
    # Compact JSON: up to 5000 buckets x 7 columns, no indentation (unlike MLflow-shaped answers).
    return web.Response(body=orjson.dumps(body), content_type="application/json")
