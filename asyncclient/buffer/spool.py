"""Where rings live and how a process finds the rings its dead descendants left behind."""

from __future__ import annotations

import glob
import os
import tempfile

from asyncclient.buffer.ring import RingBuffer


def spool_dir() -> str:
    """``ASYNCCLIENT_SPOOL_DIR``, else a per-user folder in /dev/shm (RAM-backed), else the temp dir."""
    configured = os.environ.get("ASYNCCLIENT_SPOOL_DIR")
    if configured:
        return os.path.abspath(configured)  # the agent runs elsewhere (cwd /): ring paths must be absolute
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    return os.path.join(base, f"asyncclient-{os.getuid()}")


def fallback_spool_dir() -> str:
    """On disk, for when the RAM-backed default has no room (Docker's 64 MiB /dev/shm)."""
    return os.path.join(tempfile.gettempdir(), f"asyncclient-{os.getuid()}")


def ancestors(pid: int | None = None, depth: int = 8) -> list[int]:
    """Parent pids up the tree (Linux /proc; elsewhere just the parent)."""
    pid = pid or os.getpid()
    chain: list[int] = []
    for _ in range(depth):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
            # The command name may contain spaces and parentheses: the ppid follows the last ')'.
            pid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            if not chain:
                chain.append(os.getppid())
            break
        if pid <= 1:
            break
        chain.append(pid)
    return chain


def find_orphans(directory: str, family: str | None, me: int, skip: set[str],
                 in_process_only: bool = False) -> list[RingBuffer]:
    """Adopt rings whose owner died and that belong to us: same family, or we are an ancestor.

    With ``family=None`` every orphan is adopted. ``in_process_only`` leaves rings that the delivery agent
    drains to the agent, so no ring ever has two readers.
    """
    adopted = []
    for path in glob.glob(os.path.join(directory, "*.ring")):
        if path in skip:
            continue
        ring = RingBuffer.adopt(path)
        if ring is None:
            continue
        try:
            meta = ring.meta()
        except ValueError:
            ring.close(unlink=False)
            continue
        if in_process_only and not ring.drained_in_process():
            ring.close(unlink=False)
            continue
        if family is None or meta.get("family") == family or me in meta.get("ancestors", ()):
            adopted.append(ring)
        else:
            ring.close(unlink=False)
    return adopted
