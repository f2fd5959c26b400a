"""The embedded transport: batches go straight into the local store (SQLite or PostgreSQL), no server."""

from __future__ import annotations

import asyncio
import os
import queue
import threading

from asyncclient.entities import DatasetInput, Metric, Param, RunTag
from asyncclient.transports.base import BatchLimits, KeyValue, MetricRecords, MetricTuple, Transport


class StoreThread:
    """One thread that runs blocking store calls for an event loop.

    Not ``asyncio.to_thread``: its executor is shut down before ``atexit`` handlers run ("cannot schedule new
    futures after shutdown"), which is exactly when an exiting process still has data to store. A plain
    daemon thread of our own keeps working until the process is gone. One thread, because the store takes
    one writer at a time anyway (SQLite), and the batches of one ring are already in order.
    """

    def __init__(self, name: str = "asyncclient-store"):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            loop, future, fn, args, kwargs = item
            try:
                result = fn(*args, **kwargs)
            except BaseException as e:  # handed to the awaiting coroutine, whatever it is
                _resolve(loop, future, None, e)
            else:
                _resolve(loop, future, result, None)

    async def run(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((loop, future, fn, args, kwargs))
        return await future

    def stop(self) -> None:
        self._queue.put(None)


def _resolve(loop, future, result, error) -> None:
    def settle():
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the loop closed while the call ran: nobody is waiting any more
        pass


class EmbeddedTransport(Transport):
    # No HTTP body to bound: larger batches mean fewer transactions (SQLite commits dominate small ones).
    limits = BatchLimits(metrics=20_000, params=1000, tags=1000, entities=22_000, body_bytes=1 << 60)

    def __init__(self, uri: str | None):
        from asyncclient.store.uri import resolve_db_uri

        self.uri = uri
        db_uri = resolve_db_uri(uri)[0]
        self._sqlite_path = db_uri[len("sqlite:///"):] if db_uri.startswith("sqlite:///") else None
        self._watch_fd: int | None = None
        self.store = self._open()
        self._thread: StoreThread | None = None

    def _open(self):
        from asyncclient.store import store_from_uri

        store = store_from_uri(self.uri)
        if self._sqlite_path is not None and os.path.exists(self._sqlite_path):
            # Held open, this descriptor pins the file's inode: a file created later at the same path can
            # never get the same inode number, so comparing the two tells a replaced database for sure.
            self._watch_fd = os.open(self._sqlite_path, os.O_RDONLY | os.O_CLOEXEC)
        return store

    def _replaced(self) -> bool:
        try:
            now = os.stat(self._sqlite_path)
        except FileNotFoundError:
            return True
        pinned = os.fstat(self._watch_fd)
        return (now.st_ino, now.st_dev) != (pinned.st_ino, pinned.st_dev)

    def _current_store(self):
        """The store, opened again if its SQLite file was deleted or replaced since (``rm -rf mlruns``
        between experiments): the delivery agent lives longer than one experiment's folder."""
        if self._watch_fd is not None and self._replaced() and os.path.exists(self._sqlite_path):
            from asyncclient.store.uri import forget_store

            os.close(self._watch_fd)
            self._watch_fd = None
            forget_store(self.uri)
            self.store = self._open()
        return self.store

    def _call(self, name: str, *args, **kwargs):
        return getattr(self._current_store(), name)(*args, **kwargs)

    def _runner(self) -> StoreThread:
        if self._thread is None:
            self._thread = StoreThread()
        return self._thread

    async def close(self) -> None:
        if self._watch_fd is not None:
            os.close(self._watch_fd)
            self._watch_fd = None
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    async def log_batch(self, run_id: str, metrics: MetricRecords | list[MetricTuple], params: list[KeyValue],
                        tags: list[KeyValue]) -> None:
        if getattr(self.store, "log_batch_tuples", None) is not None:
            await self._runner().run(self._call, "log_batch_tuples", run_id, metrics, params, tags)
            return
        await self._runner().run(
            self._call, "log_batch", run_id,
            [Metric(k, v, t, s) for k, v, t, s in metrics],
            [Param(k, v) for k, v in params],
            [RunTag(k, v) for k, v in tags],
        )

    async def delete_tag(self, run_id: str, key: str) -> None:
        await self._runner().run(self._call, "delete_tag", run_id, key)

    async def log_inputs(self, run_id: str, datasets: list[DatasetInput]) -> None:
        await self._runner().run(self._call, "log_inputs", run_id, datasets)

    async def update_run_info(self, run_id: str, run_status, end_time: int | None, run_name: str | None):
        return await self._runner().run(self._call, "update_run_info", run_id, run_status, end_time, run_name)

    def __getattr__(self, name: str):
        # Every other call (create_run, get_run, search_runs, ...) is the store's method of that name.
        if name.startswith("_") or not hasattr(self.store, name):
            raise AttributeError(name)

        async def call(*args, **kwargs):
            return await self._runner().run(self._call, name, *args, **kwargs)

        call.__name__ = name
        return call
