"""``/mlflow/runs/*`` endpoints other than log-batch."""

from __future__ import annotations

import json


def test_create_run_returns_mlflows_run_shape(api, unique):
    exp = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    run = api.ok_post("runs/create", {"experiment_id": exp, "start_time": 1234, "user_id": "alice",
                                      "tags": [{"key": "mlflow.user", "value": "alice"}]})["run"]
    info = run["info"]
    assert info["run_id"] == info["run_uuid"] and len(info["run_id"]) == 32
    assert (info["experiment_id"], info["user_id"], info["status"], info["start_time"], info["lifecycle_stage"]) == (
        exp, "alice", "RUNNING", 1234, "active")
    assert info["artifact_uri"] == f"mlflow-artifacts:/{exp}/{info['run_id']}/artifacts"
    assert "end_time" not in info
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["mlflow.runName"] == info["run_name"] and tags["mlflow.user"] == "alice"
    assert run["inputs"] == {} and "outputs" not in run  # as MLflow's CreateRun response


def test_create_run_with_camel_case_and_string_int64(api, unique):
    exp = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    run = api.ok_post("runs/create", {"experimentId": exp, "startTime": "99", "runName": "named"})["run"]
    assert (run["info"]["start_time"], run["info"]["run_name"]) == (99, "named")


def test_create_run_with_conflicting_names_is_a_400(api, unique):
    exp = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    status, body = api.post("runs/create", {"experiment_id": exp, "run_name": "a",
                                            "tags": [{"key": "mlflow.runName", "value": "b"}]})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_create_run_without_experiment_uses_default(api):
    run = api.ok_post("runs/create", {"start_time": 1})["run"]
    assert run["info"]["experiment_id"] == "0"


def test_create_run_in_missing_experiment_is_404(api):
    status, body = api.post("runs/create", {"experiment_id": "99999999"})
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_create_run_with_client_chosen_id_is_idempotent(api, unique):
    exp = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    rid = "0123456789abcdef0123456789abcdef"[:24] + unique[-8:].replace("-", "0")
    first = api.ok_post("runs/create", {"experiment_id": exp, "run_id": rid, "run_name": "x"})["run"]
    again = api.ok_post("runs/create", {"experiment_id": exp, "run_id": rid, "run_name": "x"})["run"]
    assert first["info"]["run_id"] == again["info"]["run_id"] == rid


def test_get_run_by_run_id_or_run_uuid(api, unique):
    _, rid = api.new_run(unique)
    assert api.ok_get("runs/get", {"run_id": rid})["run"]["info"]["run_id"] == rid
    assert api.ok_get("runs/get", {"run_uuid": rid})["run"]["info"]["run_id"] == rid


def test_get_missing_run_is_404_with_mlflows_message(api):
    status, body = api.get("runs/get", {"run_id": "f" * 32})
    assert status == 404
    assert body == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Run with id={'f' * 32} not found"}


def test_get_run_without_id_is_a_400(api):
    status, body = api.get("runs/get", {})
    assert status == 400 and "'run_id'" in body["message"]


def test_update_run_sets_status_end_time_and_name(api, unique):
    _, rid = api.new_run(unique)
    info = api.ok_post("runs/update", {"run_id": rid, "run_uuid": rid, "status": "FINISHED", "end_time": 5000,
                                       "run_name": "renamed"})["run_info"]
    assert (info["status"], info["end_time"], info["run_name"]) == ("FINISHED", 5000, "renamed")
    tags = {t["key"]: t["value"] for t in api.ok_get("runs/get", {"run_id": rid})["run"]["data"]["tags"]}
    assert tags["mlflow.runName"] == "renamed"


def test_update_run_with_numeric_status(api, unique):
    _, rid = api.new_run(unique)
    assert api.ok_post("runs/update", {"run_id": rid, "status": 4})["run_info"]["status"] == "FAILED"


def test_update_run_with_bad_status_is_a_400(api, unique):
    _, rid = api.new_run(unique)
    status, body = api.post("runs/update", {"run_id": rid, "status": "DONE"})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_delete_and_restore_run(api, unique):
    exp, rid = api.new_run(unique)
    api.ok_post("runs/delete", {"run_id": rid})
    assert api.ok_get("runs/get", {"run_id": rid})["run"]["info"]["lifecycle_stage"] == "deleted"
    assert api.ok_post("runs/search", {"experiment_ids": [exp]}) == {}
    deleted = api.ok_post("runs/search", {"experiment_ids": [exp], "run_view_type": "DELETED_ONLY"})
    assert [r["info"]["run_id"] for r in deleted["runs"]] == [rid]
    api.ok_post("runs/restore", {"run_id": rid})
    assert api.ok_get("runs/get", {"run_id": rid})["run"]["info"]["lifecycle_stage"] == "active"


def test_writes_to_a_deleted_run_are_400(api, unique):
    _, rid = api.new_run(unique)
    api.ok_post("runs/delete", {"run_id": rid})
    status, body = api.post("runs/log-metric", {"run_id": rid, "key": "m", "value": 1, "timestamp": 1})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "must be in the 'active' state" in body["message"]


def test_log_metric_param_and_tag_appear_in_run_data(api, unique):
    _, rid = api.new_run(unique)
    api.ok_post("runs/log-metric", {"run_id": rid, "key": "loss", "value": 0.5, "timestamp": 10, "step": 3})
    api.ok_post("runs/log-metric", {"run_uuid": rid, "key": "loss", "value": "0.25", "timestamp": "11", "step": "2"})
    api.ok_post("runs/log-parameter", {"run_id": rid, "key": "lr", "value": "0.01"})
    api.ok_post("runs/set-tag", {"run_id": rid, "key": "team", "value": "a"})
    data = api.ok_get("runs/get", {"run_id": rid})["run"]["data"]
    # The latest value is the max (step, timestamp, value): step 3 beats the later timestamp at step 2.
    assert data["metrics"] == [{"key": "loss", "value": 0.5, "timestamp": 10, "step": 3}]
    assert data["params"] == [{"key": "lr", "value": "0.01"}]
    assert {"key": "team", "value": "a"} in data["tags"]


def test_log_metric_nan_and_infinity_round_trip_as_strings(api, unique):
    _, rid = api.new_run(unique)
    api.ok_post("runs/log-metric", {"run_id": rid, "key": "n", "value": "NaN", "timestamp": 1})
    api.ok_post("runs/log-metric", {"run_id": rid, "key": "i", "value": "Infinity", "timestamp": 1})
    metrics = {m["key"]: m["value"] for m in api.ok_get("runs/get", {"run_id": rid})["run"]["data"]["metrics"]}
    assert metrics["n"] == "NaN"
    assert metrics["i"] == 1.7976931348623157e308  # SQL stores +inf as the largest double, as MLflow's SQL store


def test_log_metric_requires_key_value_timestamp(api, unique):
    _, rid = api.new_run(unique)
    for missing in ("key", "value", "timestamp"):
        body = {"run_id": rid, "key": "m", "value": 1.0, "timestamp": 1}
        del body[missing]
        status, err = api.post("runs/log-metric", body)
        assert status == 400 and f"'{missing}'" in err["message"]


def test_log_metric_with_non_numeric_value_is_a_400(api, unique):
    _, rid = api.new_run(unique)
    status, body = api.post("runs/log-metric", {"run_id": rid, "key": "m", "value": "abc", "timestamp": 1})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_log_metric_with_invalid_key_is_a_400(api, unique):
    _, rid = api.new_run(unique)
    status, body = api.post("runs/log-metric", {"run_id": rid, "key": "a//b", "value": 1, "timestamp": 1})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_changing_a_param_is_a_400_and_relogging_it_is_fine(api, unique):
    _, rid = api.new_run(unique)
    api.ok_post("runs/log-parameter", {"run_id": rid, "key": "lr", "value": "0.1"})
    api.ok_post("runs/log-parameter", {"run_id": rid, "key": "lr", "value": "0.1"})
    status, body = api.post("runs/log-parameter", {"run_id": rid, "key": "lr", "value": "0.2"})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert body["message"].startswith("Changing param values is not allowed.")


def test_set_tag_run_name_renames_the_run(api, unique):
    _, rid = api.new_run(unique)
    api.ok_post("runs/set-tag", {"run_id": rid, "key": "mlflow.runName", "value": "new-name"})
    assert api.ok_get("runs/get", {"run_id": rid})["run"]["info"]["run_name"] == "new-name"


def test_delete_tag_and_missing_tag_404(api, unique):
    _, rid = api.new_run(unique)
    api.ok_post("runs/set-tag", {"run_id": rid, "key": "x", "value": "1"})
    api.ok_post("runs/delete-tag", {"run_id": rid, "key": "x"})
    status, body = api.post("runs/delete-tag", {"run_id": rid, "key": "x"})
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_search_runs_filter_order_and_pagination(api, unique):
    exp = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    ids = []
    for i in range(3):
        rid = api.ok_post("runs/create", {"experiment_id": exp, "start_time": i})["run"]["info"]["run_id"]
        api.ok_post("runs/log-metric", {"run_id": rid, "key": "acc", "value": i / 10, "timestamp": 1})
        ids.append(rid)
    found = api.ok_post("runs/search", {"experiment_ids": [exp], "filter": "metrics.acc > 0.05",
                                        "order_by": ["metrics.acc DESC"]})
    assert [r["info"]["run_id"] for r in found["runs"]] == [ids[2], ids[1]]
    page = api.ok_post("runs/search", {"experimentIds": [exp], "maxResults": 2})
    assert len(page["runs"]) == 2 and page["next_page_token"]
    rest = api.ok_post("runs/search", {"experiment_ids": [exp], "max_results": 2, "page_token": page["next_page_token"]})
    assert len(rest["runs"]) == 1 and "next_page_token" not in rest


def test_search_runs_limits_and_bad_filter_are_400(api, unique):
    exp = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    for body in ({"experiment_ids": [exp], "max_results": 50001},
                 {"experiment_ids": [exp], "filter": "metrics.a > 1 OR metrics.b < 2"},
                 {"experiment_ids": [exp], "page_token": "not-a-token"}):
        status, err = api.post("runs/search", body)
        assert (status, err["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), body


def test_search_runs_with_no_experiments_is_empty(api):
    assert api.ok_post("runs/search", {"experiment_ids": []}) == {}


def test_log_inputs_shows_datasets_on_the_run(api, unique):
    _, rid = api.new_run(unique)
    dataset = {"name": "ds", "digest": "abc123", "source_type": "local", "source": '{"uri": "/x"}',
               "schema": "{}", "profile": '{"num_rows": 3}'}
    body = {"run_id": rid, "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
                                         "dataset": dataset}]}
    api.ok_post("runs/log-inputs", body)
    api.ok_post("runs/log-inputs", body)  # re-logging creates no duplicate
    inputs = api.ok_get("runs/get", {"run_id": rid})["run"]["inputs"]
    assert inputs["dataset_inputs"] == [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
                                         "dataset": dataset}]


def test_log_inputs_requires_dataset_fields(api, unique):
    _, rid = api.new_run(unique)
    status, body = api.post("runs/log-inputs", {"run_id": rid, "datasets": [{"dataset": {"name": "ds"}}]})
    assert status == 400 and "digest" in body["message"]


def test_log_model_appends_to_history_tag(api, unique):
    _, rid = api.new_run(unique)
    model = {"artifact_path": "model", "flavors": {"python_function": {"config": {"x": 1}, "env": "e"}},
             "utc_time_created": "2024-01-01", "run_id": rid, "extra": "dropped"}
    api.ok_post("runs/log-model", {"run_id": rid, "model_json": json.dumps(model)})
    api.ok_post("runs/log-model", {"run_id": rid, "model_json": json.dumps(model)})
    tags = {t["key"]: t["value"] for t in api.ok_get("runs/get", {"run_id": rid})["run"]["data"]["tags"]}
    history = json.loads(tags["mlflow.log-model.history"])
    assert history == [{"run_id": rid, "utc_time_created": "2024-01-01", "artifact_path": "model",
                        "flavors": {"python_function": {"env": "e"}}}] * 2


def test_log_model_with_incomplete_json_is_a_400(api, unique):
    _, rid = api.new_run(unique)
    status, body = api.post("runs/log-model", {"run_id": rid, "model_json": '{"artifact_path": "m"}'})
    assert status == 400 and "missing mandatory fields" in body["message"]


def test_outputs_are_recorded_on_the_run(api, unique):
    _, rid = api.new_run(unique)
    api.ok_post("runs/outputs", {"run_id": rid, "models": [{"model_id": "m-1", "step": 2}]})
    api.ok_post("runs/outputs", {"run_id": rid, "models": []})
    run = api.ok_get("runs/get", {"run_id": rid})["run"]
    assert run["outputs"] == {"model_outputs": [{"model_id": "m-1", "step": 2}]}
