"""A bounded, crash-surviving ring of log records in a memory-mapped file (see docs/design/ring-buffer.md).

Each process writes its own ring file in the spool folder (``/dev/shm`` when it exists): the bytes live in
shared memory, not in the process, so a process killed by ``Pool.terminate()``, ended through ``os._exit``
or SIGKILLed leaves its undelivered records behind. One writer (the owning process, whose threads take
``lock``) and one reader (the delivery agent, another process; or the in-process worker) share the file:

- the writer moves only the write offset, the reader only the read offset and the committed counter;
  each 8-byte header field has a single writer, so no cross-process lock is needed;
- the owner holds an exclusive ``flock`` on the file for its whole life; the kernel drops it when the
  process dies, which is how the reader tells a live ring from an orphan without trusting pids.

Layout::

    [0, 4096)            header: magic, offsets and counters, then JSON metadata (tracking URI, pid, ...)
    [4096, data_start)   stream dictionary: (stream id -> run id, metric key) entries, append-only
    [data_start, size)   the ring: fixed 29-byte metric records and length-prefixed msgpack records

A metric point is ``struct.pack_into``-ed straight into the map with no intermediate object, which is what
keeps ``log_metric`` near a plain function call. Offsets in the header are written after the bytes they
cover, so a process that dies mid-write leaves a ring that ends at its last whole record.

Progress and refusals travel back to the writer through the same file: the reader publishes a logical
"bytes delivered" counter that ``flush()`` compares with the writer's "bytes written", and appends what a
destination refused to a sidecar file (``<ring>.errors``, JSON lines) whose line count it publishes too.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import mmap
import os
import socket
import struct
import sys
import threading

import msgpack
import orjson

MAGIC = b"ACRING02"
HEADER_SIZE = 4096
# Header fields (little-endian u64). Writer-owned: write offset, dictionary bytes used, dictionary size.
# Reader-owned: read offset, bytes delivered (logical, never reset), failure lines appended.
# They are read and written as whole aligned 8-byte words through a memoryview cast to "Q" (indices below):
# one load or store each, which the other process never sees half done. struct.pack_into would not do:
# it zero-fills the field before writing its bytes, and a reader in between saw a write offset of 0.
_W_WRITE, _W_READ, _W_DICT, _W_DICT_SIZE = 2, 3, 4, 5
_W_COMMITTED, _W_FAILURES = 6, 7
_W_IN_PROCESS = 8  # writer-owned: 1 when the writer's own worker drains the ring (no agent)
_W_WAITING = 9  # writer-owned: 1 while the writer waits in flush() and wants the doorbell rung
BELL_SUFFIX = ".bell"  # the writer's datagram socket: the reader rings it after progress
_META_AT = 256

KIND_METRIC = 1  # struct: kind u8, stream u32, value f64, timestamp i64, step i64
KIND_PACKED = 2  # kind u8, length u32, msgpack payload (params, tags, deletes, inputs, inline metrics)
KIND_WRAP = 0xFF  # the rest of the ring is unused: continue at data_start

_METRIC = struct.Struct("<BIdqq")
_PACKED_HEAD = struct.Struct("<BI")
_U32 = struct.Struct("<I")
METRIC_RECORD_SIZE = _METRIC.size  # 29 bytes
_METRIC_KIND_BYTE = bytes([1])
_pack_metric = _METRIC.pack_into

# Payload tags of KIND_PACKED records (the first element of the msgpack tuple).
OP_METRIC, OP_PARAM, OP_TAG, OP_DELETE_TAG, OP_INPUTS = 0, 1, 2, 3, 4
OP_END_RUN = 5  # (OP_END_RUN, run_id, status, end_time): delivered after everything logged to the run before it
OP_METRIC_BLOCK = 100  # read() only: a run of metric records as columns

_BLOCK_RECORDS = 512
WAKE_EVERY_BYTES = 20_000 * METRIC_RECORD_SIZE  # a full embedded batch: fewer, larger drains (the timer does the rest)


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


class SpoolFull(OSError):
    """The spool folder has no room for a ring file of the configured size."""


class CorruptRing(RuntimeError):
    """A record with an unknown kind: the file was damaged (not by our writer, which publishes whole records)."""


class RingBuffer:
    """One process's ring: written by its owner's threads, drained by the agent or the in-process worker."""

    def __init__(self, path: str, fd: int, mm: mmap.mmap, size: int, dict_size: int, created: bool):
        self.path = path
        self._fd = fd
        self._mm = mm
        self._hdr = memoryview(mm)[:HEADER_SIZE].cast("Q")  # the header as words (see _W_*)
        self.size = size
        self.data_start = HEADER_SIZE + dict_size
        self._dict_end = self.data_start
        # Re-entrant, so a signal handler that logs while the main thread holds it does not deadlock; the
        # `_busy` flag then diverts its record to `_deferred`, written right after the interrupted one.
        self.lock = threading.RLock()
        self._busy = False  # a write is under way (put_* are called with it set, by the append_* methods)
        self._deferred: list[bytes] = []
        # Streams name a (run id, metric key) pair with a small int so a metric record stays 29 bytes.
        self._streams: dict[str, dict[str, int]] = {}
        self._stream_names: list[tuple[str, str]] = []
        self._dict_loaded = HEADER_SIZE
        if created:
            self._w = self._r = self.data_start
            self._dict_used = HEADER_SIZE
            hdr = self._hdr
            hdr[_W_WRITE] = self._w
            hdr[_W_READ] = self._r
            hdr[_W_DICT] = self._dict_used
            hdr[_W_DICT_SIZE] = dict_size
        else:
            self._w = self._hdr[_W_WRITE]
            self._r = self._hdr[_W_READ]
            self._dict_used = self._hdr[_W_DICT]
            self._load_dictionary()
            if not (self.data_start <= self._r <= size and self.data_start <= self._w <= size):
                raise CorruptRing(f"corrupt ring {path}: offsets out of range (read {self._r}, write {self._w}, "
                                  f"data {self.data_start}..{size})")
        # Logical byte counters (never reset; wrap gaps included on both sides) let flush() wait for
        # "everything written before now". The reader's counter lives in the header so it survives a
        # reader that dies and is replaced.
        self.written_total = 0
        self.committed_total = self._hdr[_W_COMMITTED]
        self.wake_at = WAKE_EVERY_BYTES
        self._owner_lock_fd: int | None = None
        self._bell_sender: socket.socket | None = None  # the reader's, see ring_bell()
        self._bell_pid = -1

    # ---- opening ----
    @classmethod
    def create(cls, spool_dir: str, meta: dict, size: int, dict_size: int, in_process: bool = False) -> RingBuffer:
        """A new ring owned by this process; every page is allocated now (SpoolFull when there is no room).

        ``in_process``: drained by the owner's own worker, never by the agent. Set before the file gets its
        scanned name, so an agent can never start reading a ring that already has a reader.
        """
        os.makedirs(spool_dir, mode=0o700, exist_ok=True)
        base = f"{os.getpid()}-{os.urandom(4).hex()}"
        tmp = os.path.join(spool_dir, base + ".tmp")
        final = os.path.join(spool_dir, base + ".ring")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            # Lock before the file gets its scanned name, so no one can mistake it for an orphan.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Allocated, not sparse: a sparse file on a full tmpfs (Docker's 64 MiB /dev/shm) turns the first
            # write to an unbacked page into SIGBUS. Failing here is a clear error instead of a dead process.
            try:
                os.posix_fallocate(fd, 0, size)
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                    raise SpoolFull(e.errno, f"no room for a {size >> 20} MiB log buffer in {spool_dir}") from e
                raise
            mm = mmap.mmap(fd, size)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        mm[0:8] = MAGIC
        blob = orjson.dumps(meta)
        if _META_AT + 4 + len(blob) > HEADER_SIZE:
            raise ValueError("ring metadata too large")
        _U32.pack_into(mm, _META_AT, len(blob))
        mm[_META_AT + 4:_META_AT + 4 + len(blob)] = blob
        ring = cls(final, fd, mm, size, dict_size, created=True)
        ring.set_drained_in_process(in_process)
        os.rename(tmp, final)
        return ring

    @classmethod
    def open_existing(cls, path: str) -> RingBuffer:
        """Map a ring another process writes (or wrote), to drain it. Raises OSError / CorruptRing."""
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            size = os.fstat(fd).st_size
            if size < HEADER_SIZE:
                raise CorruptRing(f"truncated ring {path}")
            mm = mmap.mmap(fd, size)
            if mm[0:8] != MAGIC:
                mm.close()
                raise CorruptRing(f"not a ring file: {path}")
            dict_size = int.from_bytes(mm[8 * _W_DICT_SIZE:8 * _W_DICT_SIZE + 8], sys.byteorder)
            if HEADER_SIZE + dict_size >= size:
                mm.close()
                raise CorruptRing(f"corrupt ring {path}: dictionary larger than the file")
            return cls(path, fd, mm, size, dict_size, created=False)
        except BaseException:
            os.close(fd)
            raise

    @classmethod
    def adopt(cls, path: str) -> RingBuffer | None:
        """Open an orphan ring whose owner died, holding its lock; None if the owner is alive or it is taken."""
        try:
            ring = cls.open_existing(path)
        except (OSError, CorruptRing, ValueError):
            return None
        if not ring.try_lock_orphan():
            ring._release()
            return None
        return ring

    def try_lock_orphan(self) -> bool:
        """True when the owner is dead (its flock is free); the lock is then ours until close()."""
        if self._owner_lock_fd is not None:
            return True
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._owner_lock_fd = self._fd
        return True

    def meta(self) -> dict:
        n = _U32.unpack_from(self._mm, _META_AT)[0]
        return orjson.loads(self._mm[_META_AT + 4:_META_AT + 4 + n])

    # ---- writing (the owner's threads) ----
    def append_metric(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> bool:
        """The hot path: one point into the map. True when a batch's worth was written since the last wake.

        Raises RingFull when there is no room (the caller applies backpressure and retries).
        """
        with self.lock:
            if self._busy:  # re-entered from a signal handler in the middle of a write: set it aside
                self._deferred.append(msgpack.packb((OP_METRIC, run_id, key, value, timestamp, step)))
                return False
            # Busy before any state is read: a handler that runs from here on defers instead of writing
            # at an offset we are about to use.
            self._busy = True
            try:
                keys = self._streams.get(run_id)
                sid = keys.get(key) if keys is not None else None
                if sid is None:
                    sid = self.stream_id(run_id, key)
                w = self._w
                if sid >= 0 and w >= self._r and w + 29 <= self.size:  # 29: METRIC_RECORD_SIZE, inlined
                    mm = self._mm
                    _pack_metric(mm, w, 1, sid, value, timestamp, step)  # 1: KIND_METRIC
                    self._w = w = w + 29
                    self._hdr[2] = w  # _W_WRITE: publish only after the record is whole
                    total = self.written_total = self.written_total + 29
                elif sid >= 0:
                    self.put_metric(sid, value, timestamp, step)
                    total = self.written_total
                else:  # the stream dictionary is full: carry run and key in the record itself
                    self.put_packed(msgpack.packb((OP_METRIC, run_id, key, value, timestamp, step)))
                    total = self.written_total
                if total < self.wake_at:
                    return False
                self.wake_at = self.written_total + WAKE_EVERY_BYTES
                if self._deferred:
                    self.write_deferred()
                return True
            finally:
                self._busy = False

    def append_packed(self, payload: bytes) -> None:
        """A param, tag, delete, inputs or end-of-run record. RingFull as append_metric."""
        with self.lock:
            if self._busy:
                self._deferred.append(payload)
                return
            self._busy = True
            try:
                self.put_packed(payload)
                if self._deferred:
                    self.write_deferred()
            finally:
                self._busy = False

    def flush_deferred(self) -> None:
        """Write what signal handlers set aside (before flush() takes its target); RingFull leaves it set aside."""
        with self.lock:
            if self._busy or not self._deferred:
                return
            self._busy = True
            try:
                self.write_deferred()
            except RingFull:
                pass
            finally:
                self._busy = False

    def write_deferred(self) -> None:
        """Write records set aside by signal handlers (lock held, busy set by the caller)."""
        while self._deferred:
            self.put_packed(self._deferred[0])
            del self._deferred[0]

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
        keys[key] = sid
        self._stream_names.append((run_id, key))
        self._dict_loaded = self._dict_used
        # Published before any record that uses the id, so a reader that sees the record sees the name.
        self._hdr[_W_DICT] = self._dict_used
        return sid

    def _reserve(self, n: int) -> int:
        """Where an n-byte record goes, writing a wrap marker if it must restart at data_start."""
        w = self._w
        r = self._r = self._hdr[_W_READ]  # the reader may be another process
        if w >= r:
            if w + n <= self.size:
                return w
            if self.data_start + n < r:
                if w < self.size:
                    self._mm[w] = KIND_WRAP
                # The skipped tail counts as written, as the reader counts it as consumed: flush() compares
                # the two, so both must include it.
                self.written_total += self.size - w
                return self.data_start
            raise RingFull
        if w + n < r:
            return w
        raise RingFull

    def put_metric(self, sid: int, value: float, timestamp: int, step: int) -> None:
        w = self._reserve(METRIC_RECORD_SIZE)
        _METRIC.pack_into(self._mm, w, KIND_METRIC, sid, value, timestamp, step)
        self._w = w = w + METRIC_RECORD_SIZE
        self._hdr[_W_WRITE] = w  # publish only after the record is whole
        self.written_total += METRIC_RECORD_SIZE

    def put_packed(self, payload: bytes) -> None:
        n = _PACKED_HEAD.size + len(payload)
        if n > (self.size - self.data_start) // 4:
            raise ValueError(f"record of {n} bytes is larger than a quarter of the ring")
        w = self._reserve(n)
        _PACKED_HEAD.pack_into(self._mm, w, KIND_PACKED, len(payload))
        self._mm[w + _PACKED_HEAD.size:w + n] = payload
        self._w = w = w + n
        self._hdr[_W_WRITE] = w
        self.written_total += n

    def set_drained_in_process(self, flag: bool) -> None:
        self._hdr[_W_IN_PROCESS] = 1 if flag else 0

    def drained_in_process(self) -> bool:
        return self._hdr[_W_IN_PROCESS] == 1

    def set_waiting(self, flag: bool) -> None:
        """Writer: ask the reader to ring ``<ring>.bell`` after each commit or reported failure, so a
        waiting flush() wakes at once instead of at its next poll."""
        self._hdr[_W_WAITING] = 1 if flag else 0

    def ring_bell(self) -> None:
        """Reader: one datagram to the writer's doorbell if it is waiting; never blocks, never raises (a
        writer that is gone or never bound one is woken by its poll instead)."""
        if self._hdr[_W_WAITING] != 1:
            return
        sock = self._bell_sender
        if sock is None or self._bell_pid != os.getpid():
            sock = self._bell_sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.setblocking(False)
            self._bell_pid = os.getpid()
        try:
            sock.sendto(b"!", self.path + BELL_SUFFIX)
        except OSError:
            pass

    # ---- progress, as the writer sees it ----
    def delivered_total(self) -> int:
        """Bytes the reader has delivered (committed), read from the shared header."""
        return self._hdr[_W_COMMITTED]

    def is_drained(self) -> bool:
        """Seen from any process: the reader has caught up with the writer (both offsets from the header)."""
        return self._hdr[_W_WRITE] == self._hdr[_W_READ]

    def failure_count(self) -> int:
        return self._hdr[_W_FAILURES]

    def read_failures(self, start: int) -> list[dict]:
        """Failure reports from line `start` on (the reader appends them; see report_failure)."""
        try:
            with open(self.path + ".errors", "rb") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines[start:]:
            try:
                out.append(orjson.loads(line))
            except ValueError:
                out.append({"run_id": None, "keys": [], "count": 0, "message": "unreadable failure report"})
        return out

    # ---- draining (one reader at a time: the agent, the in-process worker, or `sync`) ----
    def is_empty(self) -> bool:
        return self._hdr[_W_WRITE] == self._r

    def read(self, max_records: int) -> tuple[list[tuple], int, int]:
        """Decode up to max_records from the read offset: (items, new read offset, bytes consumed).

        A run of consecutive metric records becomes ONE item of columns,
        ``(OP_METRIC_BLOCK, stream_names, sids, values, timestamps, steps)``, decoded in C with no object
        per point (per-point tuples cost more in garbage-collector passes than in decoding). Other records
        are tuples: (OP_METRIC, run_id, key, value, timestamp, step) for a metric that carries its names,
        (OP_PARAM, run_id, key, value), (OP_TAG, run_id, key, value), (OP_DELETE_TAG, run_id, key),
        (OP_INPUTS, run_id, payload), (OP_END_RUN, run_id, status, end_time). Nothing moves until commit(),
        so a crash before delivery leaves the records in place. Raises CorruptRing on a damaged record.
        """
        mm = self._mm
        w = self._hdr[_W_WRITE]
        if not (self.data_start <= w <= self.size):
            header = list(self._hdr[2:9])
            try:
                inode = os.stat(self.path).st_ino
            except OSError:
                inode = None
            raise CorruptRing(f"corrupt ring {self.path}: write offset {w} out of range (header {header}, "
                              f"mapped inode {os.fstat(self._fd).st_ino}, path inode {inode})")
        # The writer publishes a name before the first record that uses it: load names up to now.
        if self._hdr[_W_DICT] != self._dict_loaded:
            with self.lock:  # the in-process worker shares this object with the writer's threads
                self._load_dictionary()
        names = self._stream_names
        r = self._r
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
                if limit == 0:
                    raise CorruptRing(f"corrupt ring {self.path}: partial record at offset {r}")
                kinds = mm[r:r + limit * rec:rec]
                n = limit - len(kinds.lstrip(_METRIC_KIND_BYTE))
                block = _decode_metric_run(mm, r, n)
                if max(block[0]) >= len(names):
                    raise CorruptRing(f"corrupt ring {self.path}: unknown stream at offset {r}")
                out.append((OP_METRIC_BLOCK, names, *block))
                r += n * rec
                consumed += n * rec
                count += n
            elif kind == KIND_PACKED:
                n = _PACKED_HEAD.unpack_from(mm, r)[1]
                if r + 5 + n > size:
                    raise CorruptRing(f"corrupt ring {self.path}: record past the end at offset {r}")
                try:
                    out.append(msgpack.unpackb(mm[r + 5:r + 5 + n], use_list=False))
                except ValueError as e:
                    raise CorruptRing(f"corrupt ring {self.path}: bad record at offset {r}: {e}") from e
                r += 5 + n
                consumed += 5 + n
                count += 1
            else:
                raise CorruptRing(f"corrupt ring {self.path} at offset {r}: kind {kind}")
        return out, r, consumed

    def commit(self, new_read: int, consumed: int) -> None:
        """Mark records up to new_read delivered. Only the read offset and the counter move: the write
        offset is the writer's alone (resetting both at once could not be done atomically across processes)."""
        self._r = new_read
        self.committed_total += consumed
        self._hdr[_W_READ] = new_read
        self._hdr[_W_COMMITTED] = self.committed_total

    def report_failure(self, failure: dict) -> None:
        """Append a refusal for the writer's next flush() to raise (JSON line, then the published count)."""
        with open(self.path + ".errors", "ab") as f:
            f.write(orjson.dumps(failure) + b"\n")
        self._hdr[_W_FAILURES] = self.failure_count() + 1

    def _load_dictionary(self) -> None:
        used = self._hdr[_W_DICT]
        if used > self._dict_end:
            raise CorruptRing(f"corrupt ring {self.path}: dictionary overflows")
        at = self._dict_loaded
        names, streams = self._stream_names, self._streams
        while at < used:
            n = _U32.unpack_from(self._mm, at)[0]
            sid, run_id, key = msgpack.unpackb(self._mm[at + 4:at + 4 + n])
            if sid != len(names):
                raise CorruptRing(f"corrupt ring {self.path}: stream dictionary out of order")
            names.append((run_id, key))
            streams.setdefault(run_id, {})[key] = sid
            at += 4 + n
        self._dict_loaded = self._dict_used = at

    # ---- ending ----
    def close(self, unlink: bool) -> None:
        """Unmap and release the lock; unlink only when everything was delivered."""
        if unlink:
            for path in (self.path, self.path + ".errors", self.path + BELL_SUFFIX):
                try:
                    os.unlink(path)
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
        if self._bell_sender is not None:
            self._bell_sender.close()
            self._bell_sender = None
        try:
            self._hdr.release()  # an exported view would keep the map from closing
            self._mm.close()
        except (BufferError, ValueError):
            pass
        try:
            os.close(self._fd)
        except OSError:
            pass
