"""``/mlflow/metrics/*``: history, paged history, the bulk-interval sampler and the UI's bulk history."""

from __future__ import annotations


def _log(api, rid, points, key="m"):
    api.ok_post("runs/log-batch", {"run_id": rid, "metrics": [
        {"key": key, "value": v, "timestamp": ts, "step": s} for v, ts, s in points]})


def test_history_is_ordered_by_timestamp_step_value(api, unique):
    _, rid = api.new_run(unique)
    _log(api, rid, [(3.0, 2, 0), (1.0, 1, 5), (2.0, 1, 5)])
    history = api.ok_get("metrics/get-history", {"run_id": rid, "metric_key": "m"})
    assert [(m["value"], m["timestamp"], m["step"]) for m in history["metrics"]] == [(1.0, 1, 5), (2.0, 1, 5), (3.0, 2, 0)]
    assert "next_page_token" not in history


def test_history_pages_with_max_results(api, unique):
    _, rid = api.new_run(unique)
    _log(api, rid, [(float(i), i, i) for i in range(5)])
    page = api.ok_get("metrics/get-history", {"run_id": rid, "metric_key": "m", "max_results": 2})
    got = [m["step"] for m in page["metrics"]]
    while "next_page_token" in page:
        page = api.ok_get("metrics/get-history", {"run_id": rid, "metric_key": "m", "max_results": 2,
                                                  "page_token": page["next_page_token"]})
        got += [m["step"] for m in page["metrics"]]
    assert got == [0, 1, 2, 3, 4]


def test_history_of_unknown_key_is_empty(api, unique):
    _, rid = api.new_run(unique)
    assert api.ok_get("metrics/get-history", {"run_id": rid, "metric_key": "nope"}) == {}


def test_history_errors(api, unique):
    _, rid = api.new_run(unique)
    assert api.get("metrics/get-history", {"run_id": rid})[0] == 400
    assert api.get("metrics/get-history", {"run_id": rid, "metric_key": "m", "max_results": 0})[0] == 400
    status, body = api.get("metrics/get-history", {"run_id": "c" * 32, "metric_key": "m"})
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_bulk_interval_samples_keep_first_and_last_step(api, unique):
    exp, r1 = api.new_run(unique)
    r2 = api.ok_post("runs/create", {"experiment_id": exp})["run"]["info"]["run_id"]
    _log(api, r1, [(float(i), 1000 + i, i) for i in range(100)])
    _log(api, r2, [(float(i), 1000 + i, i) for i in range(3)])
    body = api.ok_get("metrics/get-history-bulk-interval", {"run_ids": [r1, r2], "metric_key": "m", "max_results": 10})
    by_run: dict[str, list[int]] = {}
    for m in body["metrics"]:
        by_run.setdefault(m["run_id"], []).append(m["step"])
    assert by_run[r2] == [0, 1, 2]
    assert by_run[r1][0] == 0 and by_run[r1][-1] == 99 and len(by_run[r1]) <= 11


def test_bulk_interval_step_window(api, unique):
    _, rid = api.new_run(unique)
    _log(api, rid, [(float(i), i, i) for i in range(20)])
    body = api.ok_get("metrics/get-history-bulk-interval", {"run_ids": rid, "metric_key": "m", "start_step": 5,
                                                            "end_step": 8})
    assert [m["step"] for m in body["metrics"]] == [5, 6, 7, 8]


def test_bulk_interval_validation(api, unique):
    _, rid = api.new_run(unique)
    bad = [
        {"metric_key": "m"},
        {"run_ids": rid},
        {"run_ids": [rid] * 101, "metric_key": "m"},
        {"run_ids": rid, "metric_key": "m", "max_results": 2501},
        {"run_ids": rid, "metric_key": "m", "start_step": 3},
        {"run_ids": rid, "metric_key": "m", "start_step": 5, "end_step": 1},
    ]
    for params in bad:
        status, body = api.get("metrics/get-history-bulk-interval", params)
        assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), params


def test_ui_bulk_history_over_ajax_api(api, http, server, unique):
    exp, r1 = api.new_run(unique)
    r2 = api.ok_post("runs/create", {"experiment_id": exp})["run"]["info"]["run_id"]
    _log(api, r1, [(1.0, 1, 0), (2.0, 2, 1)])
    _log(api, r2, [(5.0, 1, 0)])
    r = http.get(server.url + "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
                 params={"run_id": [r2, r1], "metric_key": "m"})
    expected = sorted([(r1, 1.0, 0), (r1, 2.0, 1), (r2, 5.0, 0)])
    assert [(m["run_id"], m["value"], m["step"]) for m in r.json()["metrics"]] == expected
    assert http.get(server.url + "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
                    params={"metric_key": "m"}).status_code == 400
