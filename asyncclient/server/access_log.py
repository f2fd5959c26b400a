"""``--access-log``: one JSON object per request on the ``asyncclient.access`` logger.

Structured so log pipelines need no parsing rules: time, method, path (no query string: it may carry
names), route, status, bytes, duration, remote address and, with the basic-auth app, the user.
"""

from __future__ import annotations

import time

import orjson
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse


class JsonAccessLogger(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, duration: float) -> None:
        from asyncclient.server.auth.middleware import USER

        user = request.get(USER)
        match_info = getattr(request, "match_info", None)
        resource = match_info.route.resource if match_info is not None else None
        self.logger.info(orjson.dumps({
            "ts": round(time.time(), 3), "method": request.method, "path": request.path,
            "route": resource.canonical if resource is not None else None, "status": response.status,
            "bytes": response.body_length, "duration_ms": round(duration * 1000, 2), "remote": request.remote,
            "user": user.username if user is not None else None,
        }).decode())
