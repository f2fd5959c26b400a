"""Populate a tracking store with MLflow's own client, and read one back into plain data to compare."""

from __future__ import annotations

import math
import os
import sys
import tempfile

import mlflow
import pandas as pd
from mlflow.entities import DatasetInput, InputTag, Metric, Param, RunTag, ViewType
from mlflow.tracking import MlflowClient

T0 = 1_700_000_000_000
MARKER_PREFIX = "asyncclient."


def _log_points(client: MlflowClient, run_id: str, points: list[Metric]) -> None:
    for start in range(0, len(points), 1000):  # MLflow's log_batch limit
        client.log_batch(run_id, metrics=points[start:start + 1000])


def _dataset_input(name: str, context: str) -> DatasetInput:
    frame = pd.DataFrame({"x": [1, 2, 3], "label": ["a", "b", "a"]})
    dataset = mlflow.data.from_pandas(frame, source=f"s3://bucket/{name}.csv", name=name)
    return DatasetInput(dataset._to_mlflow_entity(), tags=[InputTag("mlflow.data.context", context)])


def populate(uri: str, runs: tuple[int, int, int] = (1, 2, 1), steps: int = 1200, prefix: str = "") -> list[str]:
    """Experiments (one deleted, with tags), runs in every state (finished, failed, running, deleted), params,
    tags, histories with NaN, ±inf, repeated steps and out-of-order timestamps, datasets and artifacts.

    ``runs``: how many runs in Default, alpha and beta (deleted); alpha's second run is deleted. With a
    ``prefix`` (a server shared with other tests) the experiments are <prefix>gamma, <prefix>alpha and
    <prefix>beta instead. Returns the experiment names."""
    client = MlflowClient(uri)
    first = client.create_experiment(prefix + "gamma") if prefix else "0"
    alpha = client.create_experiment(prefix + "alpha", tags={"team": "vision", "mlflow.note.content": "# sweep"})
    beta = client.create_experiment(prefix + "beta", tags={"stage": "old"})
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "notes.txt"), "w") as f:
            f.write("hello from MLflow\n")
        os.makedirs(os.path.join(tmp, "model", "weights"))
        with open(os.path.join(tmp, "model", "weights", "w.bin"), "wb") as f:
            f.write(bytes(range(256)) * 40)
        count = 0
        for e, experiment_id in enumerate([first, alpha, beta]):
            for i in range(runs[e]):
                count += 1
                start = T0 + 1000 * (10 * e + i)
                run = client.create_run(experiment_id, start_time=start, tags={"kind": f"k{i}"},
                                        run_name=f"run-{e}-{i}")
                rid = run.info.run_id
                client.log_batch(rid, params=[Param("lr", str(0.1 / (i + 1))), Param("layers", str(e + 2))],
                                 tags=[RunTag("mlflow.source.name", "train.py"), RunTag("empty", "")])
                points = [Metric("loss", 1.0 / (s + 1), start + s, s) for s in range(steps)]
                points += [Metric("acc", float(s % 7) / 7, start + steps - s, s) for s in range(0, steps, 3)]
                points += [Metric("odd", math.nan, start, 0), Metric("odd", math.inf, start + 1, 1),
                           Metric("odd", -math.inf, start + 2, 2), Metric("odd", 5.0, start + 3, 2)]
                _log_points(client, rid, points)
                client.log_inputs(rid, [_dataset_input(f"train{e}", "training"), _dataset_input("eval", "eval")])
                client.log_artifact(rid, os.path.join(tmp, "notes.txt"))
                client.log_artifacts(rid, os.path.join(tmp, "model"), "model")
                if count % 3 == 1:
                    client.set_terminated(rid, "FINISHED", end_time=start + 60_000)
                elif count % 3 == 2:
                    client.set_terminated(rid, "FAILED", end_time=start + 30_000)  # else left RUNNING
                if e == 1 and i == 1:
                    client.delete_run(rid)
    client.delete_experiment(beta)
    return [client.get_experiment(e).name for e in (first, alpha, beta)]


def _stored(value: float):
    # MLflow's SQL stores (and asyncclient's) keep ±inf as ±max double; its file store keeps inf.
    if math.isnan(value):
        return "nan"
    return math.copysign(sys.float_info.max, value) if math.isinf(value) else value


def _history(client, run_id: str, key: str) -> list:
    return sorted((m.step, m.timestamp, _stored(m.value)) for m in client.get_metric_history(run_id, key))


def _artifacts(client, run_id: str, tmp: str, path: str | None = None) -> dict[str, bytes]:
    files = {}
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            files.update(_artifacts(client, run_id, tmp, info.path))
        else:
            with open(client.download_artifacts(run_id, info.path, tmp), "rb") as f:
                files[info.path] = f.read()
    return files


def snapshot(uri: str, source_ids: bool = False, only: list[str] | None = None) -> dict:
    """Everything MLflow's client shows of a store, keyed by experiment name and run id (``source_ids``:
    by the ``asyncclient.source_run_id`` tag, for an MLflow server that assigned its own ids).
    ``only``: these experiments (by name), not all.
    Left out: ids and times the destination assigns (experiment ids, creation times, artifact URIs)."""
    client = MlflowClient(uri)
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for exp in client.search_experiments(view_type=ViewType.ALL):
            if only is not None and exp.name not in only:
                continue
            runs = {}
            for run in client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=1000):
                info, rid = run.info, run.info.run_id
                key = run.data.tags["asyncclient.source_run_id"] if source_ids else rid
                runs[key] = {
                    "name": info.run_name, "status": info.status, "start": info.start_time, "end": info.end_time,
                    "user": info.user_id, "stage": info.lifecycle_stage, "params": run.data.params,
                    "tags": {k: v for k, v in run.data.tags.items() if not k.startswith(MARKER_PREFIX)},
                    "metrics": {k: _history(client, rid, k) for k in run.data.metrics},
                    "inputs": sorted((d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source,
                                      d.dataset.schema, d.dataset.profile, sorted((t.key, t.value) for t in d.tags))
                                     for d in run.inputs.dataset_inputs),
                    "artifacts": _artifacts(client, rid, os.path.join(tmp, rid)),
                }
            found[exp.name] = {"stage": exp.lifecycle_stage, "tags": dict(exp.tags), "runs": runs}
    return found


def differences(got, want, path: str = "") -> list[str]:
    """Where two snapshots differ, as readable paths (an assertion message that fits on a screen)."""
    if isinstance(got, dict) and isinstance(want, dict):
        found = []
        for key in sorted(set(got) | set(want), key=str):
            if key not in got or key not in want:
                found.append(f"{path}/{key}: {'missing' if key not in got else 'unexpected'}")
            else:
                found += differences(got[key], want[key], f"{path}/{key}")
        return found
    return [] if got == want else [f"{path}: {str(got)[:200]} != {str(want)[:200]}"]
