"""One tracking session driven by the real ``mlflow`` package, printed as JSON without ids and times.

Run as ``python mlflow_scenario.py <tracking_uri> <name_prefix> <output.json>``. The same script runs against asyncclient's
server and against ``mlflow server``; the differential test compares the two outputs.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


def _error(fn) -> str | None:
    try:
        fn()
    except MlflowException as e:
        return e.error_code
    return None


def _value(x: float):
    return "NaN" if math.isnan(x) else x


def _run_view(run) -> dict:
    tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.source") and k != "mlflow.user"}
    return {
        "name": run.info.run_name, "status": run.info.status, "stage": run.info.lifecycle_stage,
        "has_end_time": run.info.end_time is not None,
        "metrics": {k: _value(v) for k, v in sorted(run.data.metrics.items())},
        "params": dict(sorted(run.data.params.items())), "tags": dict(sorted(tags.items())),
        "datasets": sorted((d.dataset.name, d.dataset.digest, d.dataset.source_type)
                           for d in run.inputs.dataset_inputs),
    }


def client_part(uri: str, prefix: str, out: dict) -> None:
    client = MlflowClient(tracking_uri=uri)
    exp_id = client.create_experiment(f"{prefix}-exp", tags={"team": "a"})
    exp = client.get_experiment(exp_id)
    out["experiment"] = [exp.name, exp.lifecycle_stage, exp.tags]
    out["get_by_name_same_id"] = client.get_experiment_by_name(f"{prefix}-exp").experiment_id == exp_id
    out["get_by_name_missing"] = client.get_experiment_by_name(f"{prefix}-nope")
    out["duplicate_experiment"] = _error(lambda: client.create_experiment(f"{prefix}-exp"))

    run = client.create_run(exp_id, run_name="first", tags={"k": "v"})
    rid = run.info.run_id
    out["created"] = _run_view(run)
    client.log_metric(rid, "loss", 0.5, timestamp=1000, step=0)
    client.log_metric(rid, "loss", 0.25, timestamp=1001, step=1)
    client.log_metric(rid, "loss", 0.25, timestamp=1001, step=1)  # exact duplicate: dropped by SQL stores
    client.log_metric(rid, "nan", float("nan"), timestamp=1000, step=0)
    client.log_param(rid, "lr", "0.01")
    client.log_param(rid, "lr", "0.01")  # identical re-log is fine
    out["param_change"] = _error(lambda: client.log_param(rid, "lr", "0.02"))
    out["bad_key"] = _error(lambda: client.log_metric(rid, "a//b", 1.0))
    client.set_tag(rid, "stage", "train")
    client.log_batch(rid, metrics=[Metric("acc", i / 10, 2000 + i, i) for i in range(50)],
                     params=[Param("bs", "32")], tags=[RunTag("batch", "1")])
    out["history"] = [[m.key, m.value, m.timestamp, m.step] for m in client.get_metric_history(rid, "loss")]
    out["acc_points"] = len(client.get_metric_history(rid, "acc"))
    client.set_tag(rid, "temp", "x")
    client.delete_tag(rid, "temp")
    out["delete_missing_tag"] = _error(lambda: client.delete_tag(rid, "temp"))
    client.update_run(rid, name="renamed")
    out["run"] = _run_view(client.get_run(rid))
    client.set_terminated(rid, "FINISHED", end_time=5000)
    out["terminated"] = _run_view(client.get_run(rid))
    out["missing_run"] = _error(lambda: client.get_run("0" * 32))

    second = client.create_run(exp_id, run_name="second").info.run_id
    client.log_metric(second, "acc", 0.9, timestamp=3000, step=0)
    out["search"] = [r.info.run_name for r in client.search_runs([exp_id], "metrics.acc > 0.2",
                                                                 order_by=["metrics.acc DESC"])]
    out["search_by_param"] = [r.info.run_name for r in client.search_runs([exp_id], "params.bs = '32'")]
    out["search_by_tag"] = [r.info.run_name for r in client.search_runs([exp_id], "tags.stage LIKE 'tr%'")]
    out["bad_filter"] = _error(lambda: client.search_runs([exp_id], "metrics.acc > 1 OR metrics.acc < 0"))
    page = client.search_runs([exp_id], max_results=1, order_by=["attributes.run_name ASC"])
    out["paged"] = [[r.info.run_name for r in page], bool(page.token)]
    client.delete_run(second)
    out["active_after_delete"] = [r.info.run_name for r in client.search_runs([exp_id])]
    out["write_to_deleted"] = _error(lambda: client.log_metric(second, "acc", 1.0))
    client.restore_run(second)
    out["active_after_restore"] = sorted(r.info.run_name for r in client.search_runs([exp_id]))

    with tempfile.TemporaryDirectory() as tmp:
        client.log_text(rid, "hello", "notes/hello.txt")
        client.log_dict(rid, {"a": 1}, "config.json")
        out["artifacts"] = [[f.path, f.is_dir, f.file_size] for f in client.list_artifacts(rid)]
        out["artifacts_notes"] = [[f.path, f.is_dir, f.file_size] for f in client.list_artifacts(rid, "notes")]
        path = client.download_artifacts(rid, "notes/hello.txt", tmp)
        out["downloaded"] = Path(path).read_text()

    client.rename_experiment(exp_id, f"{prefix}-renamed")
    client.set_experiment_tag(exp_id, "note", "n")
    client.delete_experiment(exp_id)
    out["deleted_experiment"] = client.get_experiment(exp_id).lifecycle_stage
    out["search_deleted"] = [e.name for e in client.search_experiments(
        view_type=mlflow.entities.ViewType.DELETED_ONLY, filter_string=f"name = '{prefix}-renamed'")]
    client.restore_experiment(exp_id)
    restored = client.get_experiment(exp_id)
    out["restored_experiment"] = [restored.name, restored.lifecycle_stage, restored.tags]
    out["search_experiments"] = [e.name for e in client.search_experiments(filter_string=f"name LIKE '{prefix}%'")]


def fluent_part(uri: str, prefix: str, out: dict) -> None:
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(f"{prefix}-fluent")
    with mlflow.start_run(run_name="fluent") as run:
        mlflow.log_param("p", 1)
        mlflow.log_params({"q": "x", "r": 2.5})
        mlflow.set_tags({"t1": "a"})
        mlflow.log_input(mlflow.data.from_pandas(pd.DataFrame({"a": [1, 2]}), name="toy"), context="training")
        for step in range(20):
            mlflow.log_metric("sync", step * 0.5, step=step)
        for step in range(200):
            mlflow.log_metric("async", float(step), step=step, synchronous=False)
        mlflow.log_metrics({"m1": 1.0, "m2": 2.0}, step=1, synchronous=False)
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("child_metric", 3.0)
        mlflow.flush_async_logging()
        rid = run.info.run_id
    client = MlflowClient(tracking_uri=uri)
    finished = client.get_run(rid)
    view = _run_view(finished)
    view["tags"].pop("mlflow.runName", None)
    out["fluent_run"] = view
    out["fluent_async_points"] = [[m.step, m.value] for m in client.get_metric_history(rid, "async")][::50]
    out["fluent_async_count"] = len(client.get_metric_history(rid, "async"))
    out["fluent_sync_count"] = len(client.get_metric_history(rid, "sync"))
    child_run = client.get_run(child.info.run_id)
    out["fluent_child_parent_ok"] = child_run.data.tags.get("mlflow.parentRunId") == rid
    exp = mlflow.get_experiment_by_name(f"{prefix}-fluent")
    found = mlflow.search_runs([exp.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{rid}'",
                               output_format="list")
    out["fluent_children"] = [r.info.run_name for r in found]


def main() -> None:
    uri, prefix, output = sys.argv[1], sys.argv[2], sys.argv[3]
    out: dict = {}
    client_part(uri, prefix, out)
    fluent_part(uri, prefix, out)
    # A file, not stdout: MLflow prints "View run ..." lines there.
    Path(output).write_text(json.dumps(out, sort_keys=True, indent=1))


if __name__ == "__main__":
    main()
