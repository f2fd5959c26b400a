"""Deliver rings left behind by processes that exited before their data was stored (`asyncclient sync`)."""

from __future__ import annotations

import asyncio
import os

from asyncclient.buffer.spool import find_orphans


async def _deliver(ring, timeout: float) -> tuple[list[str], list[dict]]:
    from asyncclient.transports import transport_for_uri
    from asyncclient.worker import BatchWorker, _RingState

    failures: list[dict] = []
    transport = transport_for_uri(ring.meta().get("tracking_uri"))
    worker = BatchWorker(ring, transport, family="", spool_dir="", interval=1.0, max_in_flight=4,
                         on_failure=failures.append)
    worker.loop.close()  # this worker runs on the caller's loop, not a thread of its own
    worker._semaphore = asyncio.Semaphore(4)
    await transport.start()
    state = _RingState(ring, transport, adopted=True)
    worker._states[ring.path] = state
    runs = sorted(worker.pending_summary())
    try:
        await asyncio.wait_for(worker._drain(state), timeout)
    finally:
        await transport.close()
    return runs, failures


def sync_spool(directory: str, timeout: float = 300.0) -> list[dict]:
    """Deliver every orphan ring in `directory`; one report per ring (path, uri, delivered, failures)."""
    reports = []
    for ring in find_orphans(directory, family=None, me=os.getpid(), skip=set()):
        meta = ring.meta()
        report = {"path": ring.path, "uri": meta.get("tracking_uri"), "pid": meta.get("pid")}
        try:
            report["runs"], report["failures"] = asyncio.run(_deliver(ring, timeout))
            report["delivered"] = True
        except (TimeoutError, OSError) as e:
            report["delivered"], report["error"] = False, str(e) or type(e).__name__
            ring.close(unlink=False)
        reports.append(report)
    return reports
