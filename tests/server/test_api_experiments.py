"""``/mlflow/experiments/*`` endpoints: results, error codes and statuses, both field spellings."""

from __future__ import annotations

import pytest


def test_create_then_get_returns_the_experiment(api, unique):
    exp_id = api.ok_post("experiments/create", {"name": unique, "tags": [{"key": "k", "value": "v"}]})["experiment_id"]
    exp = api.ok_get("experiments/get", {"experiment_id": exp_id})["experiment"]
    assert exp["experiment_id"] == exp_id and exp["name"] == unique
    assert exp["lifecycle_stage"] == "active"
    assert exp["tags"] == [{"key": "k", "value": "v"}]
    assert isinstance(exp["creation_time"], int) and isinstance(exp["last_update_time"], int)
    assert exp["artifact_location"] == f"mlflow-artifacts:/{exp_id}"


def test_create_accepts_camel_case_fields(api, unique):
    exp_id = api.ok_post("experiments/create", {"name": unique, "artifactLocation": "/tmp/art-" + unique})["experiment_id"]
    exp = api.ok_get("experiments/get", {"experiment_id": exp_id})["experiment"]
    assert exp["artifact_location"].endswith("/tmp/art-" + unique)


def test_create_without_name_is_a_400_with_mlflows_message(api):
    status, body = api.post("experiments/create", {})
    assert status == 400
    assert body == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Missing value for required parameter "
                    "'name'. See the API docs for more information about request parameters."}


def test_duplicate_name_is_resource_already_exists_400(api, unique):
    api.ok_post("experiments/create", {"name": unique})
    status, body = api.post("experiments/create", {"name": unique})
    assert (status, body["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")


def test_get_missing_experiment_is_404(api):
    status, body = api.get("experiments/get", {"experiment_id": "987654321"})
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_get_with_non_integer_id_is_a_4xx(api):
    status, body = api.get("experiments/get", {"experiment_id": "abc"})
    assert 400 <= status < 500 and body["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")


def test_get_by_name(api, unique):
    exp_id = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    assert api.ok_get("experiments/get-by-name", {"experiment_name": unique})["experiment"]["experiment_id"] == exp_id


def test_get_by_missing_name_is_404_with_mlflows_message(api, unique):
    status, body = api.get("experiments/get-by-name", {"experiment_name": unique})
    assert status == 404
    assert body == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Could not find experiment with name '{unique}'"}


@pytest.mark.parametrize("method", ["post", "get"])
def test_search_by_name_filter_with_post_and_get(api, unique, method):
    api.ok_post("experiments/create", {"name": unique})
    params = {"filter": f"name = '{unique}'", "max_results": 10}
    body = api.ok_post("experiments/search", params) if method == "post" else api.ok_get("experiments/search", params)
    assert [e["name"] for e in body["experiments"]] == [unique]


def test_search_defaults_max_results_and_paginates(api, unique):
    for i in range(3):
        api.ok_post("experiments/create", {"name": f"{unique}-{i}"})
    page1 = api.ok_post("experiments/search", {"filter": f"name LIKE '{unique}-%'", "max_results": 2})
    assert len(page1["experiments"]) == 2 and page1["next_page_token"]
    page2 = api.ok_post("experiments/search", {"filter": f"name LIKE '{unique}-%'", "max_results": 2,
                                               "page_token": page1["next_page_token"]})
    assert len(page2["experiments"]) == 1 and "next_page_token" not in page2
    assert api.ok_post("experiments/search", {"filter": f"name LIKE '{unique}-%'"})["experiments"]


def test_search_max_results_over_50000_is_a_400(api):
    status, body = api.post("experiments/search", {"max_results": 50001})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_search_with_no_match_is_empty_object(api, unique):
    assert api.ok_post("experiments/search", {"filter": f"name = '{unique}'", "max_results": 5}) == {}


def test_rename_delete_restore_lifecycle(api, unique):
    exp_id = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    api.ok_post("experiments/update", {"experiment_id": exp_id, "new_name": unique + "-new"})
    assert api.ok_get("experiments/get", {"experiment_id": exp_id})["experiment"]["name"] == unique + "-new"
    api.ok_post("experiments/delete", {"experiment_id": exp_id})
    assert api.ok_get("experiments/get", {"experiment_id": exp_id})["experiment"]["lifecycle_stage"] == "deleted"
    deleted = api.ok_post("experiments/search", {"view_type": "DELETED_ONLY", "max_results": 1000,
                                                 "filter": f"name = '{unique}-new'"})
    assert [e["experiment_id"] for e in deleted["experiments"]] == [exp_id]
    api.ok_post("experiments/restore", {"experiment_id": exp_id})
    assert api.ok_get("experiments/get", {"experiment_id": exp_id})["experiment"]["lifecycle_stage"] == "active"


def test_update_requires_new_name(api, unique):
    exp_id = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    status, body = api.post("experiments/update", {"experiment_id": exp_id})
    assert status == 400 and "'new_name'" in body["message"]


def test_set_and_delete_experiment_tag(api, unique):
    exp_id = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    api.ok_post("experiments/set-experiment-tag", {"experimentId": exp_id, "key": "a", "value": ""})
    api.ok_post("experiments/set-experiment-tag", {"experiment_id": exp_id, "key": "b", "value": "2"})
    tags = api.ok_get("experiments/get", {"experiment_id": exp_id})["experiment"]["tags"]
    assert sorted((t["key"], t["value"]) for t in tags) == [("a", ""), ("b", "2")]
    api.ok_post("experiments/delete-experiment-tag", {"experiment_id": exp_id, "key": "a"})
    tags = api.ok_get("experiments/get", {"experiment_id": exp_id})["experiment"]["tags"]
    assert [t["key"] for t in tags] == ["b"]


def test_set_tag_requires_key(api, unique):
    exp_id = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    status, body = api.post("experiments/set-experiment-tag", {"experiment_id": exp_id, "value": "x"})
    assert status == 400 and "'key'" in body["message"]
