"""A writer's side of the delivery agent: is one running for our spool folder, start one, wake it."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import sys

from asyncclient.delivery.agent import LOCK_NAME, LOG_NAME, SOCKET_NAME

_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class AgentLink:
    def __init__(self, spool_dir: str):
        self.spool_dir = spool_dir
        self._lock_path = os.path.join(spool_dir, LOCK_NAME)
        self._socket_path = os.path.join(spool_dir, SOCKET_NAME)
        self._sock: socket.socket | None = None
        self._sock_pid = -1

    def alive(self) -> bool:
        """True while an agent holds the lock (the kernel drops it when the agent dies, however it dies)."""
        try:
            fd = os.open(self._lock_path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # releases the shared lock we may have taken
        return False

    def ensure(self) -> bool:
        """Start an agent unless one runs; False if it cannot be started here."""
        if self.alive():
            return True
        return self.start()

    def start(self) -> bool:
        env = dict(os.environ)
        # The agent imports the same asyncclient as we do, installed or from a checkout.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
        try:
            os.makedirs(self.spool_dir, mode=0o700, exist_ok=True)
            with open(os.path.join(self.spool_dir, LOG_NAME), "ab") as log:
                subprocess.Popen(
                    [sys.executable, "-m", "asyncclient.delivery", self.spool_dir],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd="/",
                    start_new_session=True, close_fds=True,  # no terminal, no signals of ours, no pipes held
                )
        except OSError:
            return False
        return True

    def wake(self, ring_path: str) -> None:
        """One datagram naming our ring; never blocks, and a missing agent is noticed by flush(), not here."""
        if self._sock is None or self._sock_pid != os.getpid():
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.setblocking(False)
            self._sock_pid = os.getpid()
        with contextlib.suppress(OSError):
            self._sock.sendto(os.fsencode(ring_path), self._socket_path)

    def agent_pid(self) -> int | None:
        try:
            with open(self._lock_path) as f:
                return int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            return None
