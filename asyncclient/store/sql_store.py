"""``SqlStore``: the tracking store on SQLite or PostgreSQL (MLflow's ``SqlAlchemyStore``).

Same semantics, error codes and messages as MLflow's SQL store for every method of ``TrackingStore``;
built on SQLAlchemy Core with one transaction per call and ``INSERT ... ON CONFLICT`` writes.
"""

from __future__ import annotations

import os
import pathlib
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from asyncclient import validation as v
from asyncclient.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    LifecycleStage,
    Metric,
    MetricWithRunId,
    ModelMetric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from asyncclient.exceptions import (
    INVALID_STATE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from asyncclient.store import _checks, _ingest, _load, bucketing
from asyncclient.store import schema as t
from asyncclient.store.base import TrackingStore
from asyncclient.store.engine import make_engine, with_retry, writer
from asyncclient.store.migrate import upgrade_engine
from asyncclient.store.models.logged_models import LoggedModelStoreMixin, write_model_metrics
from asyncclient.store.models.registry import ModelRegistryStoreMixin
from asyncclient.store.names import generate_run_name
from asyncclient.store.sampling import sample_history
from asyncclient.store.search import compiler
from asyncclient.store.search.compiler import parse_experiment_id
from asyncclient.store.search.paging import check_max_results, create_page_token, parse_page_token

T = TypeVar("T")

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
RUN_NAME_TAG = "mlflow.runName"


def _now_ms() -> int:
    return int(time.time() * 1000)


def resolve_uri_if_local(uri: str | None) -> str | None:
    """A relative local path (or ``file:`` URI) made absolute against the current directory, as MLflow's
    ``resolve_uri_if_local`` does for experiment artifact locations; other URIs are returned as given."""
    if not uri:
        return uri
    parsed = urllib.parse.urlsplit(uri)
    if parsed.scheme not in ("", "file") or (len(parsed.scheme) == 1):
        return uri
    path = urllib.request.url2pathname(parsed.path) if parsed.scheme == "file" else uri
    if os.path.isabs(path):
        return uri
    absolute = pathlib.Path.cwd().joinpath(path).as_posix()
    if parsed.scheme == "":
        return absolute
    return urllib.parse.urlunsplit((parsed.scheme, None, absolute, parsed.query, parsed.fragment))


def _join_uri(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


class SqlStore(LoggedModelStoreMixin, ModelRegistryStoreMixin, TrackingStore):
    """A tracking store in one SQL database (``mlflow.store.tracking.sqlalchemy_store.SqlAlchemyStore``).

    ``db_uri`` is a SQLAlchemy URL (``sqlite:///...`` or ``postgresql+psycopg://...``); the schema is created
    or upgraded on first use. ``default_artifact_root`` is where experiments without an explicit
    ``artifact_location`` keep their artifacts (``<root>/<experiment_id>``).
    """

    def __init__(self, db_uri: str, default_artifact_root: str):
        self.db_uri = db_uri
        self.artifact_root_uri = default_artifact_root.rstrip("/")
        self.engine = make_engine(db_uri)
        self._writer = writer(self.engine)
        self._metric_key_ids: dict[str, int] = {}
        upgrade_engine(self.engine)
        self._create_default_experiment()

    # ---- plumbing ----
    def _write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one write transaction, retried if SQLite is locked or PostgreSQL deadlocks."""
        def attempt() -> T:
            with self._writer.begin() as conn:
                return fn(conn)
        return with_retry(attempt)

    def _read(self, fn: Callable[[Connection], T]) -> T:
        def attempt() -> T:
            with self.engine.connect() as conn:
                return fn(conn)
        return with_retry(attempt)

    def close(self) -> None:
        """Release pooled connections (``engine.dispose()``)."""
        self.engine.dispose()

    def _create_default_experiment(self) -> None:
        def create(conn: Connection) -> None:
            if conn.execute(sa.select(t.experiments.c.experiment_id).where(
                    t.experiments.c.experiment_id == 0)).first() is not None:
                return
            now = _now_ms()
            stmt = _ingest.insert(conn, t.experiments).values(
                experiment_id=0, name=DEFAULT_EXPERIMENT_NAME, lifecycle_stage=LifecycleStage.ACTIVE,
                artifact_location=_join_uri(self.artifact_root_uri, DEFAULT_EXPERIMENT_ID),
                creation_time=now, last_update_time=now,
            ).on_conflict_do_nothing()
            conn.execute(stmt)
        self._write(create)

    # ---- experiments ----
    def _experiment_row(self, conn: Connection, experiment_id, view_type: int = ViewType.ALL):
        exp_id = parse_experiment_id(experiment_id or DEFAULT_EXPERIMENT_ID)
        row = conn.execute(sa.select(t.experiments).where(
            t.experiments.c.experiment_id == exp_id,
            t.experiments.c.lifecycle_stage.in_(LifecycleStage.view_type_to_stages(view_type)))).first()
        if row is None:
            raise MlflowException(f"No Experiment with id={exp_id} exists", RESOURCE_DOES_NOT_EXIST)
        return row

    @staticmethod
    def _check_experiment_active(row) -> None:
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise MlflowException.invalid_parameter_value(
                f"The experiment {row.experiment_id} must be in the 'active' state. "
                f"Current state is {row.lifecycle_stage}.")

    def create_experiment(self, name: str, artifact_location: str | None = None,
                          tags: list[ExperimentTag] | None = None) -> str:
        """Create an experiment; the name must be unused, deleted experiments included (MLflow SQL)."""
        v.validate_experiment_name(name)
        for tag in tags or []:
            _checks.check_experiment_tag(tag)
        artifact_location = resolve_uri_if_local(artifact_location)

        def create(conn: Connection) -> str:
            now = _now_ms()
            exp_id = conn.execute(sa.insert(t.experiments).values(
                name=name, artifact_location=artifact_location or None, lifecycle_stage=LifecycleStage.ACTIVE,
                creation_time=now, last_update_time=now).returning(t.experiments.c.experiment_id)).scalar_one()
            if not artifact_location:
                conn.execute(sa.update(t.experiments).where(t.experiments.c.experiment_id == exp_id).values(
                    artifact_location=_join_uri(self.artifact_root_uri, str(exp_id))))
            if tags:
                conn.execute(sa.insert(t.experiment_tags), [
                    {"experiment_id": exp_id, "key": k, "value": val}
                    for k, val in {tag.key: tag.value for tag in tags}.items()])
            return str(exp_id)

        try:
            return self._write(create)
        except IntegrityError as e:
            raise MlflowException(f"Experiment(name={name}) already exists. Error: {e.orig}",
                                  RESOURCE_ALREADY_EXISTS) from None

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment, deleted ones included (``SqlAlchemyStore.get_experiment``)."""
        return self._read(lambda conn: _load.load_experiments(conn, [self._experiment_row(conn, experiment_id)])[0])

    def get_experiment_by_name(self, experiment_name: str) -> Experiment | None:
        """The experiment with this name in any lifecycle stage, or None."""
        def get(conn: Connection) -> Experiment | None:
            row = conn.execute(sa.select(t.experiments).where(t.experiments.c.name == experiment_name)).first()
            return None if row is None else _load.load_experiments(conn, [row])[0]
        return self._read(get)

    def search_experiments(self, view_type: int = ViewType.ACTIVE_ONLY, max_results: int = 1000,
                           filter_string: str | None = None, order_by: list[str] | None = None,
                           page_token: str | None = None) -> PagedList[Experiment]:
        """Filter, order and page experiments (``SqlAlchemyStore.search_experiments``)."""
        check_max_results(max_results)
        conditions = compiler.experiment_filter_conditions(filter_string)
        terms = compiler.experiment_ordering(order_by)
        offset = parse_page_token(page_token)
        stmt = (sa.select(t.experiments)
                .where(t.experiments.c.lifecycle_stage.in_(LifecycleStage.view_type_to_stages(view_type)),
                       *conditions)
                .order_by(*terms).offset(offset).limit(max_results + 1))

        def search(conn: Connection) -> PagedList[Experiment]:
            rows = conn.execute(stmt).all()
            token = create_page_token(offset + max_results) if len(rows) > max_results else None
            return PagedList(_load.load_experiments(conn, rows[:max_results]), token)
        return self._read(search)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment; a deleted one is INVALID_STATE, as in MLflow."""
        v.validate_experiment_name(new_name)

        def rename(conn: Connection) -> None:
            row = self._experiment_row(conn, experiment_id)
            if row.lifecycle_stage != LifecycleStage.ACTIVE:
                raise MlflowException("Cannot rename a non-active experiment.", INVALID_STATE)
            conn.execute(sa.update(t.experiments).where(t.experiments.c.experiment_id == row.experiment_id)
                         .values(name=new_name, last_update_time=_now_ms()))
        try:
            self._write(rename)
        except IntegrityError as e:
            raise MlflowException(f"Experiment(name={new_name}) already exists. Error: {e.orig}",
                                  RESOURCE_ALREADY_EXISTS) from None

    def _set_experiment_stage(self, experiment_id: str, from_view: int, stage: str) -> None:
        def change(conn: Connection) -> None:
            row = self._experiment_row(conn, experiment_id, from_view)
            now = _now_ms()
            conn.execute(sa.update(t.experiments).where(t.experiments.c.experiment_id == row.experiment_id)
                         .values(lifecycle_stage=stage, last_update_time=now))
            # The experiment's runs follow it, as in MLflow (all of them, in both directions).
            conn.execute(sa.update(t.runs).where(t.runs.c.experiment_id == row.experiment_id).values(
                lifecycle_stage=stage, deleted_time=now if stage == LifecycleStage.DELETED else None))
        self._write(change)

    def delete_experiment(self, experiment_id: str) -> None:
        """Mark the experiment and all its runs deleted (``SqlAlchemyStore.delete_experiment``)."""
        self._set_experiment_stage(experiment_id, ViewType.ACTIVE_ONLY, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        """Reactivate a deleted experiment and its runs (``SqlAlchemyStore.restore_experiment``)."""
        self._set_experiment_stage(experiment_id, ViewType.DELETED_ONLY, LifecycleStage.ACTIVE)

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        """Set (or overwrite) an experiment tag; the experiment must be active."""
        _checks.check_experiment_tag(tag)

        def set_tag(conn: Connection) -> None:
            row = self._experiment_row(conn, experiment_id)
            self._check_experiment_active(row)
            stmt = _ingest.insert(conn, t.experiment_tags).values(
                experiment_id=row.experiment_id, key=tag.key, value=tag.value)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=[t.experiment_tags.c.experiment_id, t.experiment_tags.c.key],
                set_={"value": stmt.excluded.value}))
        self._write(set_tag)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Delete an experiment tag; RESOURCE_DOES_NOT_EXIST when absent."""
        def delete(conn: Connection) -> None:
            row = self._experiment_row(conn, experiment_id)
            self._check_experiment_active(row)
            result = conn.execute(sa.delete(t.experiment_tags).where(
                t.experiment_tags.c.experiment_id == row.experiment_id, t.experiment_tags.c.key == key))
            if result.rowcount == 0:
                raise MlflowException(f"No tag with name: {key} in experiment with id {experiment_id}",
                                      RESOURCE_DOES_NOT_EXIST)
        self._write(delete)

    # ---- runs ----
    @staticmethod
    def _run_row(conn: Connection, run_id: str, active: bool = False):
        row = conn.execute(sa.select(*_load.RUN_COLUMNS).where(t.runs.c.run_uuid == run_id)).first()
        if row is None:
            raise MlflowException(f"Run with id={run_id} not found", RESOURCE_DOES_NOT_EXIST)
        if active and row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise MlflowException.invalid_parameter_value(
                f"The run {run_id} must be in the 'active' state. Current state is {row.lifecycle_stage}.")
        return row

    def create_run(self, experiment_id: str, user_id: str, start_time: int | None, tags: list[RunTag],
                   run_name: str | None, run_id: str | None = None) -> Run:
        """Create a run (``SqlAlchemyStore.create_run``), with an optional client-chosen ``run_id``.

        Creating a run_id that exists in the same experiment returns the existing run, so a retried create
        never duplicates; in another experiment it is RESOURCE_ALREADY_EXISTS.
        """
        tag_values = _checks.check_tags(list(tags or []))
        name_tag = tag_values.get(RUN_NAME_TAG)
        if run_name and name_tag and run_name != name_tag:
            raise MlflowException.invalid_parameter_value(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values "
                f"(run_name='{run_name}', mlflow.runName='{name_tag}').")
        run_name = run_name or name_tag or generate_run_name()
        tag_values[RUN_NAME_TAG] = run_name
        if run_id is not None:
            v.validate_run_id(run_id)

        def create(conn: Connection) -> str:
            exp = self._experiment_row(conn, experiment_id)
            if run_id is not None:
                existing = conn.execute(sa.select(t.runs.c.experiment_id).where(t.runs.c.run_uuid == run_id)).first()
                if existing is not None:
                    if existing.experiment_id != exp.experiment_id:
                        raise MlflowException(
                            f"Run with id={run_id} already exists in experiment {existing.experiment_id}",
                            RESOURCE_ALREADY_EXISTS)
                    return run_id
            self._check_experiment_active(exp)
            new_id = run_id or uuid.uuid4().hex
            conn.execute(sa.insert(t.runs).values(
                run_uuid=new_id, experiment_id=exp.experiment_id, run_name=run_name, user_id=user_id,
                status=RunStatus.to_string(RunStatus.RUNNING), start_time=start_time, end_time=None,
                deleted_time=None, lifecycle_stage=LifecycleStage.ACTIVE,
                artifact_uri=_join_uri(exp.artifact_location or "", new_id, "artifacts")))
            conn.execute(sa.insert(t.tags), [{"run_uuid": new_id, "key": k, "value": val}
                                             for k, val in tag_values.items()])
            return new_id

        try:
            created = self._write(create)
        except IntegrityError:
            if run_id is None:
                raise
            created = run_id  # a concurrent create of the same run_id won: return that run
        return self.get_run(created)

    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params, tags and inputs (deleted runs too)."""
        return self._read(lambda conn: _load.load_runs(conn, [self._run_row(conn, run_id)])[0])

    def update_run_info(self, run_id: str, run_status: int | str | None, end_time: int | None,
                        run_name: str | None) -> RunInfo:
        """Set status / end_time / name of an active run; a new name also rewrites ``mlflow.runName``."""
        values = {}
        if run_status is not None:
            values["status"] = (RunStatus.to_string(RunStatus.from_string(run_status))
                                if isinstance(run_status, str) else RunStatus.to_string(run_status))
        if end_time is not None:
            values["end_time"] = end_time
        if run_name:
            values["run_name"] = run_name

        def update(conn: Connection) -> RunInfo:
            self._run_row(conn, run_id, active=True)
            if values:
                conn.execute(sa.update(t.runs).where(t.runs.c.run_uuid == run_id).values(**values))
            if run_name:
                _ingest.write_tags(conn, run_id, {RUN_NAME_TAG: run_name})
            return _load.run_info_from_row(self._run_row(conn, run_id))
        return self._write(update)

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        def change(conn: Connection) -> None:
            self._run_row(conn, run_id)
            conn.execute(sa.update(t.runs).where(t.runs.c.run_uuid == run_id).values(
                lifecycle_stage=stage, deleted_time=_now_ms() if stage == LifecycleStage.DELETED else None))
        self._write(change)

    def delete_run(self, run_id: str) -> None:
        """Mark a run deleted (``SqlAlchemyStore.delete_run``)."""
        self._set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        """Reactivate a deleted run (``SqlAlchemyStore.restore_run``)."""
        self._set_run_stage(run_id, LifecycleStage.ACTIVE)

    def _key_ids(self, keys: set[str]) -> dict[str, int]:
        missing = [k for k in keys if k not in self._metric_key_ids]
        if missing:
            # Interned in their own committed transaction, so the cache never holds a rolled-back id.
            self._metric_key_ids.update(self._write(lambda conn: _ingest.intern_metric_keys(conn, sorted(missing))))
        return self._metric_key_ids

    def _history_key(self, conn: Connection, run_id: str) -> int:
        """The run's metric-history key, interned in the caller's transaction after its run check.

        Not cached: two small statements per batch cost nothing next to the batch, and a key from a
        rolled-back transaction can then never leak into a later one.
        """
        return _ingest.intern_run_key(conn, run_id)

    def log_batch(self, run_id: str, metrics: list[Metric], params: list[Param], tags: list[RunTag],
                  model_metrics: list[ModelMetric] | None = None) -> None:
        """Params, metrics and tags in one transaction (``SqlAlchemyStore.log_batch``).

        ``model_metrics`` are the points of ``metrics`` that carry a ``model_id`` (MLflow 3): they are also
        recorded on their logged model, in the same transaction.

        Idempotent: exact duplicate metric points are dropped and an identical param re-log is accepted; a
        param logged again with another value is INVALID_PARAMETER_VALUE and nothing of the batch is stored.
        """
        v.validate_run_id(run_id)
        v.validate_batch_limits(metrics, params, tags)
        param_values = _checks.check_params(params)
        tag_values = _checks.check_tags(tags)
        metric_rows = _checks.check_metrics(metrics)
        key_ids = self._key_ids({row[0] for row in metric_rows}) if metric_rows else {}
        rows = [(key_ids[k], ts, st, val, nan) for k, ts, st, val, nan in metric_rows]

        def write(conn: Connection) -> None:
            self._run_row(conn, run_id, active=True)
            _ingest.write_params(conn, run_id, param_values)
            if rows:
                _ingest.write_metrics(conn, run_id, self._history_key(conn, run_id), rows)
            _ingest.write_tags(conn, run_id, tag_values)
            if model_metrics:
                write_model_metrics(conn, run_id, model_metrics)
        self._write(write)

    def log_batch_tuples(self, run_id: str, metrics: list[tuple[str, float, int, int]],
                         params: list[tuple[str, str]], tags: list[tuple[str, str]]) -> None:
        """``log_batch`` for the embedded client and the server's msgpack path: plain tuples, checked by
        the caller already.

        The client validates keys and values when they are logged (the server when it decodes a request),
        so this path only maps NaN/±inf to their stored form and writes, in one transaction and without
        MLflow's per-request size limits: a rejected param leaves nothing of the call stored. Same
        idempotence as log_batch: duplicates dropped, an identical param re-log accepted.
        """
        if metrics:
            # Columns by zip (C), not a loop per point: this is the embedded client's hot ingest path.
            columns_of = getattr(metrics, "columns", None)
            keys, values, timestamps, steps = columns_of() if columns_of else zip(*metrics, strict=True)
            ids = self._key_ids(set(keys))
            key_ids = list(map(ids.__getitem__, keys))
            total = sum(values)
            if total - total == 0.0:  # every value finite (a NaN or ±inf makes the sum non-finite)
                nans = [False] * len(values)
            else:
                pairs = [_checks.sanitize_metric_value(v) for v in values]
                nans, values = [p[0] for p in pairs], [p[1] for p in pairs]
            columns = (key_ids, timestamps, steps, values, nans)
        else:
            columns = ((), (), (), (), ())
        param_values = dict(params)
        tag_values = dict(tags)

        def write(conn: Connection) -> None:
            self._run_row(conn, run_id, active=True)
            _ingest.write_params(conn, run_id, param_values)
            if metrics:
                _ingest.write_metric_columns(conn, run_id, self._history_key(conn, run_id), *columns)
            _ingest.write_tags(conn, run_id, tag_values)
        self._write(write)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete a run tag; RESOURCE_DOES_NOT_EXIST when absent (``SqlAlchemyStore.delete_tag``)."""
        def delete(conn: Connection) -> None:
            self._run_row(conn, run_id, active=True)
            result = conn.execute(sa.delete(t.tags).where(t.tags.c.run_uuid == run_id, t.tags.c.key == key))
            if result.rowcount == 0:
                raise MlflowException(f"No tag with name: {key} in run with id {run_id}", RESOURCE_DOES_NOT_EXIST)
        self._write(delete)

    def log_inputs(self, run_id: str, datasets: list[DatasetInput] | None = None) -> None:
        """Record dataset inputs (``SqlAlchemyStore.log_inputs``): datasets are shared per experiment by
        (name, digest) and each (dataset, run) edge is stored once with its tags."""
        inputs = _checks.check_dataset_inputs(list(datasets or []))

        def write(conn: Connection) -> None:
            run = self._run_row(conn, run_id, active=True)
            for di in inputs:
                ds = di.dataset
                conn.execute(_ingest.insert(conn, t.datasets).values(
                    dataset_uuid=uuid.uuid4().hex, experiment_id=run.experiment_id, name=ds.name,
                    digest=ds.digest, dataset_source_type=ds.source_type, dataset_source=ds.source,
                    dataset_schema=ds.schema, dataset_profile=ds.profile).on_conflict_do_nothing())
                dataset_uuid = conn.execute(sa.select(t.datasets.c.dataset_uuid).where(
                    t.datasets.c.experiment_id == run.experiment_id, t.datasets.c.name == ds.name,
                    t.datasets.c.digest == ds.digest)).scalar_one()
                input_uuid = uuid.uuid4().hex
                # RETURNING, not rowcount: drivers disagree on rowcount for a skipped ON CONFLICT row.
                added = conn.execute(_ingest.insert(conn, t.inputs).values(
                    input_uuid=input_uuid, source_type="DATASET", source_id=dataset_uuid,
                    destination_type="RUN", destination_id=run_id).on_conflict_do_nothing()
                    .returning(t.inputs.c.input_uuid)).first() is not None
                if added and di.tags:
                    conn.execute(sa.insert(t.input_tags), [
                        {"input_uuid": input_uuid, "name": k, "value": val}
                        for k, val in {tag.key: tag.value for tag in di.tags}.items()])
        self._write(write)

    def search_datasets(self, experiment_ids: list[str]) -> list[dict]:
        """(experiment_id, name, digest, context) of the datasets used by runs of these experiments, at most
        1000 (MLflow's ``SqlAlchemyStore._search_datasets``, behind the UI's ``search-datasets``)."""
        ids = [parse_experiment_id(e) for e in experiment_ids]
        d, i, it = t.datasets, t.inputs, t.input_tags
        stmt = (sa.select(d.c.experiment_id, d.c.name, d.c.digest, it.c.value).distinct()
                .select_from(d.join(i, i.c.source_id == d.c.dataset_uuid).outerjoin(
                    it, sa.and_(it.c.input_uuid == i.c.input_uuid, it.c.name == compiler.DATASET_CONTEXT_TAG)))
                .where(d.c.experiment_id.in_(ids)).order_by(d.c.experiment_id, d.c.name, d.c.digest, it.c.value)
                .limit(1000))
        return self._read(lambda conn: [
            {"experiment_id": str(r[0]), "name": r[1], "digest": r[2], "context": r[3]}
            for r in conn.execute(stmt)])

    # ---- metric history ----
    def _history_query(self, run_id: str, metric_key: str) -> sa.Select:
        m = t.metrics
        return sa.select(m.c.timestamp, m.c.step, m.c.value, m.c.is_nan).where(
            m.c.run_key == _ingest.run_key_of(run_id), m.c.key_id == compiler.metric_key_id(metric_key))

    def get_metric_history(self, run_id: str, metric_key: str, max_results: int | None = None,
                           page_token: str | None = None) -> PagedList[Metric]:
        """All points of one metric ordered by (timestamp, step, value), paged by offset tokens."""
        check_max_results(max_results, allow_none=True)
        offset = parse_page_token(page_token)
        m = t.metrics
        stmt = self._history_query(run_id, metric_key).order_by(m.c.timestamp, m.c.step, m.c.value).offset(offset)
        if max_results is not None:
            stmt = stmt.limit(max_results + 1)

        def read(conn: Connection) -> PagedList[Metric]:
            self._run_row(conn, run_id)
            rows = conn.execute(stmt).all()
            token = None
            if max_results is not None and len(rows) > max_results:
                rows, token = rows[:max_results], create_page_token(offset + max_results)
            return PagedList([Metric(metric_key, _load.metric_value(r.value, r.is_nan), r.timestamp, r.step, run_id)
                              for r in rows], token)
        return self._read(read)

    def get_metric_history_bulk_interval(self, run_ids: list[str], metric_key: str, max_results: int,
                                         start_step: int | None = None,
                                         end_step: int | None = None) -> list[MetricWithRunId]:
        """Up to ``max_results`` evenly sampled points per run, first and last kept
        (``SqlAlchemyStore.get_metric_history_bulk_interval``)."""
        if (start_step is None) != (end_step is None):
            raise MlflowException.invalid_parameter_value(
                "Both start_step and end_step must be specified together, or neither may be specified.")
        max_results = max(1, max_results)
        m = t.metrics

        def read(conn: Connection) -> list[MetricWithRunId]:
            out: list[MetricWithRunId] = []
            for run_id in run_ids:
                self._run_row(conn, run_id)
            for run_id in run_ids:
                stmt = self._history_query(run_id, metric_key)
                if start_step is not None:
                    stmt = stmt.where(m.c.step >= start_step, m.c.step <= end_step)
                rows = conn.execute(stmt.order_by(m.c.step, m.c.timestamp, m.c.value, m.c.is_nan)).all()
                out += [MetricWithRunId(metric_key, _load.metric_value(r.value, r.is_nan), r.timestamp, r.step,
                                        run_id) for r in sample_history(rows, max_results)]
            return out
        return self._read(read)

    def get_metric_history_bucketed(self, run_id: str, metric_key: str, buckets: int, x: str = "step",
                                    min_x: int | None = None,
                                    max_x: int | None = None) -> bucketing.BucketedHistory:
        """One metric's history cut into at most ``buckets`` x slices aggregated in SQL (no MLflow
        equivalent; see ``store/bucketing.py``). RESOURCE_DOES_NOT_EXIST for an unknown run."""
        bucketing.check_request(buckets, x, min_x, max_x)

        def read(conn: Connection) -> bucketing.BucketedHistory:
            self._run_row(conn, run_id)
            return bucketing.read_bucketed(conn, run_id, metric_key, buckets, x, min_x, max_x)
        return self._read(read)

    # ---- search ----
    def search_runs(self, experiment_ids: list[str], filter_string: str = "",
                    run_view_type: int = ViewType.ACTIVE_ONLY, max_results: int = 1000,
                    order_by: list[str] | None = None, page_token: str | None = None) -> PagedList[Run]:
        """Filter, order and page runs (``SqlAlchemyStore.search_runs``, grammar in ``store/search``)."""
        check_max_results(max_results)
        conditions = compiler.run_filter_conditions(filter_string)
        ordering = compiler.run_ordering(order_by)
        offset = parse_page_token(page_token)
        exp_ids = [parse_experiment_id(e) for e in experiment_ids or []]
        if not exp_ids:
            return PagedList([], None)
        source: sa.FromClause = t.runs
        for target, on in ordering.joins:
            source = source.outerjoin(target, on)
        stmt = (sa.select(*_load.RUN_COLUMNS).select_from(source)
                .where(t.runs.c.experiment_id.in_(exp_ids),
                       t.runs.c.lifecycle_stage.in_(LifecycleStage.view_type_to_stages(run_view_type)),
                       *conditions)
                .order_by(*ordering.terms).offset(offset).limit(max_results + 1))

        def search(conn: Connection) -> PagedList[Run]:
            rows = conn.execute(stmt).all()
            token = create_page_token(offset + max_results) if len(rows) > max_results else None
            return PagedList(_load.load_runs(conn, rows[:max_results]), token)
        return self._read(search)
