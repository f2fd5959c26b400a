"""MLflow 3 LoggedModels in the SQL store (``SqlAlchemyStore.create_logged_model`` and friends).

A mixin of ``SqlStore``: it uses the store's transactions (``_write`` / ``_read``) and its experiment and
run lookups, so LoggedModels live in the same database and migrations as runs.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from asyncclient.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelOutput,
    LoggedModelStatus,
    Metric,
    ModelMetric,
    PagedList,
)
from asyncclient.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException
from asyncclient.store import _ingest
from asyncclient.store import schema as t
from asyncclient.store.models import search
from asyncclient.store.models._sql import one_of
from asyncclient.store.search.paging import create_page_token, parse_page_token

SEARCH_LOGGED_MODEL_MAX_RESULTS_DEFAULT = 100
_CHUNK = 500


def _now_ms() -> int:
    return int(time.time() * 1000)


def _not_found(model_id: str) -> MlflowException:
    return MlflowException(f"Logged model with ID '{model_id}' not found.", RESOURCE_DOES_NOT_EXIST)


def load_logged_models(conn: Connection, rows: Sequence) -> list[LoggedModel]:
    """Rows of ``logged_models`` -> entities with tags, params and metrics: one query per child table."""
    ids = [r.model_id for r in rows]
    tags: dict[str, dict] = defaultdict(dict)
    params: dict[str, dict] = defaultdict(dict)
    metrics: dict[str, list] = defaultdict(list)
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i:i + _CHUNK]
        bound = {"ids": chunk}
        tag_rows = sa.select(t.logged_model_tags).where(one_of(conn, t.logged_model_tags.c.model_id, "ids"))
        for r in conn.execute(tag_rows, bound):
            tags[r.model_id][r.tag_key] = r.tag_value
        param_rows = sa.select(t.logged_model_params).where(one_of(conn, t.logged_model_params.c.model_id, "ids"))
        for r in conn.execute(param_rows, bound):
            params[r.model_id][r.param_key] = r.param_value
        m = t.logged_model_metrics
        for r in conn.execute(sa.select(m).where(one_of(conn, m.c.model_id, "ids")).order_by(
                m.c.metric_timestamp_ms, m.c.metric_step), bound):
            value = math.nan if r.metric_value is None else r.metric_value
            metrics[r.model_id].append(_ModelMetricPoint(r.metric_name, value, r.metric_timestamp_ms, r.metric_step,
                                                         r.run_id, r.model_id, r.dataset_name, r.dataset_digest))
    return [LoggedModel(
        r.model_id, str(r.experiment_id), r.name, r.artifact_location, r.creation_timestamp_ms,
        r.last_updated_timestamp_ms, r.status, r.model_type, r.source_run_id, r.status_message,
        tags[r.model_id], params[r.model_id], metrics[r.model_id]) for r in rows]


class _ModelMetricPoint(Metric):
    """A ``Metric`` as a logged model reports it: with the run, the model and the dataset it came from."""

    __slots__ = ("_model_id", "_dataset_name", "_dataset_digest")

    def __init__(self, key, value, timestamp, step, run_id, model_id, dataset_name=None, dataset_digest=None):
        super().__init__(key, value, timestamp, step, run_id)
        self._model_id, self._dataset_name, self._dataset_digest = model_id, dataset_name, dataset_digest

    model_id = property(lambda self: self._model_id)
    dataset_name = property(lambda self: self._dataset_name)
    dataset_digest = property(lambda self: self._dataset_digest)


def write_model_metrics(conn: Connection, run_id: str, metrics: Sequence[ModelMetric]) -> None:
    """Model-linked points (``log_batch`` metrics carrying ``model_id``); exact duplicates are no-ops."""
    if not metrics:
        return
    ids = {m.model_id for m in metrics}
    known = set(conn.execute(sa.select(t.logged_models.c.model_id).where(t.logged_models.c.model_id.in_(ids)))
                .scalars())
    for missing in ids - known:
        raise _not_found(missing)
    rows = {(m.model_id, m.key, m.timestamp, m.step): {
        "model_id": m.model_id, "metric_name": m.key, "metric_timestamp_ms": m.timestamp, "metric_step": m.step,
        # NaN is stored as NULL: a comparison never matches it, as MLflow's NaN handling for model metrics.
        "metric_value": None if m.value != m.value else m.value, "run_id": run_id,
        "dataset_name": m.dataset_name, "dataset_digest": m.dataset_digest} for m in metrics}
    conn.execute(_ingest.insert(conn, t.logged_model_metrics).on_conflict_do_nothing(), list(rows.values()))


class LoggedModelStoreMixin:
    """LoggedModel methods of ``SqlStore``, with the names and semantics of MLflow's ``SqlAlchemyStore``."""

    def _logged_model_row(self, conn: Connection, model_id: str, allow_deleted: bool = False):
        row = conn.execute(sa.select(t.logged_models).where(t.logged_models.c.model_id == model_id)).first()
        if row is None or (not allow_deleted and row.lifecycle_stage != LifecycleStage.ACTIVE):
            raise _not_found(model_id)
        return row

    def create_logged_model(self, experiment_id: str, name: str | None = None, source_run_id: str | None = None,
                            tags: dict[str, str] | None = None, params: dict[str, str] | None = None,
                            model_type: str | None = None) -> LoggedModel:
        """A PENDING logged model whose artifacts live at ``<experiment artifact root>/models/<id>/artifacts``."""
        from asyncclient.store.names import generate_run_name

        model_id = f"m-{uuid.uuid4().hex}"
        name = name or generate_run_name()

        def create(conn: Connection) -> LoggedModel:
            exp = self._experiment_row(conn, experiment_id)
            self._check_experiment_active(exp)
            now = _now_ms()
            location = "/".join([(exp.artifact_location or "").rstrip("/"), "models", model_id, "artifacts"])
            conn.execute(sa.insert(t.logged_models).values(
                model_id=model_id, experiment_id=exp.experiment_id, name=name, artifact_location=location,
                creation_timestamp_ms=now, last_updated_timestamp_ms=now, status=LoggedModelStatus.PENDING,
                lifecycle_stage=LifecycleStage.ACTIVE, model_type=model_type, source_run_id=source_run_id or None))
            if tags:
                conn.execute(sa.insert(t.logged_model_tags), [
                    {"model_id": model_id, "tag_key": k, "tag_value": v} for k, v in tags.items()])
            if params:
                conn.execute(sa.insert(t.logged_model_params), [
                    {"model_id": model_id, "param_key": k, "param_value": v} for k, v in params.items()])
            return load_logged_models(conn, [self._logged_model_row(conn, model_id)])[0]
        return self._write(create)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The logged model; a deleted one is RESOURCE_DOES_NOT_EXIST unless ``allow_deleted``."""
        return self._read(lambda conn: load_logged_models(conn, [self._logged_model_row(conn, model_id,
                                                                                        allow_deleted)])[0])

    def finalize_logged_model(self, model_id: str, status: int) -> LoggedModel:
        """Set the status (READY or UPLOAD_FAILED) once the artifacts are uploaded."""
        def finalize(conn: Connection) -> LoggedModel:
            self._logged_model_row(conn, model_id)
            conn.execute(sa.update(t.logged_models).where(t.logged_models.c.model_id == model_id).values(
                status=status, last_updated_timestamp_ms=_now_ms()))
            return load_logged_models(conn, [self._logged_model_row(conn, model_id)])[0]
        return self._write(finalize)

    def delete_logged_model(self, model_id: str) -> None:
        """Soft delete, as MLflow: the row stays (its artifacts too) but reads no longer find it."""
        def delete(conn: Connection) -> None:
            self._logged_model_row(conn, model_id)
            conn.execute(sa.update(t.logged_models).where(t.logged_models.c.model_id == model_id).values(
                lifecycle_stage=LifecycleStage.DELETED, last_updated_timestamp_ms=_now_ms()))
        self._write(delete)

    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> None:
        """Upsert tags (last write wins)."""
        def write(conn: Connection) -> None:
            self._logged_model_row(conn, model_id)
            if not tags:
                return
            stmt = _ingest.insert(conn, t.logged_model_tags)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=[t.logged_model_tags.c.model_id, t.logged_model_tags.c.tag_key],
                set_={"tag_value": stmt.excluded.tag_value}),
                [{"model_id": model_id, "tag_key": k, "tag_value": v} for k, v in tags.items()])
        self._write(write)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Delete one tag; RESOURCE_DOES_NOT_EXIST when the model has no such tag."""
        def delete(conn: Connection) -> None:
            self._logged_model_row(conn, model_id)
            result = conn.execute(sa.delete(t.logged_model_tags).where(
                t.logged_model_tags.c.model_id == model_id, t.logged_model_tags.c.tag_key == key))
            if result.rowcount == 0:
                raise MlflowException(f"No tag with key {key!r} found for model with ID {model_id!r}.",
                                      RESOURCE_DOES_NOT_EXIST)
        self._write(delete)

    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None:
        """Add params; re-logging a key keeps the first value (MLflow ignores the duplicate)."""
        def write(conn: Connection) -> None:
            self._logged_model_row(conn, model_id)
            if params:
                conn.execute(_ingest.insert(conn, t.logged_model_params).on_conflict_do_nothing(), [
                    {"model_id": model_id, "param_key": k, "param_value": v} for k, v in params.items()])
        self._write(write)

    def search_logged_models(self, experiment_ids: list[str], filter_string: str | None = None,
                             datasets: list[dict] | None = None, max_results: int | None = None,
                             order_by: list[dict] | None = None, page_token: str | None = None
                             ) -> PagedList[LoggedModel]:
        """Active logged models of the experiments, filtered, ordered and paged (``search_logged_models``)."""
        from asyncclient.store.search.compiler import parse_experiment_id

        if datasets and not all(d.get("dataset_name") for d in datasets):
            raise MlflowException.invalid_parameter_value("`dataset_name` in the `datasets` clause must be specified.")
        max_results = max_results or SEARCH_LOGGED_MODEL_MAX_RESULTS_DEFAULT
        offset = parse_page_token(page_token)
        lm = t.logged_models
        sqlite = self.engine.dialect.name == "sqlite"
        conditions = [lm.c.experiment_id.in_([parse_experiment_id(e) for e in experiment_ids]),
                      lm.c.lifecycle_stage == LifecycleStage.ACTIVE,
                      *search.logged_model_filter_conditions(filter_string, datasets, sqlite)]
        terms = search.logged_model_ordering(order_by)
        stmt = sa.select(lm).where(*conditions).order_by(*terms).offset(offset).limit(max_results + 1)
        walk = None
        first = (order_by or [{}])[0].get("field_name") or ""
        if sqlite and first.startswith(("metric.", "metrics.")):
            # Ordered by a metric: read the page off the metric's value index. When the page lies within
            # the models that have the metric it is exactly the general query's page; else run that one.
            # (PostgreSQL plans the general query as joins and gains nothing from this.)
            source, walk_conditions, value = search.latest_metric_walk(order_by[0])
            direction = value.asc() if order_by[0].get("ascending", True) else value.desc()
            walk = (sa.select(lm).select_from(source).where(*conditions, *walk_conditions)
                    .order_by(direction, *terms[1:]).offset(offset).limit(max_results + 1))

        def read(conn: Connection) -> PagedList[LoggedModel]:
            rows = conn.execute(walk).all() if walk is not None else []
            if len(rows) <= max_results:
                rows = conn.execute(stmt).all()
            token = create_page_token(offset + max_results) if len(rows) > max_results else None
            return PagedList(load_logged_models(conn, rows[:max_results]), token)
        return self._read(read)

    def log_outputs(self, run_id: str, models: list[LoggedModelOutput]) -> None:
        """Record that the run produced these models (``runs/outputs``). As in MLflow the model ids are not
        checked: a client may record the edge before or without the model."""
        def write(conn: Connection) -> None:
            self._run_row(conn, run_id, active=True)
            if models:
                conn.execute(_ingest.insert(conn, t.run_model_outputs).on_conflict_do_nothing(), [
                    {"run_uuid": run_id, "model_id": m.model_id, "step": m.step} for m in models])
        self._write(write)

    def log_model_inputs(self, run_id: str, model_ids: list[str]) -> None:
        """Record that the run used these models (``log-inputs`` with ``models``; ids unchecked, as MLflow)."""
        def write(conn: Connection) -> None:
            self._run_row(conn, run_id, active=True)
            if model_ids:
                conn.execute(_ingest.insert(conn, t.run_model_inputs).on_conflict_do_nothing(), [
                    {"run_uuid": run_id, "model_id": m} for m in dict.fromkeys(model_ids)])
        self._write(write)

    def get_run_model_edges(self, run_id: str) -> tuple[list[LoggedModelOutput], list[str]]:
        """(outputs, input model ids) of a run, for ``run.outputs`` / ``run.inputs.model_inputs``."""
        def read(conn: Connection):
            outs = conn.execute(sa.select(t.run_model_outputs).where(t.run_model_outputs.c.run_uuid == run_id)
                                .order_by(t.run_model_outputs.c.step, t.run_model_outputs.c.model_id)).all()
            ins = conn.execute(sa.select(t.run_model_inputs.c.model_id).where(
                t.run_model_inputs.c.run_uuid == run_id).order_by(t.run_model_inputs.c.model_id)).scalars().all()
            return [LoggedModelOutput(r.model_id, r.step) for r in outs], list(ins)
        return self._read(read)
