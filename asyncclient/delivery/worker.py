"""The in-process worker: the fallback when no delivery agent can run (``ASYNCCLIENT_DELIVERY=thread``).

An asyncio loop in a daemon thread drains this process's ring with the same Deliverer as the agent, and
adopts rings that dead descendants of this process left behind (those drained in process too).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time

from asyncclient.buffer import RingBuffer, find_orphans
from asyncclient.delivery.deliverer import Deliverer, RingState
from asyncclient.transports import Transport, transport_for_uri

_logger = logging.getLogger("asyncclient")


class InProcessWorker:
    def __init__(self, ring: RingBuffer, transport: Transport, *, family: str, spool_dir: str,
                 interval: float, max_in_flight: int):
        self.ring = ring
        self.transport = transport
        self.family = family
        self.spool_dir = spool_dir
        self.interval = interval
        self.deliverer = Deliverer(max_in_flight, on_progress=self._notify)
        self.loop = asyncio.new_event_loop()
        self.progress = threading.Condition()
        self._stopping = False
        self.states: dict[str, RingState] = {ring.path: RingState(ring, transport)}
        self._adopted_transports: dict[str, Transport] = {}
        self._last_scan = 0.0
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="asyncclient-worker", daemon=True)

    def start(self) -> None:
        self.thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    def _notify(self) -> None:
        with self.progress:
            self.progress.notify_all()

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed during interpreter shutdown
            self.loop.call_soon_threadsafe(self._wake_event.set)

    def stop(self, timeout: float) -> None:
        self._stopping = True
        if self.thread.is_alive():
            self.wake()
            self.thread.join(timeout)

    async def _main(self) -> None:
        self._wake_event = asyncio.Event()
        try:
            await self.transport.start()
        except Exception as e:  # discovery failing (server down) only means JSON; delivery retries anyway
            _logger.debug("transport start: %s", e)
        finally:
            self._ready.set()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_event.wait(), self.interval)
            self._wake_event.clear()
            if time.monotonic() - self._last_scan > 1.0:
                self.adopt_orphans()
            await asyncio.gather(*(self._drain(s) for s in list(self.states.values())))
        await self.transport.close()
        for t in self._adopted_transports.values():
            await t.close()

    async def _drain(self, state: RingState) -> None:
        try:
            ok = await self.deliverer.drain(state)
        except Exception as e:  # the Deliverer contains errors; this is the last line of defence
            _logger.error("asyncclient: delivery pass failed: %s: %s", type(e).__name__, e)
            return
        if not state.owner_alive and (not ok or state.ring.is_empty()):
            self.states.pop(state.ring.path, None)
            state.ring.close(unlink=ok)
            self._notify()
        elif not ok:  # our own ring is damaged: reported to flush(); stop reading it, keep writing it
            self.states.pop(state.ring.path, None)

    def adopt_orphans(self) -> int:
        """Take over in-process rings that our dead descendants left (Pool.terminate(), os._exit, kill)."""
        self._last_scan = time.monotonic()
        orphans = find_orphans(self.spool_dir, self.family, os.getpid(), set(self.states), in_process_only=True)
        for ring in orphans:
            uri = ring.meta().get("tracking_uri")
            transport = self.transport if uri == self.transport.uri else self._adopted_transports.get(uri)
            if transport is None:
                transport = self._adopted_transports[uri] = transport_for_uri(uri)
                self.loop.create_task(transport.start())
            self.states[ring.path] = RingState(ring, transport, owner_alive=False)
        return len(orphans)

    def adopted_rings(self) -> list[RingBuffer]:
        return [s.ring for s in list(self.states.values()) if not s.owner_alive]

    def abandon_after_fork(self) -> None:
        """In a forked child: let go of adopted rings, or their flocks would make them look owned."""
        for state in list(self.states.values()):
            if not state.owner_alive:
                state.ring.abandon_after_fork()
