"""`asyncclient sync`: deliver what exited processes left in their ring files, now.

With a delivery agent running this is what it does anyway, so `sync` wakes it and waits; otherwise `sync`
takes the agent's place (and lock) until the rings of exited processes are delivered.
"""

from __future__ import annotations

import asyncio
import glob
import os
import time

from asyncclient import config


def sync_spool(directory: str, timeout: float = 300.0) -> dict:
    """{"delivered": [paths], "failures": [...], "remaining": [paths], "by_agent": bool}."""
    from asyncclient.delivery.agent import Agent, acquire_agent_lock
    from asyncclient.delivery.agent_link import AgentLink

    deadline = time.monotonic() + timeout
    link = AgentLink(directory)
    while time.monotonic() < deadline:
        lock = acquire_agent_lock(directory, wait=0.2)
        if lock is None:  # an agent runs: it delivers orphans by itself; wait for them to go
            link.wake("")
            remaining = _orphans(directory)
            if not remaining:
                return {"delivered": [], "failures": [], "remaining": [], "by_agent": True}
            time.sleep(0.2)
            continue
        try:
            agent = Agent(directory, interval=0.05, idle_exit=0, max_in_flight=config.max_in_flight(),
                          until_empty=True, deadline=deadline)
            asyncio.run(agent.run())
        finally:
            os.close(lock)
        return {"delivered": agent.delivered, "failures": agent.failures, "remaining": _orphans(directory),
                "by_agent": False}
    return {"delivered": [], "failures": [], "remaining": _orphans(directory), "by_agent": True}


def _orphans(directory: str) -> list[str]:
    from asyncclient.buffer import RingBuffer

    out = []
    for path in glob.glob(os.path.join(directory, "*.ring")):
        try:
            ring = RingBuffer.open_existing(path)
        except (OSError, ValueError, RuntimeError):
            continue
        try:
            if ring.try_lock_orphan():
                out.append(path)
        finally:
            ring._release()
    return out
