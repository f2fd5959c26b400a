"""Graceful shutdown: on SIGTERM / SIGINT, requests already being served finish before the server closes.

aiohttp's own shutdown marks every connection closing first, and from then on drops the bytes still
arriving, so an upload or a large batch whose body is in transit is cut off. Here the listening socket is
closed first (no new connections), then the server waits until no request is in flight (at most
``timeout``), and only then hands over to aiohttp's cleanup.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from asyncclient.server.slow_clients import GuardedAppRunner

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class InFlight:
    """Counts requests inside the app; ``wait_idle`` returns when none is left."""

    def __init__(self) -> None:
        self.count = 0
        self._idle: asyncio.Event | None = None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.count += 1
        try:
            return await handler(request)
        finally:
            self.count -= 1
            if self.count == 0 and self._idle is not None:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        self._idle = asyncio.Event()
        if self.count == 0:
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False


async def serve_until_signal(app: web.Application, host: str, port: int, reuse_port: bool, timeout: float,
                             **runner_kwargs) -> None:
    """Serve ``app`` until SIGTERM / SIGINT, then stop accepting, drain, and clean up."""
    in_flight = InFlight()
    app.middlewares.insert(0, in_flight.middleware)
    runner = GuardedAppRunner(app, handle_signals=False, **runner_kwargs)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
        await site.start()
        await stop.wait()
        await site.stop()  # closes the listening socket only; connections in progress go on
        await in_flight.wait_idle(timeout)
    finally:
        await runner.cleanup()
