"""A source read through a tracking API: an MLflow server over REST (any version with the 2.0 API), an
asyncclient server, or asyncclient's embedded store (the source of ``asyncclient export``)."""

from __future__ import annotations

from collections.abc import Iterator

from asyncclient.artifacts.client_repos import client_repository
from asyncclient.entities import Experiment, Run, ViewType
from asyncclient.migrate.sources import History
from asyncclient.migrate.sync_transport import SyncTransport

PAGE = 1000


class TrackingSource:
    def __init__(self, uri: str):
        self.uri = uri
        self._api = SyncTransport(uri)

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
        history: History = {}
        for key in run.data.metrics:
            points, token = [], None
            while True:  # without max_results MLflow sends the whole history at once; page if told to
                page = self._api.call("get_metric_history", run.info.run_id, key, None, token)
                points.extend((m.value, m.timestamp, m.step) for m in page)
                token = page.token
                if not token:
                    break
            history[key] = points
        return history

    def artifact_repository(self, run: Run):
        uri = run.info.artifact_uri
        return client_repository(uri, self.uri) if uri else None

    def close(self) -> None:
        self._api.close()
