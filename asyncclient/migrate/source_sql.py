"""An MLflow SQL database read with SQLAlchemy from MLflow's own schema (no ``mlflow`` import needed).

Tables are reflected, so any MLflow version whose schema has these tables and columns can be read:
experiments, experiment_tags, runs, params, tags, latest_metrics, metrics, and (MLflow >= 2.4) datasets,
inputs, input_tags.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator

import sqlalchemy as sa

from asyncclient.artifacts.client_repos import client_repository
from asyncclient.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    InputTag,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
)
from asyncclient.exceptions import MlflowException
from asyncclient.migrate.sources import History
from asyncclient.store.uri import resolve_db_uri

REQUIRED = ("experiments", "experiment_tags", "runs", "params", "tags", "metrics", "latest_metrics")
OPTIONAL = ("datasets", "inputs", "input_tags")
CHUNK = 500  # run ids per IN (...) list, well under every backend's bind-parameter limit


def _metric_value(value: float, is_nan) -> float:
    # MLflow stores NaN as 0 with is_nan set (±inf as ±max double, which reads back as such).
    return math.nan if is_nan else float(value)


class MlflowSqlSource:
    def __init__(self, uri: str):
        self.uri = uri
        db_uri = resolve_db_uri(uri)[0] if uri.startswith(("postgres", "sqlite")) else uri
        self._engine = sa.create_engine(db_uri)
        meta = sa.MetaData()
        try:
            meta.reflect(self._engine, only=lambda name, _: name in REQUIRED + OPTIONAL)
        except sa.exc.OperationalError as e:
            raise MlflowException.invalid_parameter_value(f"Cannot read the MLflow database {uri}: {e}") from e
        missing = [name for name in REQUIRED if name not in meta.tables]
        if missing:
            raise MlflowException.invalid_parameter_value(
                f"{uri} is not an MLflow tracking database: it has no table {', '.join(missing)}.")
        self._t = meta.tables

    def experiments(self) -> list[Experiment]:
        exp, tags = self._t["experiments"], self._t["experiment_tags"]
        with self._engine.connect() as conn:
            tag_rows = defaultdict(list)
            for row in conn.execute(sa.select(tags.c.experiment_id, tags.c.key, tags.c.value)):
                tag_rows[row.experiment_id].append(ExperimentTag(row.key, row.value))
            rows = conn.execute(sa.select(exp).order_by(exp.c.experiment_id)).all()
        return [Experiment(str(r.experiment_id), r.name, r.artifact_location, r.lifecycle_stage,
                           tag_rows.get(r.experiment_id, []), r.creation_time, r.last_update_time) for r in rows]

    def runs(self, experiment_id: str) -> Iterator[Run]:
        runs = self._t["runs"]
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(runs).where(runs.c.experiment_id == int(experiment_id))
                                .order_by(runs.c.start_time, runs.c.run_uuid)).all()
        for start in range(0, len(rows), CHUNK):
            yield from self._load(rows[start:start + CHUNK])

    def _load(self, rows) -> list[Run]:
        ids = [r.run_uuid for r in rows]
        params, tags, latest = defaultdict(list), defaultdict(list), defaultdict(list)
        t = self._t
        with self._engine.connect() as conn:
            for r in conn.execute(sa.select(t["params"]).where(t["params"].c.run_uuid.in_(ids))):
                params[r.run_uuid].append(Param(r.key, r.value))
            for r in conn.execute(sa.select(t["tags"]).where(t["tags"].c.run_uuid.in_(ids))):
                tags[r.run_uuid].append(RunTag(r.key, r.value))
            lm = t["latest_metrics"]
            for r in conn.execute(sa.select(lm).where(lm.c.run_uuid.in_(ids))):
                latest[r.run_uuid].append(Metric(r.key, _metric_value(r.value, r.is_nan), r.timestamp, r.step))
            inputs = self._inputs(conn, ids)
        return [Run(RunInfo(r.run_uuid, str(r.experiment_id), r.user_id, r.status, r.start_time, r.end_time,
                            r.lifecycle_stage, r.artifact_uri, r.name),
                    RunData(latest[r.run_uuid], params[r.run_uuid], tags[r.run_uuid]),
                    RunInputs(inputs.get(r.run_uuid, []))) for r in rows]

    def _inputs(self, conn, ids: list[str]) -> dict[str, list[DatasetInput]]:
        if not all(name in self._t for name in OPTIONAL):
            return {}  # an MLflow older than 2.4: no datasets
        ds, inp, itags = self._t["datasets"], self._t["inputs"], self._t["input_tags"]
        rows = conn.execute(
            sa.select(inp.c.input_uuid, inp.c.destination_id, ds)
            .join(ds, ds.c.dataset_uuid == inp.c.source_id)
            .where(inp.c.source_type == "DATASET", inp.c.destination_type == "RUN", inp.c.destination_id.in_(ids))
            .order_by(inp.c.input_uuid)).all()
        tag_rows = defaultdict(list)
        if rows:
            for r in conn.execute(sa.select(itags).where(itags.c.input_uuid.in_([r.input_uuid for r in rows]))):
                tag_rows[r.input_uuid].append(InputTag(r.name, r.value))
        found = defaultdict(list)
        for r in rows:
            dataset = Dataset(r.name, r.digest, r.dataset_source_type, r.dataset_source, r.dataset_schema,
                              r.dataset_profile)
            found[r.destination_id].append(DatasetInput(dataset, tag_rows.get(r.input_uuid, [])))
        return found

    def metric_history(self, run: Run) -> History:
        m = self._t["metrics"]
        history: History = defaultdict(list)
        with self._engine.connect() as conn:
            result = conn.execute(sa.select(m.c.key, m.c.value, m.c.timestamp, m.c.step, m.c.is_nan)
                                  .where(m.c.run_uuid == run.info.run_id))
            for key, value, timestamp, step, is_nan in result:
                history[key].append((_metric_value(value, is_nan), timestamp, step))
        return dict(history)

    def metric_histories(self, runs: list[Run]) -> dict[str, History]:
        return {run.info.run_id: self.metric_history(run) for run in runs}

    def artifact_repository(self, run: Run):
        uri = run.info.artifact_uri
        if not uri:
            return None
        if uri.startswith("mlflow-artifacts:"):
            raise MlflowException.invalid_parameter_value(
                f"Run {run.info.run_id}'s artifacts are served by an MLflow server ({uri}): import from that "
                "server's URL instead of its database, so the artifacts can be read.")
        return client_repository(uri)

    def close(self) -> None:
        self._engine.dispose()
