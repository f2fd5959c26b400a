"""Filters by experiment and start time, --dry-run, the progress bar, and errors that name what is wrong."""

from __future__ import annotations

import os

import pytest

from asyncclient.entities import ViewType
from asyncclient.tracking import MlflowClient
from tests.migrate.mlflow_data import T0, populate
from tests.migrate.procs import run_cli


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    uri = f"sqlite:///{tmp_path_factory.mktemp('source')}/mlflow.db"
    populate(uri, steps=50)
    return uri


def _runs_by_experiment(dest: str) -> dict[str, set[str]]:
    client = MlflowClient(dest)
    return {e.name: {r.info.run_name for r in client.search_runs([e.experiment_id], run_view_type=ViewType.ALL)}
            for e in client.search_experiments(view_type=ViewType.ALL)}


def test_dry_run_says_what_it_would_copy_and_writes_nothing(source, tmp_path):
    done = run_cli("import", source, "--to", str(tmp_path / "dest"), "--dry-run")
    assert "would copy: 2 new experiments, 4 new runs, 0 updated runs" in done.stdout
    assert not os.path.exists(tmp_path / "dest" / "mlflow.db")


def test_experiment_filter_copies_only_that_experiment(source, tmp_path):
    dest = str(tmp_path / "dest")
    run_cli("import", source, "--to", dest, "--experiment", "alpha")
    assert _runs_by_experiment(dest) == {"Default": set(), "alpha": {"run-1-0", "run-1-1"}}


def test_time_window_copies_runs_started_inside_it(source, tmp_path):
    dest = str(tmp_path / "dest")
    # Runs start at T0 + 1000 * (10 * experiment + i): this window holds alpha's second run and beta's.
    # --since as an ISO time (UTC when no zone is given), --until in ms since the epoch.
    assert T0 + 11_000 == 1_700_000_011_000
    run_cli("import", source, "--to", dest, "--since", "2023-11-14T22:13:31", "--until", str(T0 + 21_000))
    assert _runs_by_experiment(dest) == {"Default": set(), "alpha": {"run-1-1"}, "beta": {"run-2-0"}}


def test_progress_bar_counts_runs(source, tmp_path):
    done = run_cli("import", source, "--to", str(tmp_path / "dest"), progress=True)
    assert "4/4" in done.stderr


def test_unknown_experiment_is_an_error_naming_it(source, tmp_path):
    done = run_cli("import", source, "--to", str(tmp_path / "dest"), "--experiment", "nope", check=False)
    assert done.returncode != 0 and "'nope'" in done.stderr


def test_source_that_is_no_mlflow_store_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    done = run_cli("import", str(tmp_path / "empty"), "--to", str(tmp_path / "dest"), check=False)
    assert done.returncode != 0 and "not an MLflow file store" in done.stderr


def test_destination_defaults_to_the_current_tracking_uri(source, tmp_path):
    dest = str(tmp_path / "current")
    run_cli("import", source, "--experiment", "alpha", tracking_uri=dest)
    assert _runs_by_experiment(dest) == {"Default": set(), "alpha": {"run-1-0", "run-1-1"}}
