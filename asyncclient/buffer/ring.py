"""A bounded, crash-surviving ring of log records in a memory-mapped file (see docs/design/ring-buffer.md).

Each process writes its own ring file in the spool folder (``/dev/shm`` when it exists): the bytes live in
shared memory, not in the process, so a child killed by ``Pool.terminate()`` or ended through ``os._exit``
leaves its undelivered records behind for an ancestor to deliver. The owner holds an exclusive ``flock`` on
the file for its whole life; the kernel drops it when the process dies, which is how others tell a live
ring from an orphan without trusting pids.

Layout::

    [0, 4096)            header: magic, offsets, then JSON metadata (tracking URI, pid, ancestors)
    [4096, data_start)   stream dictionary: (stream id -> run id, metric key) entries, append-only
    [data_start, size)   the ring: fixed 29-byte metric records and length-prefixed msgpack records

A metric point is ``struct.pack_into``-ed straight into the map with no intermediate object, which is what
keeps ``log_metric`` near a plain function call. Offsets in the header are written after the bytes they
cover, so a process that dies mid-write leaves a ring that ends at its last whole record.
"""

from __future__ import annotations

import fcntl
import functools
import mmap
import os
import struct
import threading

import msgpack
import orjson

MAGIC = b"ACRING01"
HEADER_SIZE = 4096
# Header fields (little-endian u64): write offset, read offset, dictionary bytes used.
_OFF_WRITE, _OFF_READ, _OFF_DICT = 16, 24, 32
_META_AT = 256

KIND_METRIC = 1  # struct: kind u8, stream u32, value f64, timestamp i64, step i64
KIND_PACKED = 2  # kind u8, length u32, msgpack payload (params, tags, deletes, inputs, inline metrics)
KIND_WRAP = 0xFF  # the rest of the ring is unused: continue at data_start

_METRIC = struct.Struct("<BIdqq")
_PACKED_HEAD = struct.Struct("<BI")
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
METRIC_RECORD_SIZE = _METRIC.size  # 29 bytes
_METRIC_KIND_BYTE = bytes([1])

# Payload tags of KIND_PACKED records (the first element of the msgpack tuple).
OP_METRIC, OP_PARAM, OP_TAG, OP_DELETE_TAG, OP_INPUTS = 0, 1, 2, 3, 4
OP_METRIC_BLOCK = 100  # read() only: a run of metric records as columns

_BLOCK_RECORDS = 512


@functools.lru_cache(maxsize=_BLOCK_RECORDS + 1)
def _block_struct(n: int) -> struct.Struct:
    return struct.Struct("<" + "BIdqq" * n)


def _decode_metric_run(mm, at: int, n: int) -> tuple[list, list, list, list]:
    """(stream ids, values, timestamps, steps) of n metric records: one unpack per 512 records, sliced."""
    sids: list[int] = []
    values: list[float] = []
    timestamps: list[int] = []
    steps: list[int] = []
    while n > 0:
        k = min(n, _BLOCK_RECORDS)
        flat = _block_struct(k).unpack_from(mm, at)
        sids += flat[1::5]
        values += flat[2::5]
        timestamps += flat[3::5]
        steps += flat[4::5]
        at += k * METRIC_RECORD_SIZE
        n -= k
    return sids, values, timestamps, steps


class RingFull(Exception):
    """No room for the record; the caller waits for the drainer (backpressure)."""


class RingBuffer:
    """One process's ring. Writers are this process's threads; the drainer is its worker or an adopter."""

    def __init__(self, path: str, fd: int, mm: mmap.mmap, size: int, dict_size: int, created: bool):
        self.path = path
        self._fd = fd
        self._mm = mm
        self.size = size
        self.data_start = HEADER_SIZE + dict_size
        self._dict_end = self.data_start
        self.lock = threading.Lock()
        # Streams name a (run id, metric key) pair with a small int so a metric record stays 29 bytes.
        self._streams: dict[str, dict[str, int]] = {}
        self._stream_names: list[tuple[str, str]] = []
        if created:
            self._w = self._r = self.data_start
            self._dict_used = HEADER_SIZE
            _U64.pack_into(mm, _OFF_WRITE, self._w)
            _U64.pack_into(mm, _OFF_READ, self._r)
            _U64.pack_into(mm, _OFF_DICT, self._dict_used)
        else:
            self._w = _U64.unpack_from(mm, _OFF_WRITE)[0]
            self._r = _U64.unpack_from(mm, _OFF_READ)[0]
            self._dict_used = _U64.unpack_from(mm, _OFF_DICT)[0]
            self._load_dictionary()
        # Logical byte counters (never reset) let flush() wait for "everything written before now".
        self.written_total = 0
        self.committed_total = 0

    # ---- opening ----
    @classmethod
    def create(cls, spool_dir: str, meta: dict, size: int, dict_size: int) -> RingBuffer:
        os.makedirs(spool_dir, mode=0o700, exist_ok=True)
        base = f"{os.getpid()}-{os.urandom(4).hex()}"
        tmp = os.path.join(spool_dir, base + ".tmp")
        final = os.path.join(spool_dir, base + ".ring")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        # Lock before the file gets its scanned name, so no one can mistake it for an orphan.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.ftruncate(fd, size)  # sparse: pages are only backed once touched
        mm = mmap.mmap(fd, size)
        mm[0:8] = MAGIC
        blob = orjson.dumps(meta)
        if _META_AT + 4 + len(blob) > HEADER_SIZE:
            raise ValueError("ring metadata too large")
        _U32.pack_into(mm, _META_AT, len(blob))
        mm[_META_AT + 4:_META_AT + 4 + len(blob)] = blob
        ring = cls(final, fd, mm, size, dict_size, created=True)
        _U64.pack_into(mm, 40, dict_size)
        os.rename(tmp, final)
        return ring

    @classmethod
    def adopt(cls, path: str) -> RingBuffer | None:
        """Open an orphan ring whose owner died; None if its owner is alive or someone else adopted it."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            size = os.fstat(fd).st_size
            if size < HEADER_SIZE:
                raise ValueError("truncated ring")
            mm = mmap.mmap(fd, size)
            if mm[0:8] != MAGIC:
                raise ValueError("not a ring file")
            dict_size = _U64.unpack_from(mm, 40)[0]
            return cls(path, fd, mm, size, dict_size, created=False)
        except (ValueError, OSError):
            os.close(fd)
            return None

    def meta(self) -> dict:
        n = _U32.unpack_from(self._mm, _META_AT)[0]
        return orjson.loads(self._mm[_META_AT + 4:_META_AT + 4 + n])

    # ---- writing (called with self.lock held by the session's hot path) ----
    def stream_id(self, run_id: str, key: str) -> int:
        """The id of (run, key), registering it in the dictionary area; -1 when the area is full."""
        keys = self._streams.get(run_id)
        if keys is None:
            keys = self._streams[run_id] = {}
        sid = keys.get(key)
        if sid is not None:
            return sid
        sid = len(self._stream_names)
        entry = msgpack.packb((sid, run_id, key))
        at = self._dict_used
        if at + 4 + len(entry) > self._dict_end:
            return -1
        _U32.pack_into(self._mm, at, len(entry))
        self._mm[at + 4:at + 4 + len(entry)] = entry
        self._dict_used = at + 4 + len(entry)
        _U64.pack_into(self._mm, _OFF_DICT, self._dict_used)
        keys[key] = sid
        self._stream_names.append((run_id, key))
        return sid

    def _reserve(self, n: int) -> int:
        """Where an n-byte record goes, writing a wrap marker if it must restart at data_start."""
        w, r = self._w, self._r
        if w >= r:
            if w + n <= self.size:
                return w
            if self.data_start + n < r:
                if w < self.size:
                    self._mm[w] = KIND_WRAP
                return self.data_start
            raise RingFull
        if w + n < r:
            return w
        raise RingFull

    def put_metric(self, sid: int, value: float, timestamp: int, step: int) -> None:
        w = self._reserve(METRIC_RECORD_SIZE)
        _METRIC.pack_into(self._mm, w, KIND_METRIC, sid, value, timestamp, step)
        self._w = w = w + METRIC_RECORD_SIZE
        _U64.pack_into(self._mm, _OFF_WRITE, w)  # publish only after the record is whole
        self.written_total += METRIC_RECORD_SIZE

    def put_packed(self, payload: bytes) -> None:
        n = _PACKED_HEAD.size + len(payload)
        if n > (self.size - self.data_start) // 4:
            raise ValueError(f"record of {n} bytes is larger than a quarter of the ring")
        w = self._reserve(n)
        _PACKED_HEAD.pack_into(self._mm, w, KIND_PACKED, len(payload))
        self._mm[w + _PACKED_HEAD.size:w + n] = payload
        self._w = w = w + n
        _U64.pack_into(self._mm, _OFF_WRITE, w)
        self.written_total += n

    def is_empty(self) -> bool:
        return self._w == self._r

    # ---- draining (one drainer at a time: the owner's worker, or the adopter) ----
    def read(self, max_records: int) -> tuple[list[tuple], int, int]:
        """Decode up to max_records from the read offset: (items, new read offset, bytes consumed).

        A run of consecutive metric records becomes ONE item of columns,
        ``(OP_METRIC_BLOCK, stream_names, sids, values, timestamps, steps)``, decoded in C with no object
        per point (per-point tuples cost more in garbage-collector passes than in decoding). Other records
        are tuples: (OP_METRIC, run_id, key, value, timestamp, step) for a metric that carries its names,
        (OP_PARAM, run_id, key, value), (OP_TAG, run_id, key, value), (OP_DELETE_TAG, run_id, key),
        (OP_INPUTS, run_id, payload). Nothing moves until commit(), so a crash before delivery leaves the
        records in place.
        """
        with self.lock:
            w = self._w
        r = self._r
        mm = self._mm
        out: list[tuple] = []
        count = consumed = 0
        size, rec = self.size, METRIC_RECORD_SIZE
        while r != w and count < max_records:
            if r >= size or mm[r] == KIND_WRAP:
                consumed += size - r
                r = self.data_start
                continue
            kind = mm[r]
            if kind == KIND_METRIC:
                # Every 29th byte from r is a record's kind; the run ends at the first that is not a metric.
                end = w if w > r else size
                limit = min((end - r) // rec, max_records - count)
                kinds = mm[r:r + limit * rec:rec]
                n = limit - len(kinds.lstrip(_METRIC_KIND_BYTE))
                # Names are registered before their first record is written (same process), and an adopted
                # ring's dictionary is complete since its owner is dead: every sid here is known.
                out.append((OP_METRIC_BLOCK, self._stream_names, *_decode_metric_run(mm, r, n)))
                r += n * rec
                consumed += n * rec
                count += n
            elif kind == KIND_PACKED:
                n = _PACKED_HEAD.unpack_from(mm, r)[1]
                out.append(msgpack.unpackb(mm[r + 5:r + 5 + n], use_list=False))
                r += 5 + n
                consumed += 5 + n
                count += 1
            else:
                raise RuntimeError(f"corrupt ring {self.path} at offset {r}: kind {kind}")
        return out, r, consumed

    def commit(self, new_read: int, consumed: int) -> None:
        """Mark records up to new_read delivered; an empty ring restarts at the front to keep pages few."""
        with self.lock:
            self._r = new_read
            if self._r == self._w:
                self._r = self._w = self.data_start
                _U64.pack_into(self._mm, _OFF_WRITE, self._w)
            _U64.pack_into(self._mm, _OFF_READ, self._r)
            self.committed_total += consumed

    def _load_dictionary(self) -> None:
        at = HEADER_SIZE
        names: list[tuple[str, str]] = []
        streams: dict[str, dict[str, int]] = {}
        while at < self._dict_used:
            n = _U32.unpack_from(self._mm, at)[0]
            sid, run_id, key = msgpack.unpackb(self._mm[at + 4:at + 4 + n])
            names.append((run_id, key))
            streams.setdefault(run_id, {})[key] = sid
            at += 4 + n
        self._stream_names, self._streams = names, streams

    # ---- ending ----
    def close(self, unlink: bool) -> None:
        """Unmap and release the lock; unlink only when everything was delivered."""
        if unlink:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
        self._release()

    def abandon_after_fork(self) -> None:
        """In a forked child: drop the inherited map and descriptor without touching the parent's file.

        Closing our copy of the descriptor matters: while any process holds it, the parent's ring would
        look alive after the parent died.
        """
        self._release()

    def _release(self) -> None:
        try:
            self._mm.close()
        except (BufferError, ValueError):
            pass
        try:
            os.close(self._fd)
        except OSError:
            pass
