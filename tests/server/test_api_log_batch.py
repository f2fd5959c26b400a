"""``runs/log-batch``: MLflow's JSON body, the msgpack fast path, limits and idempotent retries."""

from __future__ import annotations

import msgpack
import pytest

MSGPACK = {"Content-Type": "application/x-asyncclient-msgpack"}


def _history(api, rid, key="m"):
    return api.ok_get("metrics/get-history", {"run_id": rid, "metric_key": key}).get("metrics", [])


def _post_msgpack(http, server, body):
    r = http.post(server.api("runs/log-batch"), data=msgpack.packb(body), headers=MSGPACK)
    return r.status_code, r.json()


def test_json_batch_stores_metrics_params_and_tags(api, unique):
    _, rid = api.new_run(unique)
    body = {"run_id": rid, "metrics": [{"key": "m", "value": float(i), "timestamp": 100 + i, "step": i} for i in range(5)],
            "params": [{"key": "p", "value": "1"}], "tags": [{"key": "t", "value": "x"}]}
    assert api.ok_post("runs/log-batch", body) == {}
    assert [(m["value"], m["step"]) for m in _history(api, rid)] == [(float(i), i) for i in range(5)]
    data = api.ok_get("runs/get", {"run_id": rid})["run"]["data"]
    assert data["params"] == [{"key": "p", "value": "1"}]
    assert {"key": "t", "value": "x"} in data["tags"]


def test_json_batch_accepts_camel_case_run_id_and_string_numbers(api, unique):
    _, rid = api.new_run(unique)
    api.ok_post("runs/log-batch", {"runId": rid, "metrics": [{"key": "m", "value": "NaN", "timestamp": "5", "step": "1"}]})
    assert _history(api, rid) == [{"key": "m", "value": "NaN", "timestamp": 5, "step": 1}]


def test_retried_json_batch_neither_errors_nor_duplicates(api, unique):
    _, rid = api.new_run(unique)
    body = {"run_id": rid, "metrics": [{"key": "m", "value": 1.5, "timestamp": 7, "step": s} for s in range(10)],
            "params": [{"key": "p", "value": "v"}], "tags": [{"key": "t", "value": "x"}]}
    for _ in range(3):
        assert api.ok_post("runs/log-batch", body) == {}
    assert len(_history(api, rid)) == 10


def test_json_batch_over_limits_is_a_400(api, unique):
    _, rid = api.new_run(unique)
    cases = [
        ({"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)]}, "1000 metrics"),
        ({"params": [{"key": f"p{i}", "value": "v"} for i in range(101)]}, "100 params"),
        ({"tags": [{"key": f"t{i}", "value": "v"} for i in range(101)]}, "100 tags"),
        ({"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(950)],
          "params": [{"key": f"p{i}", "value": "v"} for i in range(51)]}, "1000 total"),
    ]
    for extra, text in cases:
        status, body = api.post("runs/log-batch", {"run_id": rid, **extra})
        assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), text
        assert text in body["message"]


def test_json_batch_duplicate_param_keys_with_different_values_is_a_400(api, unique):
    _, rid = api.new_run(unique)
    status, body = api.post("runs/log-batch", {"run_id": rid, "params": [{"key": "p", "value": "1"},
                                                                         {"key": "p", "value": "2"}]})
    assert status == 400 and "Duplicate parameter keys" in body["message"]


def test_json_batch_without_run_id_is_a_400(api):
    status, body = api.post("runs/log-batch", {"metrics": []})
    assert status == 400 and "'run_id'" in body["message"]


def test_json_batch_to_missing_run_is_404(api):
    status, body = api.post("runs/log-batch", {"run_id": "e" * 32, "metrics": [{"key": "m", "value": 1, "timestamp": 1}]})
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_msgpack_batch_stores_points(http, server, api, unique):
    _, rid = api.new_run(unique)
    status, body = _post_msgpack(http, server, {"run_id": rid, "metrics": [["m", float(i), 1000 + i, i] for i in range(3)],
                                                "params": [["lr", "0.1"]], "tags": [["t", "v"]]})
    assert (status, body) == (200, {})
    assert [(m["value"], m["timestamp"], m["step"]) for m in _history(api, rid)] == [(0.0, 1000, 0), (1.0, 1001, 1),
                                                                                     (2.0, 1002, 2)]
    data = api.ok_get("runs/get", {"run_id": rid})["run"]["data"]
    assert data["params"] == [{"key": "lr", "value": "0.1"}] and {"key": "t", "value": "v"} in data["tags"]


def test_msgpack_batch_of_10000_metrics_and_1000_params_is_stored(http, server, api, unique):
    _, rid = api.new_run(unique)
    body = {"run_id": rid, "metrics": [["m", float(i), 5, i] for i in range(10000)],
            "params": [[f"p{i}", str(i)] for i in range(1000)], "tags": [[f"t{i}", "x"] for i in range(1000)]}
    assert _post_msgpack(http, server, body) == (200, {})
    assert len(_history(api, rid)) == 10000
    data = api.ok_get("runs/get", {"run_id": rid})["run"]["data"]
    assert len(data["params"]) == 1000 and len(data["tags"]) >= 1000
    assert data["metrics"] == [{"key": "m", "value": 9999.0, "timestamp": 5, "step": 9999}]


def test_retried_msgpack_batch_neither_errors_nor_duplicates(http, server, api, unique):
    _, rid = api.new_run(unique)
    body = {"run_id": rid, "metrics": [["m", 0.5, 5, i] for i in range(2500)], "params": [["p", "v"]]}
    for _ in range(2):
        assert _post_msgpack(http, server, body) == (200, {})
    assert len(_history(api, rid)) == 2500


@pytest.mark.parametrize(("extra", "text"), [
    ({"metrics": [["m", 1.0, 1, i] for i in range(10001)]}, "at most 10000 metrics"),
    ({"params": [[f"p{i}", "v"] for i in range(1001)]}, "at most 1000 params"),
    ({"tags": [[f"t{i}", "v"] for i in range(1001)]}, "at most 1000 tags"),
    ({"metrics": [["m", "x", 1, 0]]}, "invalid metric"),
])
def test_msgpack_batch_limits_and_types_are_400(http, server, api, unique, extra, text):
    _, rid = api.new_run(unique)
    status, body = _post_msgpack(http, server, {"run_id": rid, **extra})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert text in body["message"]


def test_large_msgpack_batch_with_a_bad_key_stores_nothing(http, server, api, unique):
    _, rid = api.new_run(unique)
    metrics = [["m", 1.0, 1, i] for i in range(3000)] + [["bad//key", 1.0, 1, 0]]
    status, body = _post_msgpack(http, server, {"run_id": rid, "metrics": metrics})
    assert status == 400 and "bad//key" in body["message"]
    assert _history(api, rid) == []


def test_msgpack_batch_to_missing_run_is_404(http, server):
    status, body = _post_msgpack(http, server, {"run_id": "d" * 32, "metrics": [["m", 1.0, 1, 0]]})
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_garbage_msgpack_body_is_a_400(http, server):
    r = http.post(server.api("runs/log-batch"), data=b"\xc1\xc1", headers=MSGPACK)
    assert (r.status_code, r.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_msgpack_content_type_only_on_log_batch(http, server):
    r = http.post(server.api("runs/log-metric"), data=msgpack.packb({}), headers=MSGPACK)
    assert r.status_code == 400
    assert r.json()["message"] == "Bad Request. Content-Type must be one of ['application/json']."
