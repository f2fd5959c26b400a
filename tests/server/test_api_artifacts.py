"""The proxied artifact service, run artifact listing, ``/get-artifact`` and the disabled modes."""

from __future__ import annotations

import pytest
from server_procs import start_server, stop

SERVICE = "/api/2.0/mlflow-artifacts/artifacts"


def _put(http, server, path, data: bytes, content_type="text/plain"):
    return http.put(f"{server.url}{SERVICE}/{path}", data=data, headers={"Content-Type": content_type})


def test_put_then_get_returns_the_bytes_as_attachment(http, server, unique):
    assert _put(http, server, f"{unique}/dir/hello.txt", b"hello world").json() == {}
    r = http.get(f"{server.url}{SERVICE}/{unique}/dir/hello.txt")
    assert (r.status_code, r.content) == (200, b"hello world")
    assert r.headers["Content-Disposition"] == 'attachment; filename="hello.txt"'
    assert r.headers["Content-Type"].startswith("text/plain")
    assert (server.workdir / "mlartifacts" / unique / "dir" / "hello.txt").read_bytes() == b"hello world"


def test_large_upload_is_streamed_and_not_capped_by_the_json_limit(http, server, unique):
    blob = bytes(range(256)) * (80 * 1024)  # 20 MiB, over the 16 MiB request-body cap for JSON
    assert _put(http, server, f"{unique}/big.bin", blob, "application/octet-stream").status_code == 200
    assert http.get(f"{server.url}{SERVICE}/{unique}/big.bin").content == blob


def test_list_gives_basenames_sorted_with_sizes(http, server, unique):
    _put(http, server, f"{unique}/b.txt", b"12345")
    _put(http, server, f"{unique}/a/inner.txt", b"x")
    _put(http, server, f"{unique}/empty.txt", b"")
    body = http.get(f"{server.url}{SERVICE}", params={"path": unique}).json()
    assert body == {"files": [{"path": "a", "is_dir": True}, {"path": "b.txt", "is_dir": False, "file_size": 5},
                              {"path": "empty.txt", "is_dir": False}]}


def test_list_of_a_file_or_missing_path_is_empty(http, server, unique):
    _put(http, server, f"{unique}/f.txt", b"1")
    assert http.get(f"{server.url}{SERVICE}", params={"path": f"{unique}/f.txt"}).json() == {}
    assert http.get(f"{server.url}{SERVICE}", params={"path": f"{unique}/nope"}).json() == {}


def test_delete_is_recursive(http, server, unique):
    _put(http, server, f"{unique}/d/x.txt", b"1")
    _put(http, server, f"{unique}/d/sub/y.txt", b"2")
    assert http.delete(f"{server.url}{SERVICE}/{unique}/d").json() == {}
    assert http.get(f"{server.url}{SERVICE}/{unique}/d/x.txt").status_code == 404


def test_get_missing_is_404_and_directory_is_400(http, server, unique):
    r = http.get(f"{server.url}{SERVICE}/{unique}/missing.txt")
    assert (r.status_code, r.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    _put(http, server, f"{unique}/dir/f.txt", b"1")
    r = http.get(f"{server.url}{SERVICE}/{unique}/dir")
    assert (r.status_code, r.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("path", ["%2E%2E/escape.txt", "a/%252e%252e/%252e%252e/escape.txt", "a%23b.txt"])
def test_unsafe_paths_are_400(http, server, path):
    r = http.put(f"{server.url}{SERVICE}/{path}", data=b"x")
    assert (r.status_code, r.json()) == (400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"})


def test_unsafe_list_path_is_400(http, server):
    r = http.get(f"{server.url}{SERVICE}", params={"path": "../etc"})
    assert r.status_code == 400


def test_multipart_upload_to_a_local_destination_assembles_the_parts_in_order(http, server, unique):
    r = http.post(f"{server.url}/api/2.0/mlflow-artifacts/mpu/create/{unique}",
                  json={"path": "/home/me/f.bin", "num_parts": 2})
    assert r.status_code == 200, r.text
    upload = r.json()
    parts = []
    # Sent out of order: the file follows part numbers, not arrival.
    for cred, body in sorted(zip(upload["credentials"], [b"first-", b"second"], strict=True),
                             key=lambda pair: -pair[0]["part_number"]):
        put = http.put(cred["url"], data=body, headers=cred["headers"])
        assert put.status_code == 200, put.text
        parts.append({"part_number": cred["part_number"], "etag": put.headers["ETag"], "url": cred["url"]})
    done = http.post(f"{server.url}/api/2.0/mlflow-artifacts/mpu/complete/{unique}",
                     json={"path": "/home/me/f.bin", "upload_id": upload["upload_id"], "parts": parts})
    assert done.status_code == 200, done.text
    assert http.get(f"{server.url}{SERVICE}/{unique}/f.bin").content == b"first-second"
    listing = http.get(f"{server.url}{SERVICE}", params={"path": unique}).json()
    assert listing == {"files": [{"path": "f.bin", "is_dir": False, "file_size": 12}]}


def test_run_artifact_listing_is_relative_to_the_run_root(api, http, server, unique):
    exp, rid = api.new_run(unique)
    _put(http, server, f"{exp}/{rid}/artifacts/model/MLmodel", b"flavors: {}")
    _put(http, server, f"{exp}/{rid}/artifacts/notes.txt", b"abc")
    root = api.ok_get("artifacts/list", {"run_id": rid})
    assert root == {"root_uri": f"mlflow-artifacts:/{exp}/{rid}/artifacts",
                    "files": [{"path": "model", "is_dir": True}, {"path": "notes.txt", "is_dir": False, "file_size": 3}]}
    sub = api.ok_get("artifacts/list", {"run_id": rid, "path": "model"})
    assert sub["files"] == [{"path": "model/MLmodel", "is_dir": False, "file_size": 11}]


def test_run_artifact_listing_rejects_unsafe_path(api, unique):
    _, rid = api.new_run(unique)
    status, body = api.get("artifacts/list", {"run_id": rid, "path": "../../x"})
    assert (status, body["message"]) == (400, "Invalid path")


def test_run_artifacts_in_a_local_artifact_location(api, tmp_path, unique):
    exp = api.ok_post("experiments/create", {"name": unique, "artifact_location": str(tmp_path)})["experiment_id"]
    rid = api.ok_post("runs/create", {"experiment_id": exp})["run"]["info"]["run_id"]
    (tmp_path / rid / "artifacts").mkdir(parents=True)
    (tmp_path / rid / "artifacts" / "f.txt").write_text("local")
    assert api.ok_get("artifacts/list", {"run_id": rid})["files"] == [{"path": "f.txt", "is_dir": False, "file_size": 5}]


def test_get_artifact_serves_a_run_file(api, http, server, unique):
    exp, rid = api.new_run(unique)
    _put(http, server, f"{exp}/{rid}/artifacts/plot.json", b'{"a": 1}')
    r = http.get(f"{server.url}/get-artifact", params={"run_id": rid, "path": "plot.json"})
    assert (r.status_code, r.content) == (200, b'{"a": 1}')
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert http.get(f"{server.url}/get-artifact", params={"run_uuid": rid, "path": "nope"}).status_code == 404
    assert http.get(f"{server.url}/get-artifact", params={"run_id": rid, "path": "../x"}).status_code == 400


@pytest.fixture(scope="module")
def no_artifacts_server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("noart"), "--no-serve-artifacts")
    yield srv
    stop(srv.proc)


def test_no_serve_artifacts_answers_503_plain_text(http, no_artifacts_server):
    r = http.get(f"{no_artifacts_server.url}{SERVICE}", params={"path": "x"})
    assert r.status_code == 503 and r.headers["Content-Type"].startswith("text/plain")
    assert "--no-serve-artifacts" in r.text
    assert http.put(f"{no_artifacts_server.url}{SERVICE}/a/b.txt", data=b"1").status_code == 503


def test_no_serve_artifacts_keeps_tracking_and_local_roots(http, no_artifacts_server):
    r = http.post(no_artifacts_server.api("experiments/create"), json={"name": "e"})
    exp = http.get(no_artifacts_server.api("experiments/get"), params={"experiment_id": r.json()["experiment_id"]}).json()
    assert not exp["experiment"]["artifact_location"].startswith("mlflow-artifacts:")


@pytest.fixture(scope="module")
def artifacts_only_server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("artonly"), "--artifacts-only", backend=None)
    yield srv
    stop(srv.proc)


def test_artifacts_only_disables_tracking_routes(http, artifacts_only_server):
    r = http.post(artifacts_only_server.api("experiments/create"), json={"name": "e"})
    assert r.status_code == 503 and "--artifacts-only" in r.text
    assert http.get(f"{artifacts_only_server.url}/get-artifact", params={"run_id": "x", "path": "y"}).status_code == 503
    assert _put(http, artifacts_only_server, "a/b.txt", b"1").status_code == 200
    assert http.get(f"{artifacts_only_server.url}{SERVICE}/a/b.txt").content == b"1"
