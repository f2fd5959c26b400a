"""A source read through a tracking API: an MLflow server over REST (any version with the 2.0 API), an
asyncclient server, or asyncclient's embedded store (the source of ``asyncclient export``).

Metric histories from a server are read through ``/ajax-api/2.0/mlflow/metrics/get-history-bulk`` (the
endpoint MLflow's UI reads charts from) when the server has it: `mlflow server` answers it about six times
faster than ``metrics/get-history`` (plain JSON instead of protobuf messages), and one request carries a
metric for several runs. It returns at most 25,000 points per run and metric, so a longer history is read
again through ``get-history``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from asyncclient.artifacts import http
from asyncclient.artifacts.client_repos import client_repository
from asyncclient.entities import Experiment, Run, ViewType
from asyncclient.exceptions import MlflowException
from asyncclient.migrate.sources import History
from asyncclient.migrate.sync_transport import SyncTransport

PAGE = 1000
BULK_PATH = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"
BULK_LIMIT = 25_000  # MLflow's MAX_HISTORY_RESULTS for that endpoint
PARALLEL_READS = 2


class TrackingSource:
    def __init__(self, uri: str):
        self.uri = uri
        self._api = SyncTransport(uri)
        self._bulk = not self._api.embedded  # until the server says it has no such endpoint
        self._readers = ThreadPoolExecutor(PARALLEL_READS) if self._bulk else None
        self._longest = 0  # the most points one run had for one metric so far: sizes the bulk requests

    def experiments(self) -> list[Experiment]:
        found, token = [], None
        while True:
            page = self._api.call("search_experiments", view_type=ViewType.ALL, max_results=PAGE, page_token=token)
            found.extend(page)
            token = page.token
            if not token:
                return found

    def runs(self, experiment_id: str) -> Iterator[Run]:
        token = None
        while True:
            page = self._api.call("search_runs", [experiment_id], "", ViewType.ALL, PAGE, None, token)
            yield from page
            token = page.token
            if not token:
                return

    def metric_history(self, run: Run) -> History:
        return self.metric_histories([run])[run.info.run_id]

    def metric_histories(self, runs: list[Run]) -> dict[str, History]:
        """The histories of several runs: one bulk request per metric key for all of them, when the
        server has the endpoint (a loaded `mlflow server` spends more per request than per point)."""
        if self._bulk:
            keys = sorted(set().union(*(r.data.metrics for r in runs)))
            try:
                by_key = dict(zip(keys, self._readers.map(lambda k: self._bulk_history(runs, k), keys), strict=True))
            except MlflowException as e:
                if e.error_code not in ("ENDPOINT_NOT_FOUND", "RESOURCE_DOES_NOT_EXIST"):
                    raise
                self._bulk = False  # a server without MLflow's UI endpoints (or an older MLflow)
            else:
                found = {}
                for run in runs:
                    rid = run.info.run_id
                    found[rid] = {k: by_key[k][rid] if by_key[k].get(rid) is not None else self._full_history(rid, k)
                                  for k in run.data.metrics}
                return found
        return {r.info.run_id: {k: self._full_history(r.info.run_id, k) for k in r.data.metrics} for r in runs}

    def _bulk_history(self, runs: list[Run], key: str) -> dict[str, list | None]:
        """run id -> its history of ``key`` from the UI's bulk endpoint, None for a run whose history may
        be longer than the endpoint gives. The endpoint stops at 25,000 points per request, all runs
        together, so runs are asked for in groups small enough for that, a group split when cut."""
        run_ids = [r.info.run_id for r in runs if key in r.data.metrics]
        per_request = max(1, (BULK_LIMIT - 1) // self._longest) if self._longest else len(run_ids)
        found: dict[str, list | None] = {}
        for start in range(0, len(run_ids), per_request):
            found.update(self._bulk_group(run_ids[start:start + per_request], key))
        return found

    def _bulk_group(self, run_ids: list[str], key: str) -> dict[str, list | None]:
        response = http.request("GET", self.uri.rstrip("/") + BULK_PATH,
                                params={"run_id": run_ids, "metric_key": key, "max_results": BULK_LIMIT})
        # Python's json, not orjson: MLflow writes NaN and Infinity as bare words there.
        metrics = json.loads(response.content).get("metrics", [])
        if len(metrics) >= BULK_LIMIT:  # cut short: ask again in halves (one run: read its full history)
            if len(run_ids) == 1:
                return {run_ids[0]: None}
            half = len(run_ids) // 2
            return {**self._bulk_group(run_ids[:half], key), **self._bulk_group(run_ids[half:], key)}
        found: dict[str, list | None] = {rid: [] for rid in run_ids}
        for m in metrics:
            found[m["run_id"]].append((float(m["value"]), int(m["timestamp"]), int(m.get("step", 0))))
        self._longest = max(self._longest, *(len(points) for points in found.values()))
        return found

    def _full_history(self, run_id: str, key: str) -> list[tuple[float, int, int]]:
        points, token = [], None
        while True:  # without max_results MLflow sends the whole history at once; page if told to
            page = self._api.call("get_metric_history", run_id, key, None, token)
            points.extend((m.value, m.timestamp, m.step) for m in page)
            token = page.token
            if not token:
                return points

    def artifact_repository(self, run: Run):
        uri = run.info.artifact_uri
        return client_repository(uri, self.uri) if uri else None

    def close(self) -> None:
        if self._readers is not None:
            self._readers.shutdown()
        self._api.close()
