"""The per-process ring buffer and the spool folder where rings outlive their processes."""

from asyncclient.buffer.ring import RingBuffer, RingFull
from asyncclient.buffer.spool import find_orphans, spool_dir

__all__ = ["RingBuffer", "RingFull", "find_orphans", "spool_dir"]
