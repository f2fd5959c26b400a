"""Compile parsed filters and order_by items to SQLAlchemy expressions over ``schema`` tables.

Semantics follow MLflow's ``_get_sqlalchemy_filter_clauses`` / ``_get_orderby_clauses``
(``mlflow/store/tracking/sqlalchemy_store.py``): metric filters compare the latest value and a NaN latest
value only satisfies ``!=``; ``attributes.run_name`` matches the ``mlflow.runName`` tag; missing values sort
last and NaN after real values; ``start_time DESC, run_id ASC`` is the tiebreak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from asyncclient.exceptions import MlflowException
from asyncclient.store import schema as t
from asyncclient.store.search.parser import (
    ATTRIBUTE,
    DATASET,
    EXPERIMENTS,
    METRIC,
    PARAM,
    RUNS,
    TAG,
    Clause,
    parse_filter,
    parse_order_by,
)

RUN_NAME_TAG = "mlflow.runName"
DATASET_CONTEXT_TAG = "mlflow.data.context"

_RUN_COLUMNS = {
    "run_id": t.runs.c.run_uuid, "run_name": t.runs.c.run_name, "status": t.runs.c.status,
    "user_id": t.runs.c.user_id, "artifact_uri": t.runs.c.artifact_uri, "start_time": t.runs.c.start_time,
    "end_time": t.runs.c.end_time,
}


def compare(column: ColumnElement, comparator: str, value) -> ColumnElement:
    """``column <comparator> value`` as a bound-parameter expression (``SearchUtils.get_sql_comparison_func``)."""
    if comparator == "=":
        return column == value
    if comparator == "!=":
        return column != value
    if comparator == "<":
        return column < value
    if comparator == "<=":
        return column <= value
    if comparator == ">":
        return column > value
    if comparator == ">=":
        return column >= value
    if comparator == "LIKE":
        return column.like(value)
    if comparator == "ILIKE":
        return column.ilike(value)
    if comparator == "IN":
        return column.in_(value)
    if comparator == "NOT IN":
        return column.not_in(value)
    raise MlflowException.invalid_parameter_value(f"Invalid comparator '{comparator}'")


def metric_key_id(key: str) -> ColumnElement:
    """The interned id of a metric key, looked up inside the query (NULL, matching nothing, if unknown)."""
    return sa.select(t.metric_keys.c.key_id).where(t.metric_keys.c.key == key).scalar_subquery()


def _exists_for_run(table: sa.Table, *conditions: ColumnElement) -> ColumnElement:
    return sa.exists().where(table.c.run_uuid == t.runs.c.run_uuid, *conditions)


def _clause_condition(clause: Clause) -> ColumnElement:
    kind, key, op, value = clause.type, clause.key, clause.comparator, clause.value
    if kind == METRIC:
        lm = t.latest_metrics
        # NaN is stored as 0 with is_nan: the placeholder must never satisfy a comparison, except "!=".
        if op == "!=":
            value_cond = sa.or_(lm.c.value != value, lm.c.is_nan == sa.true())
        else:
            value_cond = sa.and_(compare(lm.c.value, op, value), lm.c.is_nan == sa.false())
        return _exists_for_run(lm, lm.c.key_id == metric_key_id(key), value_cond)
    if kind in (PARAM, TAG):
        table = t.params if kind == PARAM else t.tags
        if op == "IS NULL":
            return ~_exists_for_run(table, table.c.key == key)
        if op == "IS NOT NULL":
            return _exists_for_run(table, table.c.key == key)
        return _exists_for_run(table, table.c.key == key, compare(table.c.value, op, value))
    if kind == ATTRIBUTE:
        if key == "run_name":
            return _exists_for_run(t.tags, t.tags.c.key == RUN_NAME_TAG, compare(t.tags.c.value, op, value))
        return compare(_RUN_COLUMNS[key], op, value)
    if kind == DATASET:
        edge = t.inputs.join(t.datasets, t.inputs.c.source_id == t.datasets.c.dataset_uuid)
        where = [t.inputs.c.destination_type == "RUN", t.inputs.c.destination_id == t.runs.c.run_uuid]
        if key == "context":
            edge = edge.join(t.input_tags, t.input_tags.c.input_uuid == t.inputs.c.input_uuid)
            where += [t.input_tags.c.name == DATASET_CONTEXT_TAG, compare(t.input_tags.c.value, op, value)]
        else:
            where.append(compare(t.datasets.c[key], op, value))
        return sa.exists(sa.select(sa.literal(1)).select_from(edge).where(*where))
    raise MlflowException.invalid_parameter_value(f"Invalid search expression type '{kind}'")


def run_filter_conditions(filter_string: str | None) -> list[ColumnElement]:
    """WHERE conditions over ``runs`` for a ``search_runs`` filter string."""
    return [_clause_condition(c) for c in parse_filter(filter_string, RUNS)]


@dataclass
class RunOrdering:
    """ORDER BY terms for ``search_runs`` plus the outer joins they need."""

    joins: list[tuple[sa.FromClause, ColumnElement]] = field(default_factory=list)
    terms: list[ColumnElement] = field(default_factory=list)


def run_ordering(order_by: Sequence[str] | None) -> RunOrdering:
    """MLflow's ``_get_orderby_clauses``: missing last, NaN after real values, then the tiebreak."""
    ordering = RunOrdering()
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(order_by or []):
        parsed = parse_order_by(item, RUNS)
        if (parsed.type, parsed.key) in seen:
            raise MlflowException.invalid_parameter_value(f"`order_by` contains duplicate fields: {list(order_by)}")
        seen.add((parsed.type, parsed.key))
        if parsed.type == ATTRIBUTE:
            value = _RUN_COLUMNS[parsed.key]
            rank = sa.case((value.is_(None), 1), else_=0)
        elif parsed.type == METRIC:
            lm = t.latest_metrics.alias(f"order_{index}")
            ordering.joins.append((lm, sa.and_(lm.c.run_uuid == t.runs.c.run_uuid,
                                               lm.c.key_id == metric_key_id(parsed.key))))
            value = lm.c.value
            rank = sa.case((lm.c.is_nan == sa.true(), 1), (value.is_(None), 2), else_=0)
        else:
            table = (t.params if parsed.type == PARAM else t.tags).alias(f"order_{index}")
            ordering.joins.append((table, sa.and_(table.c.run_uuid == t.runs.c.run_uuid,
                                                  table.c.key == parsed.key)))
            value = table.c.value
            rank = sa.case((value.is_(None), 1), else_=0)
        ordering.terms += [rank, value if parsed.ascending else value.desc()]
    if (ATTRIBUTE, "start_time") not in seen:
        ordering.terms.append(t.runs.c.start_time.desc())
    ordering.terms.append(t.runs.c.run_uuid)
    return ordering


# ---- experiments ----

_EXPERIMENT_COLUMNS = {
    "name": t.experiments.c.name, "experiment_id": t.experiments.c.experiment_id,
    "creation_time": t.experiments.c.creation_time, "last_update_time": t.experiments.c.last_update_time,
}


def parse_experiment_id(experiment_id) -> int:
    """MLflow's ``_parse_experiment_id``: SQL experiment ids are integers."""
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        raise MlflowException.invalid_parameter_value(
            f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer.") from None


def experiment_filter_conditions(filter_string: str | None) -> list[ColumnElement]:
    """WHERE conditions over ``experiments`` (MLflow's ``_get_search_experiments_filter_clauses``)."""
    conditions = []
    for clause in parse_filter(filter_string, EXPERIMENTS):
        op, value = clause.comparator, clause.value
        if clause.type == ATTRIBUTE:
            if clause.key == "experiment_id":
                value = tuple(map(parse_experiment_id, value)) if isinstance(value, tuple) else parse_experiment_id(value)
            elif clause.key in ("creation_time", "last_update_time") and isinstance(value, float):
                raise MlflowException.invalid_parameter_value(
                    f"Invalid value for numeric attribute '{clause.key}': {str(value)!r}")
            conditions.append(compare(_EXPERIMENT_COLUMNS[clause.key], op, value))
            continue
        tags = t.experiment_tags
        owned = [tags.c.experiment_id == t.experiments.c.experiment_id, tags.c.key == clause.key]
        if op == "IS NULL":
            conditions.append(~sa.exists().where(*owned))
        elif op == "IS NOT NULL":
            conditions.append(sa.exists().where(*owned))
        else:
            conditions.append(sa.exists().where(*owned, compare(tags.c.value, op, value)))
    return conditions


def experiment_ordering(order_by: Sequence[str] | None) -> list[ColumnElement]:
    """MLflow's ``_get_search_experiments_order_by_clauses``, with the experiment_id tiebreak."""
    terms, has_id = [], False
    for item in order_by or ["creation_time DESC", "experiment_id ASC"]:
        parsed = parse_order_by(item, EXPERIMENTS)
        if parsed.type != ATTRIBUTE:
            raise MlflowException.invalid_parameter_value(f"Invalid order_by entity: {parsed.type}")
        column = _EXPERIMENT_COLUMNS[parsed.key]
        has_id = has_id or parsed.key == "experiment_id"
        terms.append(column.asc() if parsed.ascending else column.desc())
    if not has_id:
        terms.append(t.experiments.c.experiment_id.asc())
    return terms
