"""Experiments: the default experiment, unique names, lifecycle cascade, tags, search."""

import pytest

from asyncclient.entities import ExperimentTag, LifecycleStage, ViewType
from asyncclient.exceptions import MlflowException


def test_default_experiment_zero_is_created_with_artifact_location_under_root(store, tmp_path):
    exp = store.get_experiment("0")
    assert (exp.name, exp.lifecycle_stage) == ("Default", "active")
    assert exp.artifact_location == f"file://{tmp_path / 'artifacts'}/0"


def test_create_experiment_returns_increasing_string_ids_and_default_location(store, tmp_path):
    first, second = store.create_experiment("a"), store.create_experiment("b")
    assert (first, second) == ("1", "2")
    assert store.get_experiment(second).artifact_location == f"file://{tmp_path / 'artifacts'}/2"


def test_explicit_artifact_location_and_tags_are_kept(store):
    exp_id = store.create_experiment("x", artifact_location="s3://bucket/x", tags=[ExperimentTag("k", "v")])
    exp = store.get_experiment(exp_id)
    assert exp.artifact_location == "s3://bucket/x"
    assert exp.tags == {"k": "v"}


def test_duplicate_name_is_resource_already_exists_even_when_deleted(store):
    exp_id = store.create_experiment("taken")
    store.delete_experiment(exp_id)
    with pytest.raises(MlflowException) as err:
        store.create_experiment("taken")
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert "Experiment(name=taken) already exists" in err.value.message


def test_get_unknown_experiment_is_resource_does_not_exist(store):
    with pytest.raises(MlflowException) as err:
        store.get_experiment("42")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert err.value.message == "No Experiment with id=42 exists"


def test_non_integer_experiment_id_is_invalid_parameter_value(store):
    with pytest.raises(MlflowException) as err:
        store.get_experiment("abc")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_get_experiment_by_name_finds_deleted_and_returns_none_for_unknown(store):
    exp_id = store.create_experiment("gone")
    store.delete_experiment(exp_id)
    assert store.get_experiment_by_name("gone").lifecycle_stage == LifecycleStage.DELETED
    assert store.get_experiment_by_name("never") is None


def test_delete_experiment_deletes_its_runs_and_restore_brings_them_back(store):
    exp_id = store.create_experiment("cascade")
    run_id = store.create_run(exp_id, "u", 1, [], None).info.run_id
    store.delete_experiment(exp_id)
    assert store.get_run(run_id).info.lifecycle_stage == "deleted"
    store.restore_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage == "active"
    assert store.get_run(run_id).info.lifecycle_stage == "active"


def test_delete_experiment_twice_is_resource_does_not_exist(store):
    exp_id = store.create_experiment("twice")
    store.delete_experiment(exp_id)
    with pytest.raises(MlflowException) as err:
        store.delete_experiment(exp_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_rename_experiment_changes_name_and_rejects_taken_names(store):
    a, _ = store.create_experiment("a"), store.create_experiment("b")
    store.rename_experiment(a, "c")
    assert store.get_experiment(a).name == "c"
    with pytest.raises(MlflowException) as err:
        store.rename_experiment(a, "b")
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_rename_deleted_experiment_is_invalid_state(store):
    exp_id = store.create_experiment("a")
    store.delete_experiment(exp_id)
    with pytest.raises(MlflowException) as err:
        store.rename_experiment(exp_id, "z")
    assert err.value.error_code == "INVALID_STATE"


def test_experiment_tags_are_set_overwritten_and_deleted(store):
    exp_id = store.create_experiment("t")
    store.set_experiment_tag(exp_id, ExperimentTag("k", "1"))
    store.set_experiment_tag(exp_id, ExperimentTag("k", "2"))
    assert store.get_experiment(exp_id).tags == {"k": "2"}
    store.delete_experiment_tag(exp_id, "k")
    assert store.get_experiment(exp_id).tags == {}
    with pytest.raises(MlflowException) as err:
        store.delete_experiment_tag(exp_id, "k")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_setting_a_tag_on_a_deleted_experiment_is_invalid_parameter_value(store):
    exp_id = store.create_experiment("t")
    store.delete_experiment(exp_id)
    with pytest.raises(MlflowException) as err:
        store.set_experiment_tag(exp_id, ExperimentTag("k", "v"))
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_experiments_filters_by_view_type_name_and_tag(store):
    a = store.create_experiment("alpha", tags=[ExperimentTag("team", "x")])
    b = store.create_experiment("beta")
    store.delete_experiment(b)
    active = [e.experiment_id for e in store.search_experiments()]
    assert set(active) == {"0", a}
    assert [e.experiment_id for e in store.search_experiments(ViewType.DELETED_ONLY)] == [b]
    assert [e.name for e in store.search_experiments(filter_string="name LIKE 'al%'")] == ["alpha"]
    assert [e.name for e in store.search_experiments(filter_string="tags.team = 'x'")] == ["alpha"]
    assert {e.name for e in store.search_experiments(filter_string="tags.team IS NULL")} == {"Default"}


def test_search_experiments_pages_with_tokens_in_order(store):
    for i in range(5):
        store.create_experiment(f"e{i}")
    page1 = store.search_experiments(max_results=4, order_by=["name ASC"])
    page2 = store.search_experiments(max_results=4, order_by=["name ASC"], page_token=page1.token)
    assert [e.name for e in page1] == ["Default", "e0", "e1", "e2"]
    assert [e.name for e in page2] == ["e3", "e4"] and page2.token is None


@pytest.mark.parametrize("max_results", [0, 50001])
def test_search_experiments_rejects_out_of_range_max_results(store, max_results):
    with pytest.raises(MlflowException) as err:
        store.search_experiments(max_results=max_results)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
