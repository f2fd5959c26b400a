"""Where a copy goes: asyncclient's embedded store, an asyncclient server, or an MLflow server (export).

Writes go through asyncclient's transports, so metric histories travel in the store's batch path (one
transaction per 100,000 points embedded, msgpack batches to an asyncclient server, MLflow's 1000-metric
``log-batch`` to an MLflow server). The embedded store and an asyncclient server take the source's run id;
an MLflow server chooses its own, so the source id is kept in the ``asyncclient.source_run_id`` tag and
found through it on the next run.
"""

from __future__ import annotations

from asyncclient.artifacts.client_repos import client_repository
from asyncclient.entities import Experiment, ExperimentTag, Run, RunTag, ViewType
from asyncclient.migrate.markers import SOURCE_RUN_ID_TAG
from asyncclient.migrate.sync_transport import SyncTransport

EMBEDDED_METRICS_PER_BATCH = 100_000
PAGE = 1000


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Destination:
    def __init__(self, uri: str):
        self.uri = uri
        self.api = SyncTransport(uri)
        self.keeps_run_ids = self.api.embedded or self.api.is_asyncclient_server
        limits = self.api.transport.limits
        self._metrics_per_batch = EMBEDDED_METRICS_PER_BATCH if self.api.embedded else limits.metrics
        self._values_per_batch = min(limits.params, limits.tags)

    # ---- experiments ----
    def experiment_by_name(self, name: str) -> Experiment | None:
        return self.api.call("get_experiment_by_name", name)

    def create_experiment(self, name: str, tags: dict[str, str]) -> str:
        return self.api.call("create_experiment", name, None, [ExperimentTag(k, v) for k, v in tags.items()])

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.api.call("set_experiment_tag", experiment_id, ExperimentTag(key, value))

    def delete_experiment(self, experiment_id: str) -> None:
        self.api.call("delete_experiment", experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self.api.call("restore_experiment", experiment_id)

    # ---- runs ----
    def existing_runs(self, experiment_id: str) -> dict[str, Run]:
        """The experiment's runs (deleted ones too) by their *source* run id."""
        found, token = {}, None
        while True:
            page = self.api.call("search_runs", [experiment_id], "", ViewType.ALL, PAGE, None, token)
            for run in page:
                found[run.data.tags.get(SOURCE_RUN_ID_TAG, run.info.run_id)] = run
            token = page.token
            if not token:
                return found

    def create_run(self, experiment_id: str, source: Run) -> Run:
        info = source.info
        # The source id goes in with the creation: a copy killed right after it still finds this run.
        tags = [] if self.keeps_run_ids else [RunTag(SOURCE_RUN_ID_TAG, info.run_id)]
        return self.api.call("create_run", experiment_id, info.user_id or "", info.start_time, tags,
                             info.run_name, info.run_id if self.keeps_run_ids else None)

    def log_params_and_tags(self, run_id: str, params: dict[str, str], tags: dict[str, str]) -> None:
        for chunk in _chunks(sorted(params.items()), self._values_per_batch):
            self.api.call("log_batch", run_id, [], chunk, [])
        for chunk in _chunks(sorted(tags.items()), self._values_per_batch):
            self.api.call("log_batch", run_id, [], [], chunk)

    def log_metric_points(self, run_id: str, points: list[tuple[str, float, int, int]]) -> None:
        """(key, value, timestamp, step) points, in as few batches as the destination allows."""
        for chunk in _chunks(points, self._metrics_per_batch):
            self.api.call("log_batch", run_id, chunk, [], [])

    def delete_tag(self, run_id: str, key: str) -> None:
        self.api.call("delete_tag", run_id, key)

    def metric_history(self, run_id: str, key: str) -> list[tuple[float, int, int]]:
        points, token = [], None
        while True:
            page = self.api.call("get_metric_history", run_id, key, None, token)
            points.extend((m.value, m.timestamp, m.step) for m in page)
            token = page.token
            if not token:
                return points

    def log_inputs(self, run_id: str, datasets) -> None:
        self.api.call("log_inputs", run_id, list(datasets))

    def update_run_info(self, run_id: str, status, end_time: int | None, run_name: str | None) -> None:
        self.api.call("update_run_info", run_id, status, end_time, run_name)

    def delete_run(self, run_id: str) -> None:
        self.api.call("delete_run", run_id)

    def restore_run(self, run_id: str) -> None:
        self.api.call("restore_run", run_id)

    def artifact_repository(self, run: Run):
        return client_repository(run.info.artifact_uri, self.uri)

    def close(self) -> None:
        self.api.close()
