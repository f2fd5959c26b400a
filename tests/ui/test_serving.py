"""The UI is served by the tracking server: page, assets, CSP, static prefix, and the bucketed endpoint."""

from __future__ import annotations

import re

import pytest
import requests
from seed import SPIKE_STEP, SPIKE_VALUE, STEPS
from server_procs import stop
from ui_procs import start_ui


def test_index_is_served_at_root_with_a_csp_forbidding_inline_scripts(ui_server):
    r = requests.get(ui_server.url + "/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert script_src.strip() == "'self'" and "unsafe-inline" not in csp
    assert "<script" in r.text and 'src="static-files/assets/app-' in r.text


def test_assets_are_hashed_cached_and_carry_their_licences(ui_server):
    html = requests.get(ui_server.url + "/", timeout=10).text
    for asset in re.findall(r'(?:src|href)="(static-files/assets/[^"]+)"', html):
        r = requests.get(f"{ui_server.url}/{asset}", timeout=10)
        assert r.status_code == 200 and "immutable" in r.headers["Cache-Control"]
        assert r.headers["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript", "text/css")
    notices = requests.get(ui_server.url + "/static-files/licenses/THIRD-PARTY-NOTICES.txt", timeout=10).text
    assert all(name in notices for name in ("uplot", "marked", "dompurify"))


def test_static_files_cannot_escape_their_folder(ui_server):
    for path in ("/static-files/../__init__.py", "/static-files/%2e%2e/__init__.py", "/static-files/nope.js"):
        assert requests.get(ui_server.url + path, timeout=10).status_code == 404


def test_server_command_serves_the_ui_under_a_static_prefix(tmp_path):
    srv = start_ui(tmp_path, "--static-prefix", "/mlflow", command="server")
    try:
        r = requests.get(srv.url + "/", timeout=10)
        assert r.status_code == 200 and "Content-Security-Policy" in r.headers
        asset = re.search(r'src="(static-files/assets/[^"]+)"', r.text).group(1)
        assert requests.get(f"{srv.url}/{asset}", timeout=10).status_code == 200
        # The page's relative API URLs resolve under the prefix.
        api = requests.post(srv.url + "/ajax-api/2.0/mlflow/experiments/search", json={"max_results": 10}, timeout=10)
        assert api.status_code == 200 and api.json()["experiments"]
        bare = requests.get(srv.url, timeout=10, allow_redirects=False)
        assert bare.status_code == 302 and bare.headers["Location"] == "/mlflow/"
        assert requests.get(srv.url.replace("/mlflow", "") + "/", timeout=10).status_code == 404
    finally:
        stop(srv.proc)


def _bucketed(url, **params):
    return requests.get(url + "/ajax-api/2.0/asyncclient/metrics/get-history-bucketed", params=params, timeout=30)


def test_bucketed_endpoint_keeps_the_spike(ui_server):
    body = _bucketed(ui_server.url, run_id=ui_server.ids["a"], metric_key="loss", buckets=100).json()
    assert body["total"] == STEPS and len(body["max"]) == 100 and body["x_range"] == [0, STEPS - 1]
    i = body["max"].index(SPIKE_VALUE)
    assert body["x_first"][i] <= SPIKE_STEP <= body["x_last"][i]


def test_bucketed_endpoint_zooms_by_step_window(ui_server):
    body = _bucketed(ui_server.url, run_id=ui_server.ids["a"], metric_key="loss", buckets=500,
                     min_step=SPIKE_STEP - 5, max_step=SPIKE_STEP + 5).json()
    assert body["x_first"] == list(range(SPIKE_STEP - 5, SPIKE_STEP + 6)) and SPIKE_VALUE in body["last"]


@pytest.mark.parametrize(("params", "words"), [
    ({"metric_key": "loss", "buckets": 0}, "buckets must be between 1 and 5000"),
    ({"metric_key": "loss", "x": "epoch"}, "x must be one of step, time"),
    ({"buckets": 10}, "Missing value for required parameter 'metric_key'"),
])
def test_bucketed_endpoint_explains_bad_requests(ui_server, params, words):
    r = _bucketed(ui_server.url, run_id=ui_server.ids["a"], **params)
    assert r.status_code == 400 and words in r.json()["message"]
