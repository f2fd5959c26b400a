"""A source run that changed after an import is brought up to date by the next import, and only it."""

from __future__ import annotations

from contextlib import ExitStack

from mlflow.entities import Metric, RunTag, ViewType
from mlflow.tracking import MlflowClient

from tests.migrate.mlflow_data import T0, differences, populate, snapshot
from tests.migrate.procs import asyncclient_server, run_cli


def test_changed_run_gets_its_new_tags_points_and_files(tmp_path):
    source = f"sqlite:///{tmp_path}/mlflow.db"
    populate(source, steps=50)
    dest = str(tmp_path / "dest")
    run_cli("import", source, "--to", dest)

    client = MlflowClient(source)
    alpha = client.get_experiment_by_name("alpha").experiment_id
    run = next(r for r in client.search_runs([alpha], run_view_type=ViewType.ALL) if r.info.run_name == "run-1-0")
    rid = run.info.run_id
    client.log_batch(rid, metrics=[Metric("loss", 0.001 * s, T0 + 100 + s, 50 + s) for s in range(10)],
                     tags=[RunTag("kind", "changed"), RunTag("added", "yes")])
    client.delete_tag(rid, "empty")
    (tmp_path / "late.txt").write_text("logged after the first import")
    client.log_artifact(rid, str(tmp_path / "late.txt"), "late")

    report = run_cli("import", source, "--to", dest).stdout
    assert "0 new runs, 1 updated runs; 3 runs already up to date" in report
    assert "10 metric points" in report and "1 artifact files" in report
    with ExitStack() as stack:
        served = stack.enter_context(asyncclient_server(str(tmp_path / "serve"), f"sqlite:///{dest}/mlflow.db"))
        assert not differences(snapshot(served), snapshot(source))
