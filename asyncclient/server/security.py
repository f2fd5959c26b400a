"""Host-header and cross-origin protection and security headers, as ``mlflow server`` has them.

MLflow equivalent: ``mlflow/server/fastapi_security.py`` and ``security_utils.py``; same flags, environment
variables, defaults and answers. ``--allowed-hosts`` (default: localhost on any port and private IP ranges)
refuses other Host headers with 403 (DNS rebinding); ``--cors-allowed-origins`` (default: localhost origins)
refuses cross-origin state-changing API calls with 403 and answers preflights; every response carries
``X-Content-Type-Options: nosniff`` and ``X-Frame-Options`` (``--x-frame-options``, default SAMEORIGIN,
NONE to omit). ``--disable-security-middleware`` turns all of it off.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlparse

from aiohttp import web

_log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

INVALID_HOST_MSG = "Invalid Host header - possible DNS rebinding attack detected"
CORS_BLOCKED_MSG = "Cross-origin request blocked"
STATE_CHANGING_METHODS = ("POST", "PUT", "DELETE", "PATCH")
HOST_CHECK_EXEMPT = ("/health", "/version")
_LOCALHOSTS = ("localhost", "127.0.0.1", "[::1]", "0.0.0.0")
_CORS_LOCALHOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
_CORS_METHODS = "GET, POST, PUT, DELETE, OPTIONS, PATCH"


def default_allowed_hosts() -> list[str]:
    with_port = [h.replace("[", "[[]", 1) + ":*" if h.startswith("[") else h + ":*" for h in _LOCALHOSTS]
    private = ["192.168.*", "10.*", *[f"172.{i}.*" for i in range(16, 32)], "fc00:*", "fd00:*"]
    return [*_LOCALHOSTS, *with_port, *private]


def split_list(value: str | None) -> list[str] | None:
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


def _matches(value: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(value, p) if "*" in p else value == p for p in patterns)


def is_localhost_origin(origin: str) -> bool:
    try:
        return urlparse(origin).hostname in _CORS_LOCALHOSTS
    except ValueError:
        return False


def _is_api(path: str, static_prefix: str) -> bool:
    return path.startswith((static_prefix + "/api/", static_prefix + "/ajax-api/", "/api/2.0/mlflow-artifacts/artifacts",
                            "/ajax-api/2.0/mlflow-artifacts/artifacts"))


def install(app: web.Application, allowed_hosts: list[str] | None, cors_allowed_origins: list[str] | None,
            x_frame_options: str, static_prefix: str) -> None:
    """Add the checks (first middleware) and the headers (every response, errors included) to ``app``."""
    hosts = allowed_hosts or default_allowed_hosts()
    check_hosts = "*" not in hosts
    origins = cors_allowed_origins or []
    any_origin = "*" in origins
    frame = x_frame_options.upper() if x_frame_options and x_frame_options.upper() != "NONE" else None

    def origin_allowed(origin: str) -> bool:
        return any_origin or is_localhost_origin(origin) or _matches(origin, origins)

    @web.middleware
    async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if check_hosts and path not in {static_prefix + p for p in HOST_CHECK_EXEMPT}:
            if not _matches(request.headers.get("Host", ""), hosts):
                _log.warning("Rejected request with invalid Host header: %r", request.headers.get("Host", ""))
                return web.Response(text=INVALID_HOST_MSG, status=403, content_type="text/plain")
        origin = request.headers.get("Origin", "")
        if not origin or not _is_api(path, static_prefix):
            return await handler(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not origin_allowed(origin):
                return web.Response(text="Disallowed CORS origin", status=400, content_type="text/plain")
            return web.Response(text="OK", status=200, content_type="text/plain", headers=_cors_headers(origin, any_origin, {
                "Access-Control-Allow-Methods": _CORS_METHODS, "Access-Control-Max-Age": "600",
                "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers", "*")}))
        if request.method in STATE_CHANGING_METHODS and not origin_allowed(origin):
            _log.warning("Blocked cross-origin request from %r", origin)
            return web.Response(text=CORS_BLOCKED_MSG, status=403, content_type="text/plain")
        response = await handler(request)
        if origin_allowed(origin) and not response.prepared:
            response.headers.update(_cors_headers(origin, any_origin, {}))
        return response

    async def add_headers(_request: web.Request, response: web.StreamResponse) -> None:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if frame:
            response.headers.setdefault("X-Frame-Options", frame)

    app.middlewares.insert(0, security_middleware)
    app.on_response_prepare.append(add_headers)


def _cors_headers(origin: str, any_origin: bool, extra: dict[str, str]) -> dict[str, str]:
    if any_origin:  # a wildcard allow-list never goes with credentials (the CORS spec forbids it)
        return {"Access-Control-Allow-Origin": "*", **extra}
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true", "Vary": "Origin",
            **extra}
