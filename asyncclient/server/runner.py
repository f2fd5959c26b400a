"""Running the app: one process, or N worker processes sharing the port through ``SO_REUSEPORT``.

MLflow runs uvicorn with ``--workers`` for the same purpose. The server keeps no state outside the store,
so any worker may answer any request; the kernel spreads connections over the workers.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import sys
import time

from asyncclient.server.access_log import JsonAccessLogger
from asyncclient.server.app import create_app, open_store
from asyncclient.server.config import ServerConfig
from asyncclient.server.graceful import serve_until_signal

_log = logging.getLogger(__name__)

# A worker that dies sooner than this after its start failed to start (e.g. the port is taken).
_STARTUP_GRACE_S = 3.0


def _tune_gc() -> None:
    # Each 1000-metric batch allocates thousands of short-lived objects; with the default thresholds the
    # collector runs every few hundred allocations and rescans long-lived modules. Freezing what exists at
    # startup and collecting young objects less often cuts that overhead without disabling the collector.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


MAX_REQUEST_LINE_BYTES = 1024 * 1024
MAX_HEADER_FIELD_BYTES = 64 * 1024


# SIGTERM / SIGINT: requests in flight get this long to finish (graceful.py).
GRACEFUL_SHUTDOWN_S = 30.0


def _return_large_buffers_to_the_os() -> None:
    # Artifact transfers allocate buffers of 1-5 MiB in several threads. glibc raises its mmap threshold
    # after the first such buffer is freed, so later ones come from per-thread heaps that keep the memory:
    # the server's RSS would creep up by several buffers per thread. A fixed threshold keeps them mmapped
    # and returned on free.
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    m_mmap_threshold = -3
    libc.mallopt(m_mmap_threshold, 512 * 1024)


def _serve_one(config: ServerConfig, host: str, port: int, reuse_port: bool, access_log: bool) -> None:
    _tune_gc()
    _return_large_buffers_to_the_os()
    asyncio.run(serve_until_signal(
        create_app(config), host, port, reuse_port, GRACEFUL_SHUTDOWN_S,
        access_log=logging.getLogger("asyncclient.access") if access_log else None,
        access_log_class=JsonAccessLogger,
        # aiohttp's 8 KiB request-line limit answers a long query string (1,000 run_ids for
        # get-history-bulk) with a plain-text 400 before any handler runs; MLflow's server lets it through
        # to the handler, which answers INVALID_PARAMETER_VALUE in JSON. So do we.
        max_line_size=MAX_REQUEST_LINE_BYTES, max_field_size=MAX_HEADER_FIELD_BYTES,
    ))


def serve(config: ServerConfig, host: str = "127.0.0.1", port: int = 5000, workers: int = 1,
          access_log: bool = False) -> None:
    """Serve until SIGINT/SIGTERM (``mlflow server`` equivalent)."""
    if not config.artifacts_only:
        # Create and migrate the database once, before any worker exists, so workers never race on it.
        store = open_store(config)
        try:
            if config.app_name:
                # The first admin too; without an admin password the server refuses to start, as MLflow's.
                from asyncclient.server.auth import bootstrap_admin, open_auth_store
                from asyncclient.server.auth.config import read_auth_config

                bootstrap_admin(open_auth_store(store), read_auth_config())
        finally:
            store.close()
    where = f"http://{host}:{port}"
    if workers <= 1:
        print(f"asyncclient server listening on {where}", file=sys.stderr, flush=True)
        _serve_one(config, host, port, False, access_log)
        return
    _supervise(config, host, port, workers, access_log, where)


def _supervise(config: ServerConfig, host: str, port: int, workers: int, access_log: bool, where: str) -> None:
    # fork: the children inherit the parsed config; nothing holding threads or connections exists yet.
    ctx = multiprocessing.get_context("fork")
    procs: dict[int, tuple[multiprocessing.process.BaseProcess, float]] = {}
    stopping = False

    def start(slot: int) -> None:
        p = ctx.Process(target=_serve_one, args=(config, host, port, True, access_log),
                        name=f"asyncclient-server-{slot}", daemon=False)
        p.start()
        procs[slot] = (p, time.monotonic())

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        for p, _ in procs.values():
            if p.is_alive():
                os.kill(p.pid, signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(workers):
        start(slot)
    print(f"asyncclient server listening on {where} ({workers} workers)", file=sys.stderr, flush=True)

    while procs:
        time.sleep(0.2)
        for slot, (p, started) in list(procs.items()):
            if p.is_alive():
                continue
            p.join()
            del procs[slot]
            if stopping:
                continue
            if time.monotonic() - started < _STARTUP_GRACE_S:
                _log.error("worker %d exited with code %s during startup; stopping", slot, p.exitcode)
                stop(signal.SIGTERM, None)
                raise SystemExit(1)
            _log.warning("worker %d exited with code %s; restarting it", slot, p.exitcode)
            start(slot)
