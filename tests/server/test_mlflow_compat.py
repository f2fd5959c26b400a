"""The real ``mlflow`` client works unchanged against asyncclient's server, and gives the same results as
against ``mlflow server`` (a differential test: one scenario script, two servers, ids and times ignored)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = Path(__file__).with_name("mlflow_scenario.py")


def run_scenario(tracking_uri: str, prefix: str, workdir: Path) -> dict:
    out = workdir / f"{prefix}.json"
    # No retries: a 5xx must fail the test at once, not after minutes of backoff.
    env = {**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    proc = subprocess.run([sys.executable, str(SCENARIO), tracking_uri, prefix, str(out)], env=env,
                          cwd=workdir, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def ours(server, tmp_path_factory) -> dict:
    return run_scenario(server.url, "compat", tmp_path_factory.mktemp("scenario-ours"))


@pytest.fixture(scope="module")
def theirs(mlflow_server, tmp_path_factory) -> dict:
    return run_scenario(mlflow_server.url, "compat", tmp_path_factory.mktemp("scenario-mlflow"))


def test_mlflow_client_logs_and_reads_back(ours):
    assert ours["run"]["metrics"] == {"acc": 4.9, "loss": 0.25, "nan": "NaN"}
    assert ours["run"]["params"] == {"bs": "32", "lr": "0.01"}
    assert ours["run"]["tags"] == {"batch": "1", "k": "v", "mlflow.runName": "renamed", "stage": "train"}
    assert ours["history"] == [["loss", 0.5, 1000, 0], ["loss", 0.25, 1001, 1]]
    assert ours["acc_points"] == 50


def test_mlflow_client_sees_mlflows_error_codes(ours):
    assert ours["duplicate_experiment"] == "RESOURCE_ALREADY_EXISTS"
    assert ours["param_change"] == ours["bad_key"] == ours["bad_filter"] == "INVALID_PARAMETER_VALUE"
    assert ours["missing_run"] == ours["delete_missing_tag"] == "RESOURCE_DOES_NOT_EXIST"
    assert ours["write_to_deleted"] == "INVALID_PARAMETER_VALUE"


def test_mlflow_client_terminate_delete_restore_and_search(ours):
    assert ours["terminated"]["status"] == "FINISHED" and ours["terminated"]["has_end_time"]
    assert ours["search"] == ["renamed", "second"]
    assert ours["active_after_delete"] == ["renamed"]
    assert ours["active_after_restore"] == ["renamed", "second"]
    assert ours["deleted_experiment"] == "deleted"
    assert ours["restored_experiment"] == ["compat-renamed", "active", {"note": "n", "team": "a"}]


def test_mlflow_client_artifacts_go_through_the_proxy(ours):
    assert ours["artifacts"] == [["config.json", False, 12], ["notes", True, None]]
    assert ours["artifacts_notes"] == [["notes/hello.txt", False, 5]]
    assert ours["downloaded"] == "hello"


def test_mlflow_fluent_api_sync_and_async_logging(ours):
    run = ours["fluent_run"]
    assert run["status"] == "FINISHED"
    assert run["metrics"] == {"async": 199.0, "m1": 1.0, "m2": 2.0, "sync": 9.5}
    assert run["params"] == {"p": "1", "q": "x", "r": "2.5"}
    assert ours["fluent_async_count"] == 200 and ours["fluent_sync_count"] == 20
    assert ours["fluent_child_parent_ok"] and ours["fluent_children"] == ["child"]
    assert [d[0] for d in run["datasets"]] == ["toy"]


def test_same_results_as_mlflow_server(ours, theirs):
    differing = {k: (ours.get(k), theirs.get(k)) for k in sorted(set(ours) | set(theirs)) if ours.get(k) != theirs.get(k)}
    assert differing == {}
