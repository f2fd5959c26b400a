"""Health, version and capability endpoints (MLflow: ``/health``, ``/version``, ``/server-info``)."""

from __future__ import annotations

from aiohttp import web

from asyncclient import __version__
from asyncclient.server.config import MSGPACK_MAX_METRICS_PER_BATCH, MSGPACK_MAX_PARAMS_TAGS_PER_BATCH
from asyncclient.server.protocol import json_response
from asyncclient.server.state import CONFIG

routes = web.RouteTableDef()


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    """``GET /health`` -> ``OK``, as MLflow's probe endpoint."""
    return web.Response(text="OK")


@routes.get("/version")
async def version(request: web.Request) -> web.Response:
    """``GET /version`` -> the server's version string."""
    return web.Response(text=__version__)


@routes.get("/api/3.0/mlflow/server-info")
@routes.get("/ajax-api/3.0/mlflow/server-info")
async def server_info(request: web.Request) -> web.Response:
    """MLflow 3's ``/api/3.0/mlflow/server-info``: how the server is set up, read by clients before use."""
    return json_response({
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        # No multipart or presigned uploads: clients fall back to plain PUT through the proxy.
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
        "serve_artifacts": request.app[CONFIG].serve_artifacts,
        "asyncclient": __version__,
    })


@routes.get("/api/2.0/asyncclient/capabilities")
async def capabilities(request: web.Request) -> web.Response:
    """What an asyncclient client may use beyond MLflow's API (no MLflow equivalent): the msgpack path."""
    return json_response({
        "asyncclient": __version__,
        "msgpack_log_batch": not request.app[CONFIG].artifacts_only,
        "max_metrics_per_batch": MSGPACK_MAX_METRICS_PER_BATCH,
        "max_params_tags_per_batch": MSGPACK_MAX_PARAMS_TAGS_PER_BATCH,
    })
