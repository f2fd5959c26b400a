"""Import from each kind of MLflow store and export back, comparing with MLflow's client on both sides."""

from __future__ import annotations

import os
import uuid
from contextlib import ExitStack

import pytest

from tests.migrate.mlflow_data import differences, populate, snapshot
from tests.migrate.procs import asyncclient_server, mlflow_server, run_cli

UP_TO_DATE = "0 new runs, 0 updated runs; 4 runs already up to date"


def _populated_source(kind: str, workdir: str, stack: ExitStack) -> tuple[str, str]:
    """(the argument given to `asyncclient import`, the URI MLflow's client reads it through)."""
    if kind == "server":
        url = stack.enter_context(mlflow_server(os.path.join(workdir, "source")))
        populate(url, steps=300)  # few points: a loaded mlflow server answers slowly
        return url, url
    if kind == "database":
        uri = f"sqlite:///{workdir}/mlflow.db"
        populate(uri)
        return uri, uri
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 keeps the file store behind this switch
    populate(f"file://{workdir}/mlruns")
    return f"{workdir}/mlruns", f"file://{workdir}/mlruns"


def _imported(source_arg: str, dest: str, stack: ExitStack, workdir: str) -> str:
    """Import into the embedded store at ``dest``; the URL of an asyncclient server over it."""
    assert "4 new runs" in run_cli("import", source_arg, "--to", dest).stdout
    return stack.enter_context(asyncclient_server(os.path.join(workdir, "serve"), f"sqlite:///{dest}/mlflow.db"))


@pytest.mark.parametrize("kind", ["server", "database", "file_store"])
def test_import_keeps_everything_mlflow_shows(kind, tmp_path):
    with ExitStack() as stack:
        source_arg, source_uri = _populated_source(kind, str(tmp_path), stack)
        expected = snapshot(source_uri)
        assert sum(len(e["runs"]) for e in expected.values()) == 4
        served = _imported(source_arg, str(tmp_path / "imported"), stack, str(tmp_path))
        assert not differences(snapshot(served), expected)
        # Nothing changed at the source: importing again copies nothing.
        assert UP_TO_DATE in run_cli("import", source_arg, "--to", str(tmp_path / "imported")).stdout


def test_export_to_mlflow_server_brings_everything_back(tmp_path, mlflow_server):
    # The session's shared `mlflow server` (tests/conftest.py): experiment names of this test only.
    source = f"sqlite:///{tmp_path}/mlflow.db"
    names = populate(source, prefix=f"export-{uuid.uuid4().hex[:8]}-")
    expected = snapshot(source, only=names)
    dest = str(tmp_path / "imported")
    assert "4 new runs" in run_cli("import", source, "--to", dest).stdout
    only = [arg for name in names for arg in ("--experiment", name)]
    assert "4 new runs" in run_cli("export", mlflow_server.url, "--from", dest, *only).stdout
    # The server chose new run ids; asyncclient.source_run_id names each run's id in asyncclient.
    assert not differences(snapshot(mlflow_server.url, source_ids=True, only=names), expected)
    # Without --from, export reads the current tracking URI.
    assert UP_TO_DATE in run_cli("export", mlflow_server.url, *only, tracking_uri=dest).stdout
