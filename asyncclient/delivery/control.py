"""Control-plane calls (create_run, get_run, search_runs, ...): synchronous for the caller, as in MLflow.

They do not go through the ring: the caller needs the answer (a run id, a run) before it goes on. The
embedded store is called directly in the calling thread; a server is reached through the REST transport
on a small event-loop thread of this process, retried while the server is unreachable for up to
``ASYNCCLIENT_REQUEST_RETRY_SECONDS``, as MLflow's client retries its requests.
"""

from __future__ import annotations

import asyncio
import threading

from asyncclient import config
from asyncclient.delivery.deliverer import _backoff
from asyncclient.entities import ViewType
from asyncclient.exceptions import MlflowException
from asyncclient.transports import TransientError, is_embedded_uri, transport_for_uri


class ControlPlane:
    def __init__(self, uri: str):
        self.uri = uri
        self._store = None
        self._transport = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        if is_embedded_uri(uri):
            from asyncclient.store import store_from_uri

            self._store = store_from_uri(uri)

    def call(self, name: str, *args, **kwargs):
        if self._store is not None:
            return getattr(self._store, name)(*args, **kwargs)
        loop = self._ensure_loop()
        retry_seconds = config.request_retry_seconds()
        future = asyncio.run_coroutine_threadsafe(self._with_retries(name, args, kwargs, retry_seconds), loop)
        return future.result()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run():
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                threading.Thread(target=run, name="asyncclient-control", daemon=True).start()
                ready.wait()
                self._transport = transport_for_uri(self.uri)
                asyncio.run_coroutine_threadsafe(self._transport.start(), loop).result()
                self._loop = loop
            return self._loop

    async def _with_retries(self, name: str, args: tuple, kwargs: dict, retry_seconds: float):
        transport = self._transport
        method = getattr(transport, name)
        deadline = asyncio.get_running_loop().time() + retry_seconds
        if name == "create_run":
            args, kwargs = _with_client_side_identity(transport, args, kwargs)
        attempt = 0
        while True:
            attempt += 1
            try:
                if name == "create_run" and attempt > 1 and not getattr(transport, "msgpack", False):
                    # The first attempt may have created the run before the answer was lost: find it
                    # rather than create a second one.
                    found = await _find_created_run(transport, *args, **kwargs)
                    if found is not None:
                        return found
                return await method(*args, **kwargs)
            except TransientError as e:
                now = asyncio.get_running_loop().time()
                if now >= deadline:
                    raise MlflowException(
                        f"{name} failed after retrying for {retry_seconds:g} s: {e}",
                        error_code="TEMPORARILY_UNAVAILABLE",
                    ) from e
                delay = e.retry_after if e.retry_after is not None else _backoff(attempt)
                await asyncio.sleep(max(0.0, min(delay, deadline - now)))

    def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            try:
                asyncio.run_coroutine_threadsafe(self._transport.close(), loop).result(2)
            except Exception:  # closing on the way out: nothing left to report to
                pass
            loop.call_soon_threadsafe(loop.stop)


def _with_client_side_identity(transport, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """A run name chosen here (as the server would), and for an asyncclient server the run id too, so a
    create_run whose answer was lost can be recognised (or is idempotent) when it is retried."""
    from uuid import uuid4

    from asyncclient.store.names import generate_run_name

    names = ("experiment_id", "user_id", "start_time", "tags", "run_name", "run_id")
    bound = dict(zip(names, args, strict=False)) | kwargs
    if not bound.get("run_name"):
        tags = {t.key: t.value for t in bound.get("tags") or ()}
        bound["run_name"] = tags.get("mlflow.runName") or generate_run_name()
    if getattr(transport, "msgpack", False) and not bound.get("run_id"):
        bound["run_id"] = uuid4().hex
    return (), bound


async def _find_created_run(transport, experiment_id: str, user_id: str, start_time: int | None, tags,
                            run_name: str | None, *_, **__):
    """The run a lost create_run answer created: same experiment, start time (ms), name and user."""
    if start_time is None or not run_name:
        return None
    page = await transport.search_runs([str(experiment_id)], f"attributes.start_time = {int(start_time)}",
                                       ViewType.ALL, 100, None, None)
    for run in page:
        if run.info.run_name == run_name and run.info.user_id == user_id:
            return run
    return None
