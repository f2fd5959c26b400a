"""The writer's doorbell: a datagram socket at ``<ring>.bell`` that the reader rings after each commit.

flush() used to learn of progress only by polling the ring's delivered counter, so every wait ended up to
one poll interval late: a fraction of a millisecond per ``end_run``, which over a thousand short runs made
the agent slower than the in-process thread. Now a waiting writer sets the ring's ``waiting`` word and
sleeps in ``select`` on its doorbell; the reader (``RingBuffer.ring_bell``) sends one datagram after each
commit or reported failure while that word is set. Polling stays as the safety net: a bell that cannot be
bound (a socket path over the kernel's 107-byte limit) or a lost datagram only costs the old latency.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time

from asyncclient.buffer.ring import BELL_SUFFIX, RingBuffer


class Doorbell:
    def __init__(self, ring: RingBuffer):
        self.ring = ring
        self.path = ring.path + BELL_SUFFIX
        self._sock: socket.socket | None = None
        self._unavailable = False
        self._waiters = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def waiting(self):
        """While inside, the reader rings after progress. Threads may wait at once: the word stays set
        until the last of them leaves."""
        with self._lock:
            if self._sock is None and not self._unavailable:
                self._bind()
            self._waiters += 1
            self.ring.set_waiting(True)
        try:
            yield
        finally:
            with self._lock:
                self._waiters -= 1
                if self._waiters == 0:
                    self.ring.set_waiting(False)

    @property
    def bound(self) -> bool:
        return self._sock is not None

    def sleep(self, seconds: float) -> None:
        """Up to `seconds`, less if the bell rings; every queued ring is consumed."""
        sock = self._sock
        if sock is None:
            time.sleep(seconds)
            return
        try:
            ready, _, _ = select.select([sock], [], [], seconds)
        except (OSError, ValueError):  # closed by another thread's shutdown
            time.sleep(seconds)
            return
        if ready:
            with contextlib.suppress(OSError):
                while sock.recv(64):
                    pass

    def _bind(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)  # left by a process that had our pid before
            sock.bind(self.path)
        except OSError:
            sock.close()
            self._unavailable = True
            return
        sock.setblocking(False)
        self._sock = sock

    def close(self) -> None:
        """At shutdown: the socket and its file go."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def abandon_after_fork(self) -> None:
        """In a forked child: close the inherited descriptor, leave the parent's socket file alone."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
