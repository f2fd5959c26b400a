"""``MlflowClient`` with MLflow's method names; writes go through the same ring and worker as the fluent API.

Reads (get_run, get_metric_history, search_runs) first wait for this process's pending writes, so a
client reads what it logged (MLflow's async mode does not).
"""

from __future__ import annotations

import time
import warnings

from asyncclient import config, session, validation, wire
from asyncclient.data.convert import to_dataset_input
from asyncclient.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from asyncclient.exceptions import DeliveryError, MlflowException
from asyncclient.tracking._artifacts import ArtifactMethods, remember_artifact_uri
from asyncclient.tracking._registry import RegistryMethods

# Reads wait this long for pending writes; past it they answer with what is stored (and a stale read is
# better than a read that hangs while a server is down).
READ_YOUR_WRITES_TIMEOUT = 60.0


class MlflowClient(ArtifactMethods, RegistryMethods):
    """``mlflow.tracking.MlflowClient``. ``tracking_uri`` defaults to the process's tracking URI.

    Artifact methods (log_artifact, list_artifacts, download_artifacts, ...) come from ArtifactMethods; the
    Model Registry and LoggedModel reads (register versions, aliases, stages, search) from RegistryMethods.
    """

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None):
        self._tracking_uri = tracking_uri
        if tracking_uri is not None and config.resolved_tracking_uri() != tracking_uri:
            # A client for another destination than the fluent API's: it gets its own worker and ring.
            self._own = _OtherDestination(tracking_uri)
        else:
            self._own = None

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri or config.get_tracking_uri()

    def _session(self) -> session.Session:
        return self._own.session() if self._own is not None else session.get_session()

    def _call(self, name: str, *args, **kwargs):
        return self._session().call(name, *args, **kwargs)

    def _read_barrier(self) -> None:
        s = self._session()
        s.flush(READ_YOUR_WRITES_TIMEOUT, raise_errors=False)

    # ---- experiments ----
    def create_experiment(self, name: str, artifact_location: str | None = None, tags: dict | None = None) -> str:
        validation.validate_experiment_name(name)
        exp_tags = [ExperimentTag(str(k), str(v)) for k, v in (tags or {}).items()]
        return self._call("create_experiment", name, artifact_location, exp_tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._call("get_experiment", str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._call("get_experiment_by_name", name)

    def search_experiments(self, view_type: int = ViewType.ACTIVE_ONLY, max_results: int = 1000,
                           filter_string: str | None = None, order_by: list[str] | None = None,
                           page_token: str | None = None) -> PagedList:
        return self._call("search_experiments", view_type, max_results, filter_string, order_by, page_token)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._call("rename_experiment", str(experiment_id), new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._call("delete_experiment", str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self._call("restore_experiment", str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value) -> None:
        self._call("set_experiment_tag", str(experiment_id), ExperimentTag(key, str(value)))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._call("delete_experiment_tag", str(experiment_id), key)

    # ---- runs ----
    def create_run(self, experiment_id: str, start_time: int | None = None, tags: dict | None = None,
                   run_name: str | None = None) -> Run:
        """``MlflowClient.create_run``: synchronous, so the run id is known when it returns."""
        tags = dict(tags or {})
        user = tags.get("mlflow.user", "unknown")
        run_tags = [RunTag(str(k), str(v)) for k, v in tags.items()]
        start = int(time.time() * 1000) if start_time is None else start_time
        run = self._call("create_run", str(experiment_id), user, start, run_tags, run_name)
        remember_artifact_uri(self.tracking_uri, run.info.run_id, run.info.artifact_uri)
        return run

    def get_run(self, run_id: str) -> Run:
        self._read_barrier()
        return self._call("get_run", run_id)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        self._call("update_run_info", run_id, status, None, name)

    def set_terminated(self, run_id: str, status: str | None = None, end_time: int | None = None) -> None:
        """Mark the run ended after its pending data (``MlflowClient.set_terminated``).

        Waits for delivery at most ``ASYNCCLIENT_EXIT_TIMEOUT``; past it, the end is still delivered after
        the data. Raises DeliveryError for this run's refused entries.
        """
        s = self._session()
        s.end_run(run_id, status or "FINISHED", end_time if end_time else int(time.time() * 1000))
        s.flush(timeout=config.exit_timeout(), raise_errors=False)
        failures = s.take_failures(run_id)
        if failures:
            raise DeliveryError(failures)

    def delete_run(self, run_id: str) -> None:
        self._session().flush(raise_errors=False)
        self._call("delete_run", run_id)

    def restore_run(self, run_id: str) -> None:
        self._call("restore_run", run_id)

    def search_runs(self, experiment_ids, filter_string: str = "", run_view_type: int = ViewType.ACTIVE_ONLY,
                    max_results: int = 1000, order_by: list[str] | None = None,
                    page_token: str | None = None) -> PagedList:
        """``MlflowClient.search_runs``: a single id string is accepted; ``.token`` is the next page."""
        if isinstance(experiment_ids, (str, int)):
            experiment_ids = [experiment_ids]
        self._read_barrier()
        return self._call("search_runs", [str(e) for e in experiment_ids], filter_string or "", run_view_type,
                          max_results, order_by, page_token)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric, across pages (``MlflowClient.get_metric_history``)."""
        self._read_barrier()
        out, token = [], None
        while True:
            page = self._call("get_metric_history", run_id, key, None if token is None else 25000, token)
            out.extend(page)
            token = page.token
            if not token:
                return out

    # ---- logging (asynchronous, through the ring) ----
    def log_metric(self, run_id: str, key: str, value: float, timestamp: int | None = None,
                   step: int | None = None, synchronous: bool | None = None, **_ignored) -> None:
        validation.validate_key(key, "metric")
        value = validation.metric_value(value, key)
        ts = int(time.time() * 1000) if timestamp is None else validation.metric_timestamp(timestamp, key)
        s = self._session()
        s.log_metric(run_id, key, value, ts, validation.metric_step(step, key))
        if synchronous:
            s.flush()

    def log_param(self, run_id: str, key: str, value, synchronous: bool | None = None):
        validation.validate_key(key, "param")
        value = validation.param_value(key, value)
        s = self._session()
        s.log_param(run_id, key, value)
        if synchronous:
            s.flush()
        return value

    def set_tag(self, run_id: str, key: str, value, synchronous: bool | None = None) -> None:
        validation.validate_key(key, "tag")
        s = self._session()
        s.set_tag(run_id, key, validation.tag_value(key, value))
        if synchronous:
            s.flush()

    def delete_tag(self, run_id: str, key: str) -> None:
        self._session().delete_tag(run_id, key)

    def log_batch(self, run_id: str, metrics=(), params=(), tags=(), synchronous: bool | None = None) -> None:
        """``MlflowClient.log_batch``: entities are checked here, then buffered like every other write."""
        s = self._session()
        validation.validate_batch_limits(list(metrics), list(params), list(tags))
        for m in metrics:
            validation.validate_key(m.key, "metric")
            s.log_metric(run_id, m.key, validation.metric_value(m.value, m.key),
                         validation.metric_timestamp(m.timestamp, m.key), validation.metric_step(m.step, m.key))
        for p in params:
            validation.validate_key(p.key, "param")
            s.log_param(run_id, p.key, validation.param_value(p.key, p.value))
        for t in tags:
            validation.validate_key(t.key, "tag")
            s.set_tag(run_id, t.key, validation.tag_value(t.key, t.value))
        if synchronous:
            s.flush()

    def log_inputs(self, run_id: str, datasets: list[DatasetInput] | None = None, models=None) -> None:
        """``MlflowClient.log_inputs``: checked here, then buffered (ordered after earlier writes to the run).

        MLflow's own ``DatasetInput`` entities are accepted too. Logged-model inputs (``models``) are not
        supported and are ignored with a warning.
        """
        if models:
            warnings.warn("asyncclient does not record logged-model inputs; `models` was ignored", stacklevel=2)
        if datasets:
            inputs = [to_dataset_input(d) for d in datasets]
            self._session().log_inputs(run_id, [wire.dataset_input_to_json(d) for d in inputs])

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for delivery of everything logged by this process; raise DeliveryError for refusals."""
        return self._session().flush(timeout)


class _OtherDestination:
    """A session for a client whose tracking_uri differs from the process's (built lazily, per process)."""

    _sessions: dict[tuple[int, str], session.Session] = {}

    def __init__(self, uri: str):
        self.uri = uri

    def session(self) -> session.Session:
        import os

        key = (os.getpid(), self.uri)
        s = self._sessions.get(key)
        if s is None:
            s = self._sessions[key] = session.Session(self.uri)
            session.extra_sessions.append(s)
        return s


# Names MLflow users import from here.
__all__ = ["MlflowClient", "Metric", "Param", "RunTag", "RunInfo", "RunStatus", "MlflowException"]
