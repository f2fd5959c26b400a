"""Host, CORS and frame protection: asked of a real ``mlflow server`` and of ours at the same defaults, then
our flags (--allowed-hosts, --cors-allowed-origins, --x-frame-options) on a server of our own."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

EVIL_HOST = "evil.example.com"
EVIL_ORIGIN = "https://evil.example.com"
LOCAL_ORIGIN = "http://localhost:3000"


def _answer(r: requests.Response) -> tuple:
    text = r.text.strip() if "json" not in r.headers.get("Content-Type", "") else "json"
    return (r.status_code, text[:80], r.headers.get("Access-Control-Allow-Origin"),
            r.headers.get("X-Frame-Options"), r.headers.get("X-Content-Type-Options"))


CASES = [
    ("foreign Host header", "GET", "/api/2.0/mlflow/experiments/search", {"Host": EVIL_HOST}),
    ("foreign Host on /health", "GET", "/health", {"Host": EVIL_HOST}),
    ("private-network Host", "GET", "/api/2.0/mlflow/experiments/search", {"Host": "192.168.1.20:5000"}),
    ("cross-origin POST", "POST", "/api/2.0/mlflow/experiments/search", {"Origin": EVIL_ORIGIN}),
    ("cross-origin GET", "GET", "/api/2.0/mlflow/experiments/search", {"Origin": EVIL_ORIGIN}),
    ("localhost-origin POST", "POST", "/api/2.0/mlflow/experiments/search", {"Origin": LOCAL_ORIGIN}),
    ("preflight from localhost", "OPTIONS", "/api/2.0/mlflow/experiments/search",
     {"Origin": LOCAL_ORIGIN, "Access-Control-Request-Method": "POST"}),
    ("preflight from elsewhere", "OPTIONS", "/api/2.0/mlflow/experiments/search",
     {"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "POST"}),
]


def _call(url: str, method: str, path: str, headers: dict) -> requests.Response:
    kwargs = {"json": {"max_results": 1}} if method == "POST" else {"params": {"max_results": 1}}
    return requests.request(method, url + path, headers=headers, timeout=30, **({} if method == "OPTIONS" else kwargs))


@pytest.mark.parametrize("name, method, path, headers", CASES, ids=[c[0] for c in CASES])
def test_same_answer_as_mlflow_server(mlflow_server, asyncclient_server, name, method, path, headers):
    theirs = _answer(_call(mlflow_server.url, method, path, headers))
    ours = _answer(_call(asyncclient_server.url, method, path, headers))
    assert theirs[:3] == ours[:3], f"{name}: mlflow {theirs}, asyncclient {ours}"
    # Security headers: wherever MLflow sends them, so do we (we also send them on its Host refusal).
    assert all(t is None or t == o for t, o in zip(theirs[3:], ours[3:], strict=True)), (theirs, ours)
    assert ours[4] == "nosniff"


def test_flags_change_the_policy(tmp_path):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "auth"))
    from auth_servers import start_auth_server

    server = start_auth_server("asyncclient", tmp_path, env=None, extra_args=(
        "--allowed-hosts", "tracking.example.com,127.0.0.1:*", "--cors-allowed-origins", "https://app.example.com",
        "--x-frame-options", "DENY"))
    try:
        admin = ("admin", "admin-password-1")
        url = server.url + "/api/2.0/mlflow/experiments/search"
        r = requests.post(url, json={}, auth=admin, headers={"Host": "tracking.example.com"}, timeout=30)
        assert r.status_code == 200 and r.headers["X-Frame-Options"] == "DENY"
        assert requests.post(url, json={}, auth=admin, headers={"Host": "192.168.1.20"}, timeout=30).status_code == 403
        r = requests.post(url, json={}, auth=admin, headers={"Origin": "https://app.example.com"}, timeout=30)
        assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        r = requests.post(url, json={}, auth=admin, headers={"Origin": "https://other.example.com"}, timeout=30)
        assert (r.status_code, r.text) == (403, "Cross-origin request blocked")
    finally:
        server.stop()


def test_frame_header_can_be_turned_off_and_middleware_disabled(tmp_path):
    from asyncclient.server.security import default_allowed_hosts

    assert "172.20.*" in default_allowed_hosts()
    out = subprocess.run([sys.executable, "-m", "asyncclient.server", "--help"], capture_output=True, text=True,
                         timeout=60).stdout
    for flag in ("--allowed-hosts", "--cors-allowed-origins", "--x-frame-options", "--disable-security-middleware",
                 "--app-name"):
        assert flag in out
