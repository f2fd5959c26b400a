"""Request size limits: an oversized body or header is refused early, in a short answer, server unharmed."""

from __future__ import annotations

import requests

from asyncclient.server.config import MAX_REQUEST_BODY_BYTES


def test_oversized_body_is_a_413_in_mlflow_format(asyncclient_server):
    body = b'{"run_id": "' + b"x" * (MAX_REQUEST_BODY_BYTES + 1024) + b'"}'
    r = requests.post(asyncclient_server.url + "/api/2.0/mlflow/runs/log-batch", data=body,
                      headers={"Content-Type": "application/json"}, timeout=120)
    assert r.status_code == 413 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert requests.get(asyncclient_server.url + "/health", timeout=30).text == "OK"


def test_oversized_header_is_refused_without_internals(asyncclient_server):
    r = requests.get(asyncclient_server.url + "/api/2.0/mlflow/experiments/search",
                     headers={"X-Padding": "y" * (128 * 1024)}, timeout=60)
    assert r.status_code in (400, 431)
    assert "Traceback" not in r.text and "site-packages" not in r.text and len(r.text) < 500
    assert requests.get(asyncclient_server.url + "/health", timeout=30).text == "OK"
