"""The filter / order_by grammar: identifiers, aliases, quoting, comparators, values and error messages."""

import pytest

from asyncclient.exceptions import MlflowException
from asyncclient.store.search import Clause, OrderBy, parse_filter, parse_order_by


def test_conjunction_of_clauses_with_entity_aliases():
    assert parse_filter("metrics.loss < 0.5 and param.lr = '0.1' AND tags.t != \"x\"") == [
        Clause("metric", "loss", "<", 0.5), Clause("parameter", "lr", "=", "0.1"), Clause("tag", "t", "!=", "x")]


def test_backtick_and_double_quoted_keys():
    assert parse_filter("metrics.`my metric` >= 1 AND tags.\"mlflow.runName\" LIKE 'a%'") == [
        Clause("metric", "my metric", ">=", 1.0), Clause("tag", "mlflow.runName", "LIKE", "a%")]


def test_dotted_key_after_the_entity_is_one_key():
    assert parse_filter("metrics.a.b.c = 1") == [Clause("metric", "a.b.c", "=", 1.0)]


def test_attribute_aliases_translate_to_columns():
    assert parse_filter("created > 5 and attributes.`Run Name` = 'x'") == [
        Clause("attribute", "start_time", ">", 5), Clause("attribute", "run_name", "=", "x")]


def test_in_and_not_in_lists_for_run_id_and_datasets():
    assert parse_filter("run_id IN ('a', 'b') AND datasets.digest NOT IN ('d',)") == [
        Clause("attribute", "run_id", "IN", ("a", "b")), Clause("dataset", "digest", "NOT IN", ("d",))]


def test_is_null_and_is_not_null_for_params_and_tags():
    assert parse_filter("params.p IS NULL and tags.t is not null") == [
        Clause("parameter", "p", "IS NULL", None), Clause("tag", "t", "IS NOT NULL", None)]


@pytest.mark.parametrize("text,needle", [
    ("metrics.a > 1 OR metrics.b > 1", "'OR'"),
    ("(metrics.a > 1)", "'('"),
    ("metrics.a > 'x'", "x"),
    ("params.p = 1", "1"),
    ("bogus.k = 'x'", "bogus"),
    ("metrics.a ~ 1", "'~'"),
    ("metrics.a IS NULL", "IS NULL"),
    ("status IN ('x')", "list"),
    ("metrics.a > 1 metrics.b > 2", "metrics.b"),
    ("metrics.a >", "value"),
])
def test_errors_are_invalid_parameter_value_naming_the_offending_token(text, needle):
    with pytest.raises(MlflowException) as err:
        parse_filter(text)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert needle in err.value.message


def test_order_by_with_direction_and_default_ascending():
    assert parse_order_by("metrics.`a b` DESC") == OrderBy("metric", "a b", False)
    assert parse_order_by("start_time") == OrderBy("attribute", "start_time", True)


@pytest.mark.parametrize("text", ["metrics.a DESC DESC", "metrics.a sideways", "", "run name", "datasets.name"])
def test_bad_order_by_is_invalid_parameter_value(text):
    with pytest.raises(MlflowException) as err:
        parse_order_by(text)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
