"""Health, version, capabilities, prefixes, content types and unknown routes."""

from __future__ import annotations

import json

import requests

from asyncclient import __version__


def test_health_says_ok(server, http):
    r = http.get(server.url + "/health")
    assert (r.status_code, r.text) == (200, "OK")


def test_version_is_the_package_version(server, http):
    assert http.get(server.url + "/version").text == __version__


def test_capabilities_advertise_the_msgpack_path(server, http):
    r = http.get(server.url + "/api/2.0/asyncclient/capabilities")
    assert r.json() == {"asyncclient": __version__, "msgpack_log_batch": True,
                        "max_metrics_per_batch": 10000, "max_params_tags_per_batch": 1000}


def test_server_info_reports_no_multipart(server, http):
    body = http.get(server.url + "/api/3.0/mlflow/server-info").json()
    assert body["store_type"] == "SqlStore"
    assert body["multipart_uploads_enabled"] is False


def test_responses_are_json_indented_like_mlflow(api):
    r = api.session.get(api.server.url + "/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.text.startswith('{\n  "experiment": {')


def test_ajax_api_prefix_serves_the_same_rpcs(api, http, unique):
    exp = api.ok_post("experiments/create", {"name": unique})["experiment_id"]
    r = http.get(api.server.url + "/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": exp})
    assert r.json()["experiment"]["name"] == unique


def test_unknown_route_is_a_plain_404(server, http):
    r = http.get(server.url + "/api/2.0/mlflow/no-such-thing")
    assert r.status_code == 404


def test_post_without_content_type_is_a_400(server, http):
    r = http.post(server.api("experiments/create"), data=b'{"name": "x"}')
    assert r.status_code == 400
    assert r.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Bad Request. Content-Type header is missing."}


def test_post_with_wrong_content_type_is_a_400(server, http):
    r = http.post(server.api("experiments/create"), data=b'{"name": "x"}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 400
    assert r.json()["message"] == "Bad Request. Content-Type must be one of ['application/json']."


def test_content_type_parameters_are_ignored(server, http, unique):
    r = http.post(server.api("experiments/create"), data=json.dumps({"name": unique}).encode(),
                  headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 200 and r.json()["experiment_id"]


def test_malformed_json_is_a_400(server, http):
    r = http.post(server.api("experiments/create"), data=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_oversized_body_is_a_4xx_not_a_5xx(server, http):
    r = http.post(server.api("runs/log-batch"), data=b" " * (17 * 1024 * 1024),
                  headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_get_with_query_on_post_only_route_is_405(server, http):
    r = requests.get(server.api("runs/create"))
    assert r.status_code == 405
