"""A blocking face for asyncclient's async transports, for a command-line copy that runs one call at a time."""

from __future__ import annotations

import asyncio
import time

from asyncclient.exceptions import MlflowException
from asyncclient.transports import TransientError, transport_for_uri

# A server that is briefly down (restarting, 503) is waited for; one that stays down fails the copy.
RETRY_SECONDS = 60.0


class SyncTransport:
    """Runs a transport's coroutines on a private event loop; retries transient failures with backoff."""

    def __init__(self, uri: str):
        self.uri = uri
        self._loop = asyncio.new_event_loop()
        self.transport = transport_for_uri(uri)
        self._loop.run_until_complete(self.transport.start())

    @property
    def embedded(self) -> bool:
        return not self.uri.startswith(("http://", "https://"))

    @property
    def is_asyncclient_server(self) -> bool:
        # The REST transport switches to msgpack only when the server says it is an asyncclient server.
        return bool(getattr(self.transport, "msgpack", False))

    def call(self, name: str, *args, **kwargs):
        deadline = time.monotonic() + RETRY_SECONDS
        delay = 0.2
        while True:
            try:
                return self._loop.run_until_complete(getattr(self.transport, name)(*args, **kwargs))
            except TransientError as e:
                if time.monotonic() > deadline:
                    raise MlflowException(f"{self.uri} did not answer {name} for {RETRY_SECONDS:g} s: {e}") from e
                time.sleep(e.retry_after if e.retry_after is not None else delay)
                delay = min(delay * 2, 5.0)

    def close(self) -> None:
        self._loop.run_until_complete(self.transport.close())
        self._loop.close()
