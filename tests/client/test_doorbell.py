"""The doorbell: the ring's reader wakes a writer waiting in flush() at once, and only while it waits."""

from __future__ import annotations

import os
import threading
import time

from asyncclient.buffer import RingBuffer
from asyncclient.delivery.doorbell import Doorbell


def _ring(tmp_path):
    return RingBuffer.create(str(tmp_path), {"tracking_uri": "x", "family": "f", "ancestors": []}, 1 << 20, 1 << 16)


def test_a_commit_wakes_the_waiting_writer_long_before_its_poll(tmp_path):
    writer = _ring(tmp_path)
    reader = RingBuffer.open_existing(writer.path)  # the agent's view of the same file
    bell = Doorbell(writer)
    writer.append_metric("run", "loss", 1.0, 0, 0)

    def deliver():
        time.sleep(0.2)
        records, new_read, consumed = reader.read(1 << 20)
        reader.commit(new_read, consumed)
        reader.ring_bell()

    with bell.waiting():
        assert bell.bound and os.path.exists(writer.path + ".bell")
        threading.Thread(target=deliver).start()
        t = time.monotonic()
        bell.sleep(30.0)  # the poll a writer without a bell would have to wait out
        woke_after = time.monotonic() - t
    assert woke_after < 10.0, woke_after
    assert writer.delivered_total() == writer.written_total
    bell.close()
    assert not os.path.exists(writer.path + ".bell")


def test_the_reader_rings_only_while_the_writer_waits(tmp_path):
    writer = _ring(tmp_path)
    reader = RingBuffer.open_existing(writer.path)
    bell = Doorbell(writer)
    with bell.waiting():
        pass  # bound, then no longer waiting
    reader.ring_bell()
    t = time.monotonic()
    bell.sleep(0.3)
    assert time.monotonic() - t >= 0.29  # nothing was sent: the full sleep
    bell.close()


def test_no_bell_when_its_path_is_too_long_for_a_socket(tmp_path):
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    writer = _ring(deep)
    bell = Doorbell(writer)
    with bell.waiting():
        assert not bell.bound  # falls back to polling; flush still works
    t = time.monotonic()
    bell.sleep(0.05)
    assert time.monotonic() - t >= 0.049
