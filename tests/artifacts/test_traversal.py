"""Path traversal on every artifact route: ``..``, absolute paths, percent-encoded (once and twice) and
backslash variants, and NUL are answered 4xx, and nothing outside the destination is read or written.

The destination is ``<root>/dest`` and a sentinel lives at ``<root>/secret.txt``, where each payload would
land if it escaped (from the service root or from a run's ``<exp>/<run>/artifacts`` folder). Requests are
sent with ``http.client`` so no client library normalizes the path before the server sees it.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.parse

import mlflow
import pytest

SECRET = b"TOPSECRET-do-not-serve"
UPLOAD_ID = "0" * 32
DEPTH = 4  # <dest>/<exp>/<run>/artifacts: four levels under <root>


def _payloads(secret_abs: str) -> list[str]:
    """Raw strings as the server must see them after URL decoding (each is encoded once when sent)."""
    up = "../" * DEPTH
    return [
        up + "secret.txt",
        "a/" + up + "../secret.txt",
        "%2e%2e/" * DEPTH + "secret.txt",  # arrives percent-encoded once more: double-encoded
        "%252e%252e/" * DEPTH + "secret.txt",
        "..\\" * DEPTH + "secret.txt",
        "..%5c" * DEPTH + "secret.txt",
        secret_abs,
        "//" + secret_abs.lstrip("/"),
        "file://" + secret_abs,
        "C:\\secret.txt",
        "C:/secret.txt",
        "secret.txt\x00.png",
    ]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A server over ``<root>/dest`` with a run, a logged model and a model version to aim at."""
    from artifact_fixtures import _stop, start_server

    root = tmp_path_factory.mktemp("traversal")
    (root / "dest").mkdir()
    (root / "secret.txt").write_bytes(SECRET)
    server = start_server(root / "server", "--artifacts-destination", str(root / "dest"))
    client = mlflow.MlflowClient(server.url)
    exp = client.create_experiment("traversal")
    run_id = client.create_run(exp).info.run_id
    model_id = client.create_logged_model(exp, name="m").model_id
    client.create_registered_model("hostile")
    client.create_model_version("hostile", f"mlflow-artifacts:/{exp}/{run_id}/artifacts/model", run_id=run_id)
    yield server, root, run_id, model_id
    _stop(server.proc)


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _in_path(value: str) -> str:
    # Keep "/" and "\\" raw in a path (as a browser or curl sends them), encode the rest once.
    return urllib.parse.quote(value, safe="/\\")


ROUTES = {
    # name: (method, url builder(payload, run_id, model_id), body)
    "GET artifacts/<path>": ("GET", lambda p, r, m: f"/api/2.0/mlflow-artifacts/artifacts/{_in_path(p)}", None),
    "GET ajax artifacts/<path>": ("GET", lambda p, r, m: f"/ajax-api/2.0/mlflow-artifacts/artifacts/{_in_path(p)}",
                                  None),
    "PUT artifacts/<path>": ("PUT", lambda p, r, m: f"/api/2.0/mlflow-artifacts/artifacts/{_in_path(p)}", b"pwned"),
    "DELETE artifacts/<path>": ("DELETE", lambda p, r, m: f"/api/2.0/mlflow-artifacts/artifacts/{_in_path(p)}",
                                None),
    "GET artifacts?path=": ("GET", lambda p, r, m: f"/api/2.0/mlflow-artifacts/artifacts?path={_q(p)}", None),
    "POST mpu/create/<path>": ("POST", lambda p, r, m: f"/api/2.0/mlflow-artifacts/mpu/create/{_in_path(p)}",
                               {"path": "x.bin", "num_parts": 1}),
    "POST mpu/complete/<path>": ("POST", lambda p, r, m: f"/api/2.0/mlflow-artifacts/mpu/complete/{_in_path(p)}",
                                 {"path": "x.bin", "upload_id": UPLOAD_ID, "parts": [{"part_number": 1}]}),
    "POST mpu/abort/<path>": ("POST", lambda p, r, m: f"/api/2.0/mlflow-artifacts/mpu/abort/{_in_path(p)}",
                              {"path": "x.bin", "upload_id": UPLOAD_ID}),
    "PUT mpu/part/<path>": ("PUT", lambda p, r, m: f"/api/2.0/mlflow-artifacts/mpu/part/{_in_path(p)}"
                            f"?upload_id={UPLOAD_ID}&part_number=1", b"pwned"),
    "GET presigned/<path>": ("GET", lambda p, r, m: f"/api/2.0/mlflow-artifacts/presigned/{_in_path(p)}", None),
    "GET mlflow/artifacts/list": ("GET", lambda p, r, m: f"/api/2.0/mlflow/artifacts/list?run_id={r}&path={_q(p)}",
                                  None),
    "GET /get-artifact": ("GET", lambda p, r, m: f"/get-artifact?run_id={r}&path={_q(p)}", None),
    "POST upload-artifact": ("POST", lambda p, r, m: f"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={r}&path={_q(p)}",
                             b"pwned"),
    "GET logged-model files": ("GET", lambda p, r, m: f"/api/2.0/mlflow/logged-models/{m}/artifacts/files"
                               f"?artifact_file_path={_q(p)}", None),
    "GET logged-model directories": ("GET", lambda p, r, m: f"/api/2.0/mlflow/logged-models/{m}/artifacts/"
                                     f"directories?artifact_directory_path={_q(p)}", None),
    "GET model-versions/get-artifact": ("GET", lambda p, r, m: "/model-versions/get-artifact?name=hostile&version=1"
                                        f"&path={_q(p)}", None),
}


def _send(server_url: str, method: str, url: str, body) -> tuple[int, bytes]:
    host, port = urllib.parse.urlsplit(server_url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {}
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, url, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _outside(root) -> list[str]:
    """Everything under <root> that is neither the destination, the server's folder nor the sentinel."""
    return sorted(n for n in os.listdir(root) if n not in ("dest", "server", "secret.txt"))


@pytest.mark.parametrize("route", list(ROUTES))
def test_traversal_is_refused_with_4xx_and_touches_nothing_outside(hostile, route):
    server, root, run_id, model_id = hostile
    method, url_of, body = ROUTES[route]
    accepted = []
    for payload in _payloads(str(root / "secret.txt")):
        status, content = _send(server.url, method, url_of(payload, run_id, model_id),
                                body(payload) if callable(body) else body)
        if not 400 <= status < 500 or SECRET in content:
            accepted.append((payload, status, content[:120]))
    assert accepted == [], f"{route}: not refused with a 4xx"
    assert (root / "secret.txt").read_bytes() == SECRET
    assert _outside(root) == []


def test_graphql_artifact_listing_refuses_traversal(hostile):
    server, root, run_id, _ = hostile
    query = ("query L($data: MlflowListArtifactsInput) { mlflowListArtifacts(input: $data) "
             "{ files { path isDir fileSize } } }")
    for payload in _payloads(str(root / "secret.txt")):
        status, content = _send(server.url, "POST", "/graphql",
                                {"query": query, "variables": {"data": {"runId": run_id, "path": payload}}})
        body = json.loads(content)
        assert body["errors"], payload
        assert "secret.txt" not in json.dumps(body["data"]), payload


def test_multipart_local_file_path_only_names_the_file(hostile):
    """``path`` in an mpu request is the client's local file (MLflow's client sends its absolute path): only
    its last segment is used, so the upload stays in the folder the route names."""
    server, root, _, _ = hostile
    status, content = _send(server.url, "POST", "/api/2.0/mlflow-artifacts/mpu/create/up",
                            {"path": "C:\\Users\\me\\..\\" + str(root / "secret.txt"), "num_parts": 1})
    assert status == 200, content
    upload = json.loads(content)
    part = urllib.parse.urlsplit(upload["credentials"][0]["url"])
    assert part.path == "/api/2.0/mlflow-artifacts/mpu/part/up/secret.txt"
    assert _send(server.url, "PUT", f"{part.path}?{part.query}", b"inside")[0] == 200
    status, _ = _send(server.url, "POST", "/api/2.0/mlflow-artifacts/mpu/complete/up",
                      {"path": "/x/secret.txt", "upload_id": upload["upload_id"], "parts": [{"part_number": 1}]})
    assert status == 200
    assert (root / "dest" / "up" / "secret.txt").read_bytes() == b"inside"
    assert (root / "secret.txt").read_bytes() == SECRET


def test_safe_paths_still_work_on_the_same_routes(hostile):
    """The refusals above come from the path check, not from routes that refuse everything."""
    server, root, run_id, _ = hostile
    status, _ = _send(server.url, "PUT", "/api/2.0/mlflow-artifacts/artifacts/ok/fine.txt", b"fine")
    assert status == 200
    assert (root / "dest" / "ok" / "fine.txt").read_bytes() == b"fine"
    assert _send(server.url, "GET", "/api/2.0/mlflow-artifacts/artifacts/ok/fine.txt", None) == (200, b"fine")
