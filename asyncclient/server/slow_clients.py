"""Slow-client timeouts: a connection that trickles its request in is closed, not kept forever.

aiohttp bounds a request's size but not the time its head or body may take, so a client sending a byte
every few seconds (slowloris) holds a connection, and its file descriptor, indefinitely. Here each
connection's handler (a RequestHandler subclass, installed by ``guarded_runner``) enforces:

- ``head_timeout``: from the first byte of a request to the end of its headers;
- ``body_idle_timeout``: while a handler waits for a body, the longest gap between two chunks;
- idle keep-alive connections close after ``keepalive_timeout``, aiohttp's own setting (its default for
  a bare AppRunner is an hour).

A head that times out is answered ``408 Request Timeout``; a stalled body just loses its connection (the
handler is mid-request, and the client is not reading either).
"""

from __future__ import annotations

import os
import time

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

HEAD_TIMEOUT_S = float(os.environ.get("ASYNCCLIENT_HEADER_TIMEOUT", "30"))
BODY_IDLE_TIMEOUT_S = float(os.environ.get("ASYNCCLIENT_BODY_IDLE_TIMEOUT", "60"))
KEEPALIVE_TIMEOUT_S = 75.0  # as aiohttp's run_app and most proxies

_TIMEOUT_BODY = b'{"error_code": "REQUEST_TIMEOUT", "message": "The request headers took too long to arrive."}'
_TIMEOUT_408 = (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n" % len(_TIMEOUT_BODY)) + _TIMEOUT_BODY


class _GuardedHandler(RequestHandler):
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_since: float | None = None
        self._last_data = time.monotonic()
        self._watch = None

    def data_received(self, data: bytes) -> None:
        self._last_data = time.monotonic()
        super().data_received(data)
        if self._messages or self._request_in_progress:
            self._head_since = None  # a whole head arrived; a body (if any) is watched for gaps
        elif self._head_since is None:
            self._head_since = self._last_data  # the first bytes of a new request's head
        self._arm()

    def _arm(self) -> None:
        if self._watch is None and self.transport is not None:
            self._watch = self._loop.call_later(1.0, self._check)

    def _check(self) -> None:
        self._watch = None
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        now = time.monotonic()
        if self._head_since is not None and not self._messages and not self._request_in_progress:
            if now - self._head_since >= HEAD_TIMEOUT_S:
                transport.write(_TIMEOUT_408)
                self.force_close()
                transport.close()
                return
        elif self._request_in_progress and self._waiting_for_body():
            if not _reading(transport):
                # Paused by our own flow control (the handler writes the body somewhere slower): the
                # silence is ours, not the client's.
                self._last_data = now
            elif now - self._last_data >= BODY_IDLE_TIMEOUT_S:
                transport.abort()
                return
        if self._head_since is not None or self._request_in_progress:
            self._arm()

    def _waiting_for_body(self) -> bool:
        request = self._current_request
        return request is not None and request.can_read_body and not request.content.is_eof()

    def connection_lost(self, exc) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        super().connection_lost(exc)


def _reading(transport) -> bool:
    try:
        return transport.is_reading()
    except (AttributeError, NotImplementedError):
        return True


class _GuardedServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _GuardedHandler(self, loop=self._loop, **self._kwargs)


class GuardedAppRunner(web.AppRunner):
    """An AppRunner whose connections get the timeouts above."""

    def __init__(self, app: web.Application, **kwargs):
        kwargs.setdefault("keepalive_timeout", KEEPALIVE_TIMEOUT_S)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _GuardedServer  # the same object; only which handler class it builds changes
        return server
