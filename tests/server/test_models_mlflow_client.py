"""MLflow 3.17.2's own client logs, registers and loads a scikit-learn model through asyncclient's server,
and the same script gives the same results against ``mlflow server`` (a differential test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from server_procs import start_server, stop

SCENARIO = Path(__file__).with_name("models_scenario.py")


def run_scenario(tracking_uri: str, prefix: str, workdir: Path) -> dict:
    out = workdir / f"{prefix}.json"
    # No retries: a 5xx must fail the test at once, not after minutes of backoff.
    env = {**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    proc = subprocess.run([sys.executable, str(SCENARIO), tracking_uri, prefix, str(out)], env=env,
                          cwd=workdir, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def ours(server, tmp_path_factory) -> dict:
    return run_scenario(server.url, "models", tmp_path_factory.mktemp("models-ours"))


@pytest.fixture(scope="module")
def theirs(mlflow_server, tmp_path_factory) -> dict:
    return run_scenario(mlflow_server.url, "models", tmp_path_factory.mktemp("models-mlflow"))


def test_sklearn_log_model_then_load_model_predicts_as_the_fitted_model(ours):
    assert ours["model_uri_is_models_id"] is True
    assert ours["loaded_sklearn"] == ours["expected"]
    assert ours["loaded_from_run_uri"] == ours["expected"]


def test_get_logged_model_has_run_params_metric_and_ready_status(ours):
    lm = ours["logged_model"]
    assert lm["name"] == "model" and lm["status"] == "READY"
    assert lm["source_run_matches"] and lm["experiment_matches"]
    assert lm["params"] == {"alpha": "0.5", "fit_intercept": "True"}
    assert lm["metrics"] == [["rmse", 0.125, 1]]
    assert ours["run_outputs"] == [True]


def test_search_logged_models_by_name_metric_and_param(ours):
    assert ours["search_logged_models"] == [True]
    assert ours["search_logged_models_metric"] == 1
    assert ours["search_logged_models_none"] == 0
    assert ours["logged_model_tags_after_set"] == "a"


def test_register_model_alias_and_pyfunc_load_by_alias_and_version(ours):
    assert ours["registered_version"] == "1" and ours["second_version"] == "2"
    assert ours["mv_source_is_model"] and ours["mv_run_id_matches"]
    assert ours["by_alias_version"] == "1"
    assert ours["pyfunc_alias"] == ours["pyfunc_version"] == ours["renamed_load"] == ours["expected"]


def test_registry_search_stages_tags_rename_and_delete(ours):
    assert ours["search_model_versions"] == [[True, "1", "None"], [True, "2", "None"]]
    assert ours["latest_staging"] == ["2"]
    assert ours["registered_model"] == {"aliases": {"champion": "1"}, "description": "demo",
                                        "latest": [["1", "None"], ["2", "Staging"]], "tags": {"owner": "ml"}}
    assert ours["search_registered_models"] == [True]
    assert ours["after_delete_versions"] == ["1"]


def test_model_files_download_through_the_ui_routes_with_path_validation(ours):
    assert ours["download_uri_is_model_artifacts"] is True
    assert ours["get_artifact"] == [200, True] and ours["logged_model_file"] == [200, True]
    assert ours["get_artifact_traversal"] == [400, 400, 400]
    assert ["MLmodel", False] in ours["logged_model_listing"]  # JSON: pairs come back as lists


def test_registry_and_logged_model_errors_use_mlflows_codes(ours):
    assert ours["missing_model"] == ours["missing_version"] == "RESOURCE_DOES_NOT_EXIST"
    assert ours["duplicate_model"] == "RESOURCE_ALREADY_EXISTS"
    assert ours["deleted_model"] == ours["deleted_logged_model"] == "RESOURCE_DOES_NOT_EXIST"


def test_same_results_as_mlflow_server(ours, theirs):
    assert ours == theirs


@pytest.fixture(scope="module")
def postgres_server(postgres_server_uri, tmp_path_factory):
    """An asyncclient server on its own PostgreSQL database (two worker processes)."""
    import uuid

    name = "models_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(postgres_server_uri.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))  # generated identifier
    srv = start_server(tmp_path_factory.mktemp("models-pg"), "--workers", "2",
                       backend=f"{postgres_server_uri.rpartition('/')[0]}/{name}")
    yield srv
    stop(srv.proc)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_same_results_on_postgresql(postgres_server, ours, tmp_path_factory):
    on_postgres = run_scenario(postgres_server.url, "models", tmp_path_factory.mktemp("models-pg-run"))
    assert on_postgres == ours
