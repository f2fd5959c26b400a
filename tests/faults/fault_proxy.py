"""A reverse proxy in front of a real tracking server that misbehaves on demand (a process of its own).

    python tests/faults/fault_proxy.py --port 5701 --upstream http://127.0.0.1:5000

``POST /_fault`` with ``{"match": "runs/log-batch", "mode": MODE, "count": N, ...}`` makes the next N
matching requests fail as MODE says; ``GET /_fault`` returns what was injected so far. Modes:

- ``status``: answer ``status`` (429, 503, ...) with ``retry_after`` if given, without forwarding
- ``html200``: answer 200 with an HTML login page, without forwarding (a captive portal)
- ``reset``: drop the connection without forwarding
- ``reset_after``: forward (the server applies it), then drop the connection instead of answering
- ``slow``: forward, then hold the answer ``delay`` seconds (past the client's timeout)
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
from aiohttp import web

HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class Faults:
    def __init__(self):
        self.rules: list[dict] = []
        self.injected: dict[str, int] = {}
        self.forwarded = 0

    def take(self, path: str) -> dict | None:
        for rule in self.rules:
            if rule["match"] in path and rule["count"] > 0:
                rule["count"] -= 1
                self.injected[rule["mode"]] = self.injected.get(rule["mode"], 0) + 1
                return rule
        return None


def build_app(upstream: str) -> web.Application:
    faults = Faults()
    app = web.Application(client_max_size=64 << 20)

    async def session_ctx(app):
        app["client"] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        yield
        await app["client"].close()

    app.cleanup_ctx.append(session_ctx)

    async def control(request: web.Request) -> web.Response:
        if request.method == "POST":
            rule = await request.json()
            rule.setdefault("count", 1)
            faults.rules.append(rule)
        return web.json_response({"injected": faults.injected, "forwarded": faults.forwarded,
                                  "pending": [r for r in faults.rules if r["count"] > 0]})

    async def forward(request: web.Request, body: bytes) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with app["client"].request(request.method, upstream + request.path_qs, data=body,
                                         headers=headers) as resp:
            payload = await resp.read()
            faults.forwarded += 1
            out_headers = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_HEADERS
                           and k.lower() != "content-encoding"}
            return web.Response(status=resp.status, body=payload, headers=out_headers)

    def drop(request: web.Request) -> web.Response:
        request.transport.close()
        return web.Response(status=500)  # never written: the connection is gone

    async def proxy(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        rule = faults.take(request.path)
        if rule is None:
            return await forward(request, body)
        mode = rule["mode"]
        if mode == "status":
            headers = {"Retry-After": str(rule["retry_after"])} if rule.get("retry_after") is not None else {}
            return web.Response(status=rule["status"], text="injected", headers=headers)
        if mode == "html200":
            return web.Response(status=200, text="<html><body>Please log in</body></html>",
                                content_type="text/html")
        if mode == "reset":
            return drop(request)
        response = await forward(request, body)
        if mode == "reset_after":
            return drop(request)
        if mode == "slow":
            await asyncio.sleep(rule.get("delay", 5))
        return response

    app.router.add_route("*", "/_fault", control)
    app.router.add_route("*", "/{tail:.*}", proxy)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    web.run_app(build_app(args.upstream.rstrip("/")), host="127.0.0.1", port=args.port, print=None,
                access_log=None)


if __name__ == "__main__":
    main()
