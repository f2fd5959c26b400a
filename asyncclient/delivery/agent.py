"""The delivery agent: one process per user and spool folder that drains every ring in it.

Training processes only write their rings; the agent reads them and delivers, so delivery costs the
training loop neither its GIL nor its exit. Started detached by the first process that logs (see
``agent_link``), it holds ``agent.lock`` for its whole life (a second one finds it taken and leaves), listens
on ``agent.sock`` for wake-ups (a datagram when a writer filled a batch or waits in ``flush()``), and scans
the folder every ``ASYNCCLIENT_FLUSH_INTERVAL``. It drains live rings and rings whose writer died (those
it deletes once empty), and it exits after ``ASYNCCLIENT_AGENT_IDLE_SECONDS`` with no ring left. Killed
at any moment, it loses nothing: the read offset moves only after the destination acknowledged a batch, and
the next agent continues from there.

Run it by hand with ``python -m asyncclient.delivery [SPOOL_DIR]``; ``--until-empty`` delivers what
is there and exits (``asyncclient sync``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import glob
import logging
import os
import socket
import sys
import time

from asyncclient import config
from asyncclient.buffer import RingBuffer
from asyncclient.buffer.ring import CorruptRing
from asyncclient.delivery.deliverer import Deliverer, RingState
from asyncclient.transports import Transport, transport_for_uri

_logger = logging.getLogger("asyncclient.agent")

LOCK_NAME, SOCKET_NAME, LOG_NAME = "agent.lock", "agent.sock", "agent.log"


class Agent:
    def __init__(self, spool_dir: str, *, interval: float, idle_exit: float, max_in_flight: int,
                 until_empty: bool = False, deadline: float | None = None):
        self.spool_dir = os.path.abspath(spool_dir)
        self.interval = interval
        self.idle_exit = idle_exit
        self.until_empty = until_empty
        self.deadline = deadline
        self.failures: list[dict] = []
        self.delivered: list[str] = []
        self.deliverer = Deliverer(max_in_flight, on_failure=lambda state, f: self.failures.append(
            dict(f, path=state.ring.path)))
        self.states: dict[str, RingState] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.dirty: set[str] = set()
        self.skip: set[str] = set()  # rings we cannot read (damaged): reported once, left alone
        self._unreadable: dict[str, tuple[int, float]] = {}  # path -> (failed opens, when to try again)
        self.transports: dict[tuple, Transport] = {}
        self._wake: asyncio.Event | None = None
        self._woken: set[str] = set()  # rings named by wake-up datagrams since the last pass
        self.remaining: int = 0

    # ---- the loop ----
    async def run(self) -> int:
        self._wake = asyncio.Event()
        sock = self._listen()
        last_busy = last_scan = time.monotonic()
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
                self._wake.clear()
                now = time.monotonic()
                if now - last_scan >= self.interval or not self._woken:
                    # The timer's pass: every ring in the folder. A wake-up names its ring: only that one,
                    # without listing the folder, which is what keeps flush() after one point fast.
                    last_scan = now
                    self._scan()
                    due = list(self.states)
                else:
                    due = [p for p in self._woken if p in self.states or self._open(p)]
                self._woken.clear()
                for path in due:
                    self.dirty.add(path)
                    task = self.tasks.get(path)
                    if task is None or task.done():
                        self.tasks[path] = asyncio.create_task(self._serve(path))
                if self.states:
                    last_busy = now
                if self.until_empty and not self.states:
                    return 0
                if self.deadline is not None and now > self.deadline:
                    self.remaining = len(self.states)
                    return 1
                if not self.until_empty and not self.states and now - last_busy > self.idle_exit:
                    _logger.info("nothing to deliver for %.0f s: exiting", self.idle_exit)
                    return 0
        finally:
            for task in self.tasks.values():
                task.cancel()
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
            for transport in self.transports.values():
                with contextlib.suppress(Exception):
                    await transport.close()
            if sock is not None:
                sock.close()

    def _listen(self) -> socket.socket | None:
        if self.until_empty:
            return None
        path = os.path.join(self.spool_dir, SOCKET_NAME)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # we hold the agent lock: a socket file left here belongs to a dead agent
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.setblocking(False)

        def readable() -> None:
            with contextlib.suppress(BlockingIOError, InterruptedError):
                while True:
                    name = sock.recv(4096)
                    if not name:
                        break
                    self._woken.add(os.fsdecode(name))
            self._wake.set()

        asyncio.get_running_loop().add_reader(sock.fileno(), readable)
        return sock

    def _scan(self) -> None:
        for path in glob.glob(os.path.join(self.spool_dir, "*.ring")):
            if path not in self.states and path not in self.skip:
                self._open(path)

    def _open(self, path: str) -> bool:
        """Start serving the ring at `path`; False if it is not ours to drain (or not a ring)."""
        if path in self.skip or os.path.dirname(path) != self.spool_dir or not path.endswith(".ring"):
            return False
        failed, retry_at = self._unreadable.get(path, (0, 0.0))
        if time.monotonic() < retry_at:
            return False
        try:
            ring = RingBuffer.open_existing(path)
        except FileNotFoundError:
            return False
        except (OSError, CorruptRing, ValueError) as e:
            # Tried again a few times before it is given up on: what looks damaged for an instant must not
            # cost a live writer its delivery.
            failed += 1
            if failed >= 5:
                _logger.error("cannot read ring %s: %s; left in place", path, e)
                self.skip.add(path)
            else:
                _logger.warning("cannot read ring %s yet (%s); trying again", path, e)
                self._unreadable[path] = (failed, time.monotonic() + 0.5 * failed)
            return False
        self._unreadable.pop(path, None)
        owner_dead = ring.try_lock_orphan()
        if self.until_empty and not owner_dead:  # `sync`: only what exited processes left behind
            ring._release()
            return False
        if ring.drained_in_process() and not owner_dead:
            ring._release()  # its own process drains it (thread mode); we take over only if it dies
            return False
        try:
            meta = ring.meta()
            transport = self._transport(meta)
        except Exception as e:  # a ring we cannot route is reported and left for `asyncclient sync`
            _logger.error("cannot deliver ring %s: %s", path, e)
            ring._release()
            self.skip.add(path)
            return False
        self.states[path] = RingState(ring, transport, owner_alive=not owner_dead)
        return True

    def _transport(self, meta: dict) -> Transport:
        uri = meta.get("tracking_uri")
        credentials = meta.get("credentials") or {}
        key = (uri, tuple(sorted(credentials.items())))
        transport = self.transports.get(key)
        if transport is None:
            transport = self.transports[key] = transport_for_uri(uri, credentials=credentials)
            transport.started = asyncio.ensure_future(transport.start())
        return transport

    async def _serve(self, path: str) -> None:
        """Drain one ring while there is news for it; forget it once its writer is gone and it is empty."""
        state = self.states[path]
        with contextlib.suppress(Exception):
            await state.transport.started  # discovery failing (server down) just means JSON
        while path in self.dirty:
            self.dirty.discard(path)
            if not await self.deliverer.drain(state):
                self.skip.add(path)
                self.states.pop(path, None)
                state.ring._release()
                return
        if state.owner_alive and state.ring.try_lock_orphan():
            state.owner_alive = False
            self.dirty.add(path)  # one more pass: the writer may have written just before it died
            return
        if not state.owner_alive and state.ring.is_empty():
            self.states.pop(path, None)
            state.ring.close(unlink=True)
            self.delivered.append(path)


def acquire_agent_lock(spool_dir: str, wait: float = 1.0) -> int | None:
    """The agent lock's descriptor if we got it within `wait` seconds, else None (another agent runs).

    Waiting a little matters: a writer checking whether an agent runs holds the lock for an instant.
    """
    os.makedirs(spool_dir, mode=0o700, exist_ok=True)
    fd = os.open(os.path.join(spool_dir, LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(0.05)
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def main(argv: list[str] | None = None) -> int:
    import argparse

    from asyncclient.buffer import spool_dir as default_spool

    parser = argparse.ArgumentParser(prog="python -m asyncclient.delivery", description=__doc__.split("\n")[0])
    parser.add_argument("spool_dir", nargs="?", default=None)
    parser.add_argument("--until-empty", action="store_true", help="deliver what is there, then exit")
    parser.add_argument("--timeout", type=float, default=None, help="with --until-empty: give up after this long")
    args = parser.parse_args(argv)
    folder = args.spool_dir or default_spool()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s agent[{os.getpid()}] %(levelname)s %(message)s")
    lock = acquire_agent_lock(folder)
    if lock is None:
        print(f"a delivery agent already serves {folder}", file=sys.stderr)
        return 0 if not args.until_empty else 3
    _logger.info("delivering rings in %s", folder)
    agent = Agent(folder, interval=config.flush_interval(), idle_exit=config.agent_idle_seconds(),
                  max_in_flight=config.max_in_flight(), until_empty=args.until_empty,
                  deadline=None if args.timeout is None else time.monotonic() + args.timeout)
    try:
        return asyncio.run(agent.run())
    except KeyboardInterrupt:
        return 130
    finally:
        os.close(lock)


if __name__ == "__main__":
    sys.exit(main())
