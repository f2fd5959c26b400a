"""Property tests: any filter / order_by string either parses or fails with a clean INVALID_PARAMETER_VALUE,
and nothing a user writes reaches the database as SQL (tables and row counts survive every search)."""

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncclient.entities import Metric, Param, RunTag
from asyncclient.exceptions import MlflowException
from asyncclient.store import schema
from asyncclient.store.search import parse_filter, parse_order_by

_PIECES = [
    "metrics.loss", "params.lr", "tags.team", "attributes.status", "run_id", "datasets.name", "start_time",
    "metrics.`a b`", 'tags."x"', "=", "!=", "<", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL",
    "AND", "OR", "(", ")", ",", "'x'", "'%'", "1", "-2.5", "1e3", "'; DROP TABLE runs; --", "\"q\"", "`", "'",
    "DESC", "ASC", ";", "--", "/*", "NULL", "\\", "'a''b'",
]
_structured = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8).map(" ".join)
_any_text = st.one_of(_structured, st.text(max_size=40))


@settings(max_examples=400, deadline=None)
@given(_any_text)
def test_filter_parses_or_raises_invalid_parameter_value(text):
    try:
        clauses = parse_filter(text)
    except MlflowException as e:
        assert e.error_code == "INVALID_PARAMETER_VALUE"
    else:
        assert isinstance(clauses, list)


@settings(max_examples=300, deadline=None)
@given(_any_text)
def test_order_by_parses_or_raises_invalid_parameter_value(text):
    try:
        parse_order_by(text)
    except MlflowException as e:
        assert e.error_code == "INVALID_PARAMETER_VALUE"


def _row_counts(store):
    with store.engine.connect() as conn:
        return {name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                for name, table in schema.metadata.tables.items()}


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory):
    from asyncclient.store import SqlStore

    tmp = tmp_path_factory.mktemp("props")
    store = SqlStore(f"sqlite:///{tmp / 'p.db'}", f"file://{tmp}")
    for i in range(5):
        run_id = store.create_run("0", "u", i, [RunTag("team", "red")], None).info.run_id
        store.log_batch(run_id, [Metric("loss", i / 5, 1, 0)], [Param("lr", str(i))], [])
    yield store
    store.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filter_string=_any_text, order=st.lists(_any_text, max_size=2))
def test_search_runs_never_errors_otherwise_and_never_changes_data(loaded_store, filter_string, order):
    before = _row_counts(loaded_store)
    try:
        result = loaded_store.search_runs(["0"], filter_string, order_by=order)
    except MlflowException as e:
        assert e.error_code == "INVALID_PARAMETER_VALUE", e.message
    else:
        assert len(result) <= 5
    assert _row_counts(loaded_store) == before


@pytest.mark.parametrize("payload", [
    "params.lr = '1'' OR ''1''=''1'", "tags.team = 'x'; DROP TABLE runs; --", "params.lr = '\\' OR 1=1 --'",
    "metrics.loss > 0 AND params.lr LIKE '%' UNION SELECT * FROM runs",
])
def test_injection_attempts_match_literally_or_fail_cleanly(loaded_store, payload):
    before = _row_counts(loaded_store)
    try:
        result = loaded_store.search_runs(["0"], payload)
        assert len(result) == 0  # the quote tricks are compared as literal text, which matches nothing
    except MlflowException as e:
        assert e.error_code == "INVALID_PARAMETER_VALUE"
    assert _row_counts(loaded_store) == before
