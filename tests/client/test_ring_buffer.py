"""The ring: records survive in order, wrap around, push back when full, and outlive their writer."""

from __future__ import annotations

import os

import msgpack
import pytest

from asyncclient.buffer import RingBuffer, RingFull, find_orphans
from asyncclient.buffer.ring import HEADER_SIZE as HEADER
from asyncclient.buffer.ring import OP_DELETE_TAG, OP_METRIC_BLOCK, OP_PARAM, OP_TAG
from asyncclient.delivery.plan import Batch, plan_requests
from asyncclient.transports.base import BatchLimits

RUN = "a" * 32


def points(items: list[tuple]) -> list[tuple]:
    """(run, key, value, timestamp, step) for every metric in read() output, in order."""
    out = []
    for item in items:
        if item[0] == OP_METRIC_BLOCK:
            _, names, sids, values, timestamps, steps = item
            out += [(*names[s], v, t, st) for s, v, t, st in zip(sids, values, timestamps, steps, strict=True)]
    return out


def new_ring(tmp_path, size=1 << 20, dict_size=64 << 10) -> RingBuffer:
    return RingBuffer.create(str(tmp_path), {"tracking_uri": "x", "family": "f", "ancestors": []}, size, dict_size)


def test_metric_points_come_back_as_columns_in_logging_order(tmp_path):
    ring = new_ring(tmp_path)
    for i in range(1000):
        ring.put_metric(ring.stream_id(RUN, "loss" if i % 2 else "acc"), float(i), 1000 + i, i)
    items, new_read, consumed = ring.read(10_000)
    assert len(items) == 1 and items[0][0] == OP_METRIC_BLOCK
    assert points(items) == [(RUN, "loss" if i % 2 else "acc", float(i), 1000 + i, i) for i in range(1000)]
    ring.commit(new_read, consumed)
    assert ring.is_empty()


def test_other_records_split_metric_runs_and_keep_their_place(tmp_path):
    ring = new_ring(tmp_path)
    ring.put_metric(ring.stream_id(RUN, "m"), 1.0, 1, 0)
    ring.put_packed(msgpack.packb((OP_PARAM, RUN, "lr", "0.1")))
    ring.put_metric(ring.stream_id(RUN, "m"), 2.0, 2, 1)
    items, _, _ = ring.read(100)
    assert [i[0] for i in items] == [OP_METRIC_BLOCK, OP_PARAM, OP_METRIC_BLOCK]


def test_ring_wraps_around_without_losing_or_reordering(tmp_path):
    ring = new_ring(tmp_path, size=HEADER + 4096 + 29 * 10_000, dict_size=4096)
    sid = ring.stream_id(RUN, "k")
    seen, step = [], 0
    for _ in range(50):  # ~5x the ring's capacity in total
        for _ in range(1000):
            ring.put_metric(sid, float(step), step, step)
            step += 1
        items, new_read, consumed = ring.read(100_000)
        seen += [p[4] for p in points(items)]
        ring.commit(new_read, consumed)
    assert seen == list(range(step))


def test_full_ring_refuses_until_the_drainer_commits(tmp_path):
    ring = new_ring(tmp_path, size=HEADER + 4096 + 29 * 100 + 64, dict_size=4096)
    sid = ring.stream_id(RUN, "k")
    with pytest.raises(RingFull):
        for i in range(1000):
            ring.put_metric(sid, 0.0, i, i)
    items, new_read, consumed = ring.read(1000)
    ring.commit(new_read, consumed)
    ring.put_metric(sid, 1.0, 1, 1)  # room again


def test_records_of_a_dead_writer_are_adopted_with_their_names(tmp_path):
    pid = os.fork()
    if pid == 0:  # the writer: log, then die without delivering or cleaning up
        ring = new_ring(tmp_path)
        for i in range(300):
            ring.put_metric(ring.stream_id(RUN, f"k{i % 3}"), float(i), i, i)
        ring.put_packed(msgpack.packb((OP_TAG, RUN, "t", "v")))
        os._exit(0)
    os.waitpid(pid, 0)
    (adopted,) = find_orphans(str(tmp_path), "f", os.getpid(), set())
    items, _, _ = adopted.read(10_000)
    assert points(items) == [(RUN, f"k{i % 3}", float(i), i, i) for i in range(300)]
    assert items[-1] == (OP_TAG, RUN, "t", "v")


def test_a_live_writers_ring_is_not_adopted(tmp_path):
    ring = new_ring(tmp_path)
    ring.put_metric(ring.stream_id(RUN, "k"), 1.0, 1, 1)
    assert find_orphans(str(tmp_path), None, os.getpid(), set()) == []


def test_planner_keeps_mlflow_limits_and_orders_barriers():
    names = [(RUN, "loss")]
    block = (OP_METRIC_BLOCK, names, [0] * 2500, [0.5] * 2500, list(range(2500)), list(range(2500)))
    plans = plan_requests([block, (OP_TAG, RUN, "t", "1"), (OP_DELETE_TAG, RUN, "t"), (OP_TAG, RUN, "t", "2")],
                          BatchLimits())
    kinds = [type(x).__name__ if isinstance(x, Batch) else x[0] for x in plans[RUN]]
    assert kinds == ["Batch", "Batch", "Batch", OP_DELETE_TAG, "Batch"]
    batches = [x for x in plans[RUN] if isinstance(x, Batch)]
    assert [len(b.metrics) for b in batches] == [1000, 1000, 500, 0]
    assert batches[2].tags == {"t": "1"} and batches[3].tags == {"t": "2"}
    assert [s for b in batches for _, _, _, s in b.metrics] == list(range(2500))

