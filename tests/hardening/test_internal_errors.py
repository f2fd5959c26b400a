"""A handler that fails unexpectedly: MLflow's JSON error, status 500, no exception text or paths."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from asyncclient.server.app import create_app
from asyncclient.server.config import ServerConfig


def test_unexpected_failure_answers_without_internals(tmp_path):
    async def scenario():
        app = create_app(ServerConfig(backend_store_uri=f"sqlite:///{tmp_path}/a.db",
                                      artifacts_destination=str(tmp_path / "art")))

        async def broken(request):
            raise RuntimeError("/srv/secret/config.py: password=hunter2")

        app.router.add_get("/api/2.0/mlflow/broken", broken)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            r = await client.get("/api/2.0/mlflow/broken")
            return r.status, await r.json(), r.headers.get("X-Frame-Options")

    status, body, frame = asyncio.run(scenario())
    assert status == 500 and body["error_code"] == "INTERNAL_ERROR"
    assert "secret" not in body["message"] and "hunter2" not in body["message"] and "/srv" not in body["message"]
    assert frame == "SAMEORIGIN"


def test_security_middleware_can_be_disabled(tmp_path):
    async def scenario():
        app = create_app(ServerConfig(backend_store_uri=f"sqlite:///{tmp_path}/a.db",
                                      artifacts_destination=str(tmp_path / "art"), disable_security_middleware=True))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            r = await client.get("/api/2.0/mlflow/experiments/search", params={"max_results": "1"},
                                 headers={"Host": "evil.example.com"})
            return r.status, r.headers.get("X-Frame-Options")

    assert asyncio.run(scenario()) == (200, None)
