"""The Deliverer's policies, on a real ring and the in-memory destination: retry, split, refusal,
containment, order. (Every integration test runs them against real servers and stores.)"""

from __future__ import annotations

import asyncio
import inspect

import msgpack
import pytest

from asyncclient.buffer import RingBuffer
from asyncclient.buffer.ring import HEADER_SIZE, OP_DELETE_TAG, OP_END_RUN, OP_PARAM, OP_TAG
from asyncclient.delivery import deliverer as deliverer_module
from asyncclient.delivery.deliverer import Deliverer, RingState
from asyncclient.transports import TransientError
from asyncclient.transports.base import Transport
from asyncclient.transports.embedded import EmbeddedTransport
from asyncclient.transports.memory import MemoryTransport
from asyncclient.transports.rest import RestTransport

RUN = "a" * 32


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch):
    """Backoff delays are recorded, not slept: the policy is what is under test, not the clock."""
    slept: list[float] = []

    async def fake_sleep(seconds):
        slept.append(seconds)

    monkeypatch.setattr(deliverer_module.asyncio, "sleep", fake_sleep)
    return slept


def ring_with(tmp_path, *records) -> RingBuffer:
    ring = RingBuffer.create(str(tmp_path), {"tracking_uri": "memory://"}, HEADER_SIZE + (1 << 20), 64 << 10)
    for rec in records:
        if rec[0] == "metric":
            ring.append_metric(RUN, rec[1], rec[2], 1000 + rec[3], rec[3])
        else:
            ring.append_packed(msgpack.packb(rec))
    return ring


def drain(ring: RingBuffer, transport: MemoryTransport) -> bool:
    return asyncio.run(Deliverer(4).drain(RingState(ring, transport)))


def test_transient_errors_are_retried_with_backoff_and_retry_after(tmp_path, no_backoff_sleep):
    transport = MemoryTransport()
    transport.add_run(RUN)
    transport.faults = [("log_batch", TransientError("down")), ("log_batch", TransientError("429", retry_after=7.0)),
                        ("log_batch", TransientError("down"))]
    ring = ring_with(tmp_path, *[("metric", "m", float(i), i) for i in range(10)])
    assert drain(ring, transport)
    assert [p[3] for p in transport.runs[RUN].metrics] == list(range(10))
    assert ring.is_drained() and ring.delivered_total() == ring.written_total
    # Exponential from 0.1 s with up to 0.5 s of jitter; a Retry-After is honoured as given.
    assert 0.1 <= no_backoff_sleep[0] <= 0.6 and no_backoff_sleep[1] == 7.0 and 0.4 <= no_backoff_sleep[2] <= 0.9


def test_a_refused_mixed_batch_is_split_so_one_bad_param_costs_no_metrics(tmp_path):
    transport = MemoryTransport()
    transport.add_run(RUN).params["lr"] = "0.1"
    ring = ring_with(tmp_path, ("metric", "m", 1.0, 0), (OP_PARAM, RUN, "lr", "0.2"), (OP_TAG, RUN, "t", "v"))
    assert drain(ring, transport)
    run = transport.runs[RUN]
    assert len(run.metrics) == 1 and run.tags == {"t": "v"} and run.params == {"lr": "0.1"}
    (failure,) = ring.read_failures(0)
    assert failure["run_id"] == RUN and failure["keys"] == ["lr"] and "Changing param values" in failure["message"]
    assert ring.failure_count() == 1


def test_an_unexpected_error_is_contained_reported_and_delivery_goes_on(tmp_path):
    transport = MemoryTransport()
    transport.add_run(RUN)
    transport.faults = [("log_batch", OSError(28, "database or disk is full"))] * 3
    ring = ring_with(tmp_path, ("metric", "m", 1.0, 0))
    assert drain(ring, transport)
    assert len(transport.runs[RUN].metrics) == 1
    (report,) = ring.read_failures(0)  # said once per episode, not once per attempt
    assert report["retrying"] is True and "disk is full" in report["message"]


def test_a_delete_tag_whose_answer_was_lost_is_not_a_refusal(tmp_path):
    transport = MemoryTransport()
    transport.add_run(RUN).tags["t"] = "v"
    transport.lost_answers = [("delete_tag", TransientError("reset after the server applied it"))]
    ring = ring_with(tmp_path, (OP_DELETE_TAG, RUN, "t"))
    assert drain(ring, transport)
    assert transport.runs[RUN].tags == {} and ring.failure_count() == 0


def test_deleting_a_missing_tag_without_a_retry_is_a_refusal(tmp_path):
    transport = MemoryTransport()
    transport.add_run(RUN)
    ring = ring_with(tmp_path, (OP_DELETE_TAG, RUN, "never-set"))
    assert drain(ring, transport)
    assert ring.read_failures(0)[0]["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_barriers_and_the_end_of_a_run_keep_logging_order(tmp_path):
    transport = MemoryTransport()
    transport.add_run(RUN)
    ring = ring_with(tmp_path, (OP_TAG, RUN, "t", "1"), (OP_DELETE_TAG, RUN, "t"), (OP_TAG, RUN, "t", "2"),
                     ("metric", "m", 1.0, 0), (OP_END_RUN, RUN, "FINISHED", 123))
    assert drain(ring, transport)
    run = transport.runs[RUN]
    assert run.events == ["batch:0m0p1t", "delete_tag:t", "batch:1m0p1t", "end:FINISHED"]
    assert run.tags == {"t": "2"} and run.end_time == 123


def test_a_replayed_batch_stores_each_point_once(tmp_path):
    transport = MemoryTransport()
    transport.add_run(RUN)
    transport.lost_answers = [("log_batch", TransientError("timeout after the server applied it"))]
    ring = ring_with(tmp_path, *[("metric", "m", float(i), i) for i in range(100)])
    assert drain(ring, transport)
    assert len(transport.runs[RUN].metrics) == 100


@pytest.mark.parametrize("transport_class", [RestTransport, EmbeddedTransport, MemoryTransport])
def test_every_transport_provides_the_data_path(transport_class):
    assert not inspect.isabstract(transport_class)


def test_rest_and_embedded_transports_provide_the_whole_control_plane(tmp_path):
    embedded = EmbeddedTransport(f"sqlite:///{tmp_path}/control.db")
    for name in Transport.CONTROL_PLANE:
        assert inspect.iscoroutinefunction(getattr(RestTransport, name)), name
        assert inspect.iscoroutinefunction(getattr(embedded, name)), name
