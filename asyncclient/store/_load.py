"""Rows to entities: runs with their latest metrics, params, tags and dataset inputs, fetched in bulk.

One query per child table for a whole page of runs, where MLflow's ORM eager-loads per relationship.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from asyncclient.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
)
from asyncclient.store import schema as t

# Bounded IN lists: SQLite limits bound parameters per statement.
_CHUNK = 500

RUN_COLUMNS = (
    t.runs.c.run_uuid, t.runs.c.experiment_id, t.runs.c.user_id, t.runs.c.status, t.runs.c.start_time,
    t.runs.c.end_time, t.runs.c.lifecycle_stage, t.runs.c.artifact_uri, t.runs.c.run_name,
)


def metric_value(value: float, is_nan: bool) -> float:
    """NaN is stored as 0 plus ``is_nan`` (as MLflow's SQL store) and read back as NaN."""
    return float("nan") if is_nan else value


def _chunks(items: Sequence[str]):
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def run_info_from_row(row: Row) -> RunInfo:
    return RunInfo(
        run_id=row.run_uuid, experiment_id=str(row.experiment_id), user_id=row.user_id, status=row.status,
        start_time=row.start_time, end_time=row.end_time, lifecycle_stage=row.lifecycle_stage,
        artifact_uri=row.artifact_uri, run_name=row.run_name,
    )


def load_inputs(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[DatasetInput]]:
    """Dataset inputs per run (MLflow's ``_get_run_inputs``)."""
    result: dict[str, list[DatasetInput]] = defaultdict(list)
    for chunk in _chunks(run_ids):
        edges = conn.execute(
            sa.select(t.inputs.c.input_uuid, t.inputs.c.destination_id, t.datasets)
            .join(t.datasets, t.datasets.c.dataset_uuid == t.inputs.c.source_id)
            .where(t.inputs.c.destination_type == "RUN", t.inputs.c.destination_id.in_(chunk))
            .order_by(t.inputs.c.destination_id, t.datasets.c.name, t.datasets.c.digest)
        ).all()
        if not edges:
            continue
        tags: dict[str, list[InputTag]] = defaultdict(list)
        for row in conn.execute(sa.select(t.input_tags).where(
                t.input_tags.c.input_uuid.in_([e.input_uuid for e in edges])).order_by(t.input_tags.c.name)):
            tags[row.input_uuid].append(InputTag(row.name, row.value))
        for e in edges:
            dataset = Dataset(e.name, e.digest, e.dataset_source_type, e.dataset_source, e.dataset_schema,
                              e.dataset_profile)
            result[e.destination_id].append(DatasetInput(dataset, tags.get(e.input_uuid, [])))
    return result


def load_runs(conn: Connection, rows: Sequence[Row]) -> list[Run]:
    """Full ``Run`` entities for run rows (selected with ``RUN_COLUMNS``), in the order given."""
    run_ids = [r.run_uuid for r in rows]
    metrics: dict[str, list[Metric]] = defaultdict(list)
    params: dict[str, list[Param]] = defaultdict(list)
    tags: dict[str, list[RunTag]] = defaultdict(list)
    lm = t.latest_metrics
    key_names = dict(conn.execute(sa.select(t.metric_keys.c.key_id, t.metric_keys.c.key)).all())
    nan = float("nan")
    for chunk in _chunks(run_ids):
        # Plain tuples, not Row attribute access: this loop builds ~20 objects per run of the page.
        for run_uuid, key_id, value, ts, step, is_nan in conn.execute(
            sa.select(lm.c.run_uuid, lm.c.key_id, lm.c.value, lm.c.timestamp, lm.c.step, lm.c.is_nan)
            .where(lm.c.run_uuid.in_(chunk))
        ):
            metrics[run_uuid].append(Metric(key_names[key_id], nan if is_nan else value, ts, step, run_uuid))
        for run_uuid, key, value in conn.execute(
                sa.select(t.params.c.run_uuid, t.params.c.key, t.params.c.value)
                .where(t.params.c.run_uuid.in_(chunk))):
            params[run_uuid].append(Param(key, value))
        for run_uuid, key, value in conn.execute(
                sa.select(t.tags.c.run_uuid, t.tags.c.key, t.tags.c.value)
                .where(t.tags.c.run_uuid.in_(chunk))):
            tags[run_uuid].append(RunTag(key, value))
    inputs = load_inputs(conn, run_ids)
    return [
        Run(run_info_from_row(r), RunData(metrics[r.run_uuid], params[r.run_uuid], tags[r.run_uuid]),
            RunInputs(inputs.get(r.run_uuid, [])))
        for r in rows
    ]


def load_experiments(conn: Connection, rows: Sequence[Row]) -> list[Experiment]:
    """``Experiment`` entities with their tags, in the order given."""
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    ids = [r.experiment_id for r in rows]
    for i in range(0, len(ids), _CHUNK):
        for r in conn.execute(sa.select(t.experiment_tags).where(
                t.experiment_tags.c.experiment_id.in_(ids[i:i + _CHUNK]))):
            tags[r.experiment_id][r.key] = r.value
    return [
        Experiment(str(r.experiment_id), r.name, r.artifact_location, r.lifecycle_stage,
                   tags.get(r.experiment_id, {}), r.creation_time, r.last_update_time)
        for r in rows
    ]
