"""Filters and orderings of ``search_logged_models``, ``search_registered_models`` and
``search_model_versions``, parsed with the shared grammar parser and compiled to SQLAlchemy.

Identifiers and comparators are MLflow's ``SearchLoggedModelsUtils``, ``SearchModelUtils`` and
``SearchModelVersionUtils``; the SQL semantics are those of MLflow's SQL stores (names cited per function).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from asyncclient.entities import LoggedModelStatus
from asyncclient.exceptions import MlflowException
from asyncclient.store import schema as t
from asyncclient.store.search.compiler import compare
from asyncclient.store.search.parser import (
    _LIST_COMPARATORS,
    _NUMERIC_COMPARATORS,
    _STRING_COMPARATORS,
    ATTRIBUTE,
    METRIC,
    PARAM,
    TAG,
    RunSearchGrammar,
    parse_filter,
    parse_order_by,
)
from asyncclient.store.search.tokens import Token

IS_PROMPT_TAG = "mlflow.prompt.is_prompt"
STAGE_DELETED_INTERNAL = "Deleted_Internal"


def _error(message: str) -> MlflowException:
    return MlflowException.invalid_parameter_value(message)


class LoggedModelGrammar(RunSearchGrammar):
    """``SearchLoggedModelsUtils``: attributes, metrics, params and tags of logged models."""

    ENTITY_ALIASES: ClassVar[dict[str, str]] = {
        "attribute": ATTRIBUTE, "attributes": ATTRIBUTE, "attr": ATTRIBUTE,
        "metric": METRIC, "metrics": METRIC,
        "param": PARAM, "params": PARAM, "parameter": PARAM, "parameters": PARAM,
        "tag": TAG, "tags": TAG,
    }
    KEY_ALIASES: ClassVar[dict[str, str]] = {"creation_time": "creation_timestamp",
                                             "last_updated_time": "last_updated_timestamp"}
    NUMERIC_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset(
        {"creation_timestamp", "creation_time", "last_updated_timestamp", "last_updated_time"})
    STRING_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({"name", "model_id", "model_type", "status",
                                                             "source_run_id"})
    ORDER_BY_ATTRIBUTES: ClassVar[frozenset[str]] = NUMERIC_ATTRIBUTES | STRING_ATTRIBUTES
    LIST_KEYS: ClassVar[frozenset[str]] = frozenset({"name", "model_id", "model_type", "status", "source_run_id"})
    NULL_TYPES: ClassVar[frozenset[str]] = frozenset()

    def entity(self, name: str, token: Token) -> str:
        try:
            return self.ENTITY_ALIASES[name]
        except KeyError:
            raise _error(f"Invalid entity type '{name}' in '{token.text}'. Valid values are "
                         "['attribute', 'metric', 'param', 'tag']") from None

    def comparators(self, type_: str, key: str) -> frozenset[str]:
        if type_ == METRIC or key in self.NUMERIC_ATTRIBUTES:
            return _NUMERIC_COMPARATORS
        if type_ == ATTRIBUTE:
            return _STRING_COMPARATORS | _LIST_COMPARATORS
        return _STRING_COMPARATORS


class RegisteredModelGrammar(RunSearchGrammar):
    """``SearchModelUtils``: ``name`` and tags; order by name or timestamps."""

    ENTITY_ALIASES: ClassVar[dict[str, str]] = {"attribute": ATTRIBUTE, "attributes": ATTRIBUTE,
                                                "tag": TAG, "tags": TAG}
    KEY_ALIASES: ClassVar[dict[str, str]] = {"timestamp": "last_updated_timestamp"}
    NUMERIC_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset()
    STRING_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({"name"})
    ORDER_BY_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset(
        {"name", "timestamp", "last_updated_timestamp", "creation_timestamp"})
    LIST_KEYS: ClassVar[frozenset[str]] = frozenset({"name"})
    NULL_TYPES: ClassVar[frozenset[str]] = frozenset()

    def entity(self, name: str, token: Token) -> str:
        try:
            return self.ENTITY_ALIASES[name]
        except KeyError:
            raise _error(f"Invalid entity type '{name}' in '{token.text}'. Valid values are "
                         "['attribute', 'tag']") from None

    def comparators(self, type_: str, key: str) -> frozenset[str]:
        if type_ == ATTRIBUTE:
            if key in self.NUMERIC_ATTRIBUTES:
                return _NUMERIC_COMPARATORS
            return _STRING_COMPARATORS | (_LIST_COMPARATORS if key in self.LIST_KEYS else frozenset())
        return _STRING_COMPARATORS


class ModelVersionGrammar(RegisteredModelGrammar):
    """``SearchModelVersionUtils``: name, version_number, run_id, source_path, timestamps and tags."""

    NUMERIC_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset(
        {"version_number", "creation_timestamp", "last_updated_timestamp"})
    STRING_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({"name", "run_id", "source_path"})
    ORDER_BY_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset(
        {"name", "version_number", "creation_timestamp", "last_updated_timestamp", "timestamp"})
    LIST_KEYS: ClassVar[frozenset[str]] = frozenset({"name", "run_id"})


LOGGED_MODELS = LoggedModelGrammar()
REGISTERED_MODELS = RegisteredModelGrammar()
MODEL_VERSIONS = ModelVersionGrammar()


# ---- logged models ----

_LM = t.logged_models
_LOGGED_MODEL_COLUMNS = {
    "name": _LM.c.name, "model_id": _LM.c.model_id, "model_type": _LM.c.model_type, "status": _LM.c.status,
    "source_run_id": _LM.c.source_run_id, "creation_timestamp": _LM.c.creation_timestamp_ms,
    "last_updated_timestamp": _LM.c.last_updated_timestamp_ms,
}


def _status_number(value: Any) -> Any:
    """``status = 'READY'`` or ``'LOGGED_MODEL_READY'``: the stored enum number."""
    def one(v: str) -> int:
        names = LoggedModelStatus._NAMES
        number = names.get(v, names.get(f"LOGGED_MODEL_{v}", names.get(f"LOGGED_MODEL_{v}".upper())))
        if number is None:
            raise _error(f"Invalid logged model status '{v}'. Valid values are {sorted(names)}")
        return number
    return tuple(one(v) for v in value) if isinstance(value, tuple) else one(value)


def _dataset_conditions(datasets: Sequence[dict] | None, m: sa.FromClause | None = None) -> list[ColumnElement]:
    m = t.logged_model_metrics if m is None else m
    ors = []
    for d in datasets or []:
        cond = m.c.dataset_name == d["dataset_name"]
        if d.get("dataset_digest"):
            cond = sa.and_(cond, m.c.dataset_digest == d["dataset_digest"])
        ors.append(cond)
    return [sa.or_(*ors)] if ors else []


def _key_equals(column: ColumnElement, key: str, sqlite: bool) -> ColumnElement:
    """``column = key``, on SQLite written so that no index can lead with ``column``.

    The child-table filters below are correlated on ``model_id``: answered by a seek on the
    ``(model_id, key ...)`` primary key they cost a few microseconds per model. Given a plain ``key = ?``
    SQLite prefers the ``(metric_name, metric_value)`` index instead and scans it once per model.
    PostgreSQL plans these as joins and needs the plain form for its row estimates.
    """
    return column.concat("") == key if sqlite else column == key


def logged_model_filter_conditions(filter_string: str | None, datasets: Sequence[dict] | None = None,
                                   sqlite: bool = True) -> list[ColumnElement]:
    """WHERE conditions over ``logged_models`` (``_apply_filter_string_datasets_search_logged_models``):
    a metric clause matches when any point of that metric (on the given datasets) satisfies it. Each child
    condition is an EXISTS correlated on the model, so a search that stops after one page only checks the
    models it walks."""
    conditions: list[ColumnElement] = []
    clauses = parse_filter(filter_string, LOGGED_MODELS)
    for clause in clauses:
        op, value = clause.comparator, clause.value
        if clause.type == ATTRIBUTE:
            if clause.key == "status":
                value = _status_number(value)
            conditions.append(compare(_LOGGED_MODEL_COLUMNS[clause.key], op, value))
        elif clause.type == METRIC:
            m = t.logged_model_metrics.alias()
            conditions.append(sa.exists().where(
                m.c.model_id == _LM.c.model_id, _key_equals(m.c.metric_name, clause.key, sqlite),
                compare(m.c.metric_value, op, value), *_dataset_conditions(datasets, m)))
        else:
            table, key_col, value_col = (
                (t.logged_model_params, "param_key", "param_value") if clause.type == PARAM
                else (t.logged_model_tags, "tag_key", "tag_value"))
            conditions.append(sa.exists().where(
                table.c.model_id == _LM.c.model_id, _key_equals(table.c[key_col], clause.key, sqlite),
                compare(table.c[value_col], op, value)))
    if datasets and not any(c.type == METRIC for c in clauses):
        # Datasets alone select the models having metrics on them, as in MLflow.
        m = t.logged_model_metrics.alias()
        conditions.append(sa.exists().where(m.c.model_id == _LM.c.model_id, *_dataset_conditions(datasets, m)))
    return conditions


def latest_metric_walk(order: dict) -> tuple[sa.FromClause, list[ColumnElement], ColumnElement]:
    """(source, conditions, value) to read models in the order of their latest ``metrics.<key>`` value by
    walking the ``(metric_name, metric_value)`` index, instead of computing every model's latest value and
    sorting them all: only the points that are their model's latest (MLflow's timestamp DESC, step DESC,
    run_id ASC) and not NULL (NaN) qualify, so models lacking the metric are not in this walk."""
    m = t.logged_model_metrics.alias("walk")
    later = t.logged_model_metrics.alias("later")
    key = order["field_name"].split(".", 1)[1]
    datasets = [{"dataset_name": order["dataset_name"], "dataset_digest": order.get("dataset_digest")}] \
        if order.get("dataset_name") else None
    conditions = [
        m.c.metric_name == key, m.c.metric_value.is_not(None), *_dataset_conditions(datasets, m),
        ~sa.exists().where(
            later.c.model_id == m.c.model_id, later.c.metric_name == m.c.metric_name,
            *_dataset_conditions(datasets, later),
            sa.or_(later.c.metric_timestamp_ms > m.c.metric_timestamp_ms,
                   sa.and_(later.c.metric_timestamp_ms == m.c.metric_timestamp_ms,
                           sa.or_(later.c.metric_step > m.c.metric_step,
                                  sa.and_(later.c.metric_step == m.c.metric_step, later.c.run_id < m.c.run_id))))),
    ]
    return _LM.join(m, m.c.model_id == _LM.c.model_id), conditions, m.c.metric_value


def logged_model_ordering(order_by: Sequence[dict] | None) -> list[ColumnElement]:
    """ORDER BY terms (``_apply_order_by_search_logged_models``): attributes or ``metrics.<key>`` (its
    latest point, optionally on a dataset); missing values last; then ``creation_timestamp DESC, model_id
    ASC`` unless already ordered by them."""
    terms: list[ColumnElement] = []
    has_created = has_id = False
    for ob in order_by or []:
        field_name = ob.get("field_name") or ""
        ascending = ob.get("ascending", True)
        if "." not in field_name:
            key = LOGGED_MODELS.KEY_ALIASES.get(field_name, field_name)
            column = _LOGGED_MODEL_COLUMNS.get(key)
            if column is None:
                raise _error(f"Invalid order by field name: {field_name}")
            has_created = has_created or key == "creation_timestamp"
            has_id = has_id or key == "model_id"
            terms += [sa.case((column.is_(None), 1), else_=0), column.asc() if ascending else column.desc()]
            continue
        entity, key = field_name.split(".", 1)
        if entity not in ("metric", "metrics"):
            raise _error(f"Invalid order by field name: {field_name}. Only metrics are supported.")
        m = t.logged_model_metrics
        filters = [m.c.model_id == _LM.c.model_id, m.c.metric_name == key]
        if ob.get("dataset_name"):
            filters.append(m.c.dataset_name == ob["dataset_name"])
        if ob.get("dataset_digest"):
            filters.append(m.c.dataset_digest == ob["dataset_digest"])
        # The latest point per model: a correlated subquery answered by a seek on the metrics primary key
        # (model_id, metric_name, ...), where MLflow ranks every point of the metric with a window function.
        value = (sa.select(m.c.metric_value).where(*filters)
                 .order_by(m.c.metric_timestamp_ms.desc(), m.c.metric_step.desc(), m.c.run_id.asc())
                 .limit(1).scalar_subquery())
        # NULLS LAST (SQLite >= 3.30, PostgreSQL) evaluates the subquery once, where CASE ... IS NULL
        # would evaluate it a second time per row.
        terms.append((value.asc() if ascending else value.desc()).nulls_last())
    if not has_created:
        terms.append(_LM.c.creation_timestamp_ms.desc())
    if not has_id:
        terms.append(_LM.c.model_id.asc())
    return terms


# ---- registered models ----

def _tag_conditions(clause, tags: sa.Table, owner: list[ColumnElement]) -> ColumnElement:
    return sa.exists().where(*owner, tags.c.key == clause.key, compare(tags.c.value, clause.comparator, clause.value))


def _is_querying_prompts(clauses) -> bool:
    """MLflow's ``_is_querying_prompt``: prompts are registered models tagged ``mlflow.prompt.is_prompt``."""
    for c in clauses:
        if c.type == TAG and c.key == IS_PROMPT_TAG:
            return (c.comparator == "=" and str(c.value).lower() == "true") or (
                c.comparator == "!=" and str(c.value).lower() == "false")
    return False


def _prompt_names() -> sa.Select:
    """Names of the registered models that are prompts: one uncorrelated subquery answered from the tags'
    ``(key, value)`` index (prompts are few), instead of a tag lookup per model."""
    tags = t.registered_model_tags
    return sa.select(tags.c.name).where(tags.c.key == IS_PROMPT_TAG, tags.c.value == "true")


def registered_model_filter_conditions(filter_string: str | None) -> list[ColumnElement]:
    """WHERE conditions over ``registered_models`` (``_get_search_registered_model_filter_query``);
    prompts are excluded unless the filter asks for them, and the prompt tag clause itself only selects."""
    rm, tags = t.registered_models, t.registered_model_tags
    clauses = parse_filter(filter_string, REGISTERED_MODELS)
    owner = [tags.c.name == rm.c.name]
    conditions = []
    for clause in clauses:
        if clause.type == ATTRIBUTE:
            conditions.append(compare(rm.c.name, clause.comparator, clause.value))
        elif clause.key != IS_PROMPT_TAG:
            conditions.append(_tag_conditions(clause, tags, owner))
    prompt = rm.c.name.in_(_prompt_names())
    conditions.append(prompt if _is_querying_prompts(clauses) else ~prompt)
    return conditions


def registered_model_ordering(order_by: Sequence[str] | None) -> list[ColumnElement]:
    """``_parse_search_registered_models_order_by``: name ASC last unless given; duplicates refused."""
    rm = t.registered_models
    columns = {"name": rm.c.name, "last_updated_timestamp": rm.c.last_updated_time,
               "creation_timestamp": rm.c.creation_time}
    return _ordering(order_by, REGISTERED_MODELS, columns, [rm.c.name.asc()], {"name"})


def _ordering(order_by, grammar, columns, tiebreak, tiebreak_keys) -> list[ColumnElement]:
    terms, seen = [], set()
    for item in order_by or []:
        parsed = parse_order_by(item, grammar)
        if parsed.type != ATTRIBUTE:
            raise _error(f"Invalid order by key '{item}' specified. Valid keys are "
                         f"'{sorted(grammar.ORDER_BY_ATTRIBUTES)}'")
        if parsed.key in seen:
            raise MlflowException(f"`order_by` contains duplicate fields: {list(order_by)}")
        seen.add(parsed.key)
        column = columns[parsed.key]
        terms.append(column.asc() if parsed.ascending else column.desc())
    for key, term in zip(sorted(tiebreak_keys), tiebreak, strict=True):
        if key not in seen:
            terms.append(term)
    return terms


# ---- model versions ----

def model_version_filter_conditions(filter_string: str | None) -> list[ColumnElement]:
    """WHERE conditions over ``model_versions`` (``_get_search_model_versions_filter_clauses``);
    soft-deleted versions and versions of prompts are never returned unless prompts are asked for."""
    mv, tags = t.model_versions, t.model_version_tags
    columns = {"name": mv.c.name, "version_number": mv.c.version, "run_id": mv.c.run_id,
               "source_path": mv.c.source, "creation_timestamp": mv.c.creation_time,
               "last_updated_timestamp": mv.c.last_updated_time}
    clauses = parse_filter(filter_string, MODEL_VERSIONS)
    conditions: list[ColumnElement] = [mv.c.current_stage != STAGE_DELETED_INTERNAL]
    owner = [tags.c.name == mv.c.name, tags.c.version == mv.c.version]
    for clause in clauses:
        if clause.type == ATTRIBUTE:
            value = clause.value
            if clause.key == "version_number" and isinstance(value, float):
                value = int(value)
            conditions.append(compare(columns[clause.key], clause.comparator, value))
        elif clause.key != IS_PROMPT_TAG:
            conditions.append(_tag_conditions(clause, tags, owner))
    prompt = mv.c.name.in_(_prompt_names())
    conditions.append(prompt if _is_querying_prompts(clauses) else ~prompt)
    return conditions


def model_version_ordering(order_by: Sequence[str] | None) -> list[ColumnElement]:
    """``_parse_search_model_versions_order_by``; default ``last_updated_timestamp DESC, name ASC,
    version_number DESC``, with name and version tiebreaks."""
    mv = t.model_versions
    columns = {"name": mv.c.name, "version_number": mv.c.version, "creation_timestamp": mv.c.creation_time,
               "last_updated_timestamp": mv.c.last_updated_time}
    order_by = order_by or ["last_updated_timestamp DESC", "name ASC", "version_number DESC"]
    return _ordering(order_by, MODEL_VERSIONS, columns, [mv.c.name.asc(), mv.c.version.desc()],
                     {"name", "version_number"})
