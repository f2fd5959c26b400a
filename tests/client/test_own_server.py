"""asyncclient's client against asyncclient's server: msgpack is discovered and nothing is lost."""

from __future__ import annotations

import asyncio
import threading

import pytest

import asyncclient as mlflow
from asyncclient import session
from asyncclient.transports import transport_for_uri


def test_client_discovers_the_msgpack_fast_path(own_server):
    """The transport the delivery agent builds for a ring aimed at our server speaks msgpack."""
    transport = transport_for_uri(session.get_session().tracking_uri)

    async def discover():
        await transport.start()
        await transport.close()

    asyncio.run(discover())
    assert transport.msgpack is True
    assert transport.limits.metrics > 1000


def test_threads_logging_through_msgpack_arrive_exactly_once(own_server):
    from mlflow.tracking import MlflowClient as PeerClient

    n = 5000
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.1)
        threads = [threading.Thread(target=lambda i=i: [mlflow.log_metric(f"t{i}", float(s), step=s)
                                                        for s in range(n)]) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    peer = PeerClient(own_server.url)  # MLflow's own client reads what msgpack wrote
    for i in range(4):
        steps = sorted(m.step for m in peer.get_metric_history(run.info.run_id, f"t{i}"))
        assert steps == list(range(n))
    stored = peer.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED" and stored.data.params == {"lr": "0.1"}


def test_refusal_from_own_server_surfaces_at_flush(own_server):
    client = mlflow.MlflowClient()
    run = client.create_run("0")
    client.delete_run(run.info.run_id)
    client.log_metric(run.info.run_id, "late", 1.0)
    with pytest.raises(mlflow.DeliveryError, match="late"):
        client.flush()
