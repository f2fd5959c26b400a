"""Histories read from a server's bulk endpoint arrive whole, even past its 25,000-point limit."""

from __future__ import annotations

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from asyncclient.migrate.source_tracking import TrackingSource
from tests.migrate.procs import asyncclient_server


def test_histories_longer_than_the_bulk_endpoint_limit_arrive_whole(tmp_path):
    lengths = {"long": 30_000, "mid-a": 12_000, "mid-b": 12_000, "short": 5}  # 54,005 points in all
    with asyncclient_server(str(tmp_path)) as url:
        client = MlflowClient(url)
        experiment_id = client.create_experiment("reads")
        run_ids = {}
        for name, n in lengths.items():
            run_id = client.create_run(experiment_id, run_name=name).info.run_id
            points = [Metric("m", s * 0.5, 1_000 + s, s) for s in range(n)]
            for start in range(0, n, 1000):
                client.log_batch(run_id, metrics=points[start:start + 1000])
            run_ids[name] = run_id
        source = TrackingSource(url)
        try:
            runs = list(source.runs(experiment_id))
            histories = source.metric_histories(runs)
        finally:
            source.close()
    for name, n in lengths.items():
        assert sorted(histories[run_ids[name]]["m"], key=lambda p: p[2]) == \
            [(s * 0.5, 1_000 + s, s) for s in range(n)], name
