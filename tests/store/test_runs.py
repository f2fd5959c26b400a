"""Runs: creation (names, ids, artifact URIs), updates, lifecycle and the runName tag sync."""

import re
import uuid

import pytest

from asyncclient.entities import RunTag
from asyncclient.exceptions import MlflowException


def test_create_run_sets_running_active_artifact_uri_and_generated_name(store):
    run = store.create_run("0", "alice", 1000, [], None)
    info = run.info
    assert re.fullmatch(r"[0-9a-f]{32}", info.run_id)
    assert (info.status, info.lifecycle_stage, info.user_id, info.start_time) == ("RUNNING", "active", "alice", 1000)
    assert info.artifact_uri == store.get_experiment("0").artifact_location + f"/{info.run_id}/artifacts"
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", info.run_name) and len(info.run_name) <= 20
    assert run.data.tags == {"mlflow.runName": info.run_name}


def test_create_run_uses_run_name_tag_when_no_name_given(store):
    run = store.create_run("0", "u", 1, [RunTag("mlflow.runName", "from-tag")], None)
    assert run.info.run_name == "from-tag"


def test_create_run_with_conflicting_name_and_tag_is_invalid(store):
    with pytest.raises(MlflowException) as err:
        store.create_run("0", "u", 1, [RunTag("mlflow.runName", "a")], "b")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_create_run_with_client_run_id_is_idempotent(store):
    run_id = uuid.uuid4().hex
    first = store.create_run("0", "u", 5, [RunTag("k", "v")], "named", run_id=run_id)
    again = store.create_run("0", "u", 5, [RunTag("k", "v")], "named", run_id=run_id)
    assert first.info.run_id == again.info.run_id == run_id
    assert len(store.search_runs(["0"])) == 1


def test_create_run_with_existing_run_id_in_other_experiment_is_already_exists(store):
    run_id = uuid.uuid4().hex
    store.create_run("0", "u", 5, [], None, run_id=run_id)
    other = store.create_experiment("other")
    with pytest.raises(MlflowException) as err:
        store.create_run(other, "u", 5, [], None, run_id=run_id)
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_create_run_in_deleted_experiment_is_invalid(store):
    exp_id = store.create_experiment("d")
    store.delete_experiment(exp_id)
    with pytest.raises(MlflowException) as err:
        store.create_run(exp_id, "u", 1, [], None)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_get_unknown_run_is_resource_does_not_exist(store):
    with pytest.raises(MlflowException) as err:
        store.get_run("f" * 32)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert err.value.message == f"Run with id={'f' * 32} not found"


def test_update_run_info_sets_status_end_time_and_name_with_tag(store):
    run_id = store.create_run("0", "u", 1, [], "old").info.run_id
    info = store.update_run_info(run_id, 3, 99, "new")
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 99, "new")
    assert store.get_run(run_id).data.tags["mlflow.runName"] == "new"


def test_update_run_info_leaves_unset_fields_unchanged(store):
    run_id = store.create_run("0", "u", 1, [], "keep").info.run_id
    store.update_run_info(run_id, "FAILED", 7, None)
    info = store.update_run_info(run_id, None, None, None)
    assert (info.status, info.end_time, info.run_name) == ("FAILED", 7, "keep")


def test_setting_run_name_tag_renames_the_run(store):
    run_id = store.create_run("0", "u", 1, [], "before").info.run_id
    store.set_tag(run_id, RunTag("mlflow.runName", "after"))
    assert store.get_run(run_id).info.run_name == "after"


def test_delete_and_restore_run_switch_lifecycle_stage(store):
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == "deleted"
    store.restore_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == "active"


@pytest.mark.parametrize("write", [
    lambda s, r: s.set_tag(r, RunTag("k", "v")),
    lambda s, r: s.update_run_info(r, 3, 1, None),
    lambda s, r: s.delete_tag(r, "mlflow.runName"),
])
def test_writes_to_a_deleted_run_are_invalid_parameter_value(store, write):
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    store.delete_run(run_id)
    with pytest.raises(MlflowException) as err:
        write(store, run_id)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "must be in the 'active' state" in err.value.message


def test_delete_tag_removes_it_and_missing_tag_is_resource_does_not_exist(store):
    run_id = store.create_run("0", "u", 1, [RunTag("k", "v")], None).info.run_id
    store.delete_tag(run_id, "k")
    assert "k" not in store.get_run(run_id).data.tags
    with pytest.raises(MlflowException) as err:
        store.delete_tag(run_id, "k")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
