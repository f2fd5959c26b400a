"""Copy experiments and runs from a source to a destination: idempotent, resumable, with progress.

Per run, in this order: create it (keeping its id where the destination allows), restore it if needed,
params, tags, metric points, inputs, artifacts, status and end time, then the digest tag, then deletion
if the source run is deleted. Each step writes only what the destination lacks, and every write is
idempotent, so a copy killed anywhere is finished by the next one. A run whose digest tag matches its
source and whose lifecycle stage agrees is skipped without reading its history.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

from tqdm import tqdm

from asyncclient.entities import Experiment, LifecycleStage, Run
from asyncclient.exceptions import MlflowException
from asyncclient.migrate import artifact_copy
from asyncclient.migrate.destination import Destination
from asyncclient.migrate.markers import DIGEST_TAG, MARKER_TAGS, copied_tags, run_digest
from asyncclient.migrate.sources import History, Source

RUN_NAME_TAG = "mlflow.runName"
# Runs whose histories are read together: 5 runs of 10 metrics x 10,000 steps hold ~75 MB in Python.
RUNS_PER_READ = 5


@dataclass
class CopyFilter:
    """Which experiments (names or ids; empty: all) and which runs (by start time, ms since the epoch)."""

    experiments: tuple[str, ...] = ()
    started_after: int | None = None
    started_before: int | None = None

    def takes_experiment(self, experiment: Experiment) -> bool:
        return not self.experiments or experiment.name in self.experiments \
            or experiment.experiment_id in self.experiments

    def takes_run(self, run: Run) -> bool:
        start = run.info.start_time or 0
        return (self.started_after is None or start >= self.started_after) and \
            (self.started_before is None or start < self.started_before)


@dataclass
class CopySummary:
    experiments_created: int = 0
    runs_created: int = 0
    runs_updated: int = 0
    runs_unchanged: int = 0
    params: int = 0
    tags: int = 0
    metric_points: int = 0
    inputs: int = 0
    artifact_files: int = 0
    artifact_bytes: int = 0
    seconds: float = 0.0
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would copy" if self.dry_run else "copied"
        head = (f"{verb}: {self.experiments_created} new experiments, {self.runs_created} new runs, "
                f"{self.runs_updated} updated runs; {self.runs_unchanged} runs already up to date")
        if self.dry_run:
            return [head]
        rate = self.metric_points / self.seconds if self.seconds else 0.0
        return [head,
                f"{self.params} params, {self.tags} tags, {self.metric_points:,} metric points "
                f"({rate:,.0f} points/s), {self.inputs} inputs, {self.artifact_files} artifact files "
                f"({self.artifact_bytes:,} bytes) in {self.seconds:.1f} s"]

    def counts(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _point_key(value: float, timestamp: int, step: int):
    # NaN != NaN, so it is compared by its text.
    return ("nan" if math.isnan(value) else value, timestamp, step)


def _missing_points(source: list, dest: list) -> list:
    """Source points the destination does not hold (as a multiset: a repeated point counts twice)."""
    have = Counter(_point_key(*p) for p in dest)
    missing = []
    for p in source:
        k = _point_key(*p)
        if have[k]:
            have[k] -= 1
        else:
            missing.append(p)
    return missing


def _input_key(d) -> tuple:
    return (d.dataset.name, d.dataset.digest, tuple(sorted((t.key, t.value) for t in d.tags)))


class _Copy:
    def __init__(self, source: Source, dest: Destination, summary: CopySummary, progress: tqdm):
        self.source, self.dest, self.summary, self.progress = source, dest, summary, progress

    def experiment(self, experiment: Experiment, runs: list[Run], dry_run: bool) -> None:
        found = self.dest.experiment_by_name(experiment.name)
        existing = self.dest.existing_runs(found.experiment_id) if found is not None else {}
        todo = []
        for run in runs:
            have = existing.get(run.info.run_id)
            if have is not None and have.data.tags.get(DIGEST_TAG) == run_digest(run) \
                    and have.info.lifecycle_stage == run.info.lifecycle_stage:
                self.summary.runs_unchanged += 1
                self.progress.update(1)
            else:
                todo.append((run, have))
        if dry_run:
            self.summary.experiments_created += found is None
            for _run, have in todo:
                self.summary.runs_created += have is None
                self.summary.runs_updated += have is not None
                self.progress.update(1)
            return
        if found is None:
            experiment_id = self.dest.create_experiment(experiment.name, experiment.tags)
            self.summary.experiments_created += 1
            dest_stage = LifecycleStage.ACTIVE
        else:
            experiment_id, dest_stage = found.experiment_id, found.lifecycle_stage
            for key, value in experiment.tags.items():
                if found.tags.get(key) != value:
                    self.dest.set_experiment_tag(experiment_id, key, value)
        if dest_stage == LifecycleStage.DELETED and (todo or experiment.lifecycle_stage == LifecycleStage.ACTIVE):
            self.dest.restore_experiment(experiment_id)  # runs are written into active experiments only
            dest_stage = LifecycleStage.ACTIVE
        self._runs(experiment_id, todo)
        if experiment.lifecycle_stage == LifecycleStage.DELETED and dest_stage == LifecycleStage.ACTIVE:
            self.dest.delete_experiment(experiment_id)

    def _runs(self, experiment_id: str, todo: list[tuple[Run, Run | None]]) -> None:
        # Histories are read a few runs at a time, the next group while this one is written (the reads
        # wait on the source, the writes on the destination).
        groups = [todo[i:i + RUNS_PER_READ] for i in range(0, len(todo), RUNS_PER_READ)]
        with ThreadPoolExecutor(max_workers=1) as reader:
            pending = [reader.submit(self.source.metric_histories, [run for run, _ in group]) for group in groups[:1]]
            for i, group in enumerate(groups):
                if i + 1 < len(groups):
                    pending.append(reader.submit(self.source.metric_histories, [run for run, _ in groups[i + 1]]))
                histories = pending[i].result()
                pending[i] = None  # let the points go once written
                for run, have in group:
                    self.run(experiment_id, run, have, histories.pop(run.info.run_id))
                    self.progress.update(1)
                    self.progress.set_postfix(points=f"{self.summary.metric_points:,}", refresh=False)

    def run(self, experiment_id: str, run: Run, have: Run | None, history: History) -> None:
        dest, summary, info = self.dest, self.summary, run.info
        if have is None:
            have = dest.create_run(experiment_id, run)
            summary.runs_created += 1
            fresh = True
        else:
            summary.runs_updated += 1
            fresh = False
            if have.info.lifecycle_stage == LifecycleStage.DELETED:
                dest.restore_run(have.info.run_id)
        run_id = have.info.run_id
        params = {}
        for key, value in run.data.params.items():
            old = have.data.params.get(key)
            if old is None:
                params[key] = value
            elif old != value:
                raise MlflowException.invalid_parameter_value(
                    f"Run {info.run_id}: param '{key}' is '{value}' at the source but '{old}' at the "
                    f"destination ({dest.uri}); params cannot change, so this run cannot be copied there.")
        tags = {k: v for k, v in copied_tags(run).items() if have.data.tags.get(k) != v}
        dest.log_params_and_tags(run_id, params, tags)
        for key in have.data.tags:
            if key not in run.data.tags and key not in MARKER_TAGS and key != RUN_NAME_TAG:
                dest.delete_tag(run_id, key)
        summary.params += len(params)
        summary.tags += len(tags)
        self._metrics(run_id, history, have if not fresh else None)
        have_inputs = {_input_key(d) for d in have.inputs.dataset_inputs}
        inputs = [d for d in run.inputs.dataset_inputs if _input_key(d) not in have_inputs]
        if inputs:
            dest.log_inputs(run_id, inputs)
            summary.inputs += len(inputs)
        self._artifacts(run, have)
        if (have.info.status, have.info.end_time, have.info.run_name) != (info.status, info.end_time, info.run_name) \
                or fresh:
            dest.update_run_info(run_id, info.status, info.end_time, info.run_name)
        # Last but for deletion: the digest says "this run is complete as of this source state".
        dest.log_params_and_tags(run_id, {}, {DIGEST_TAG: run_digest(run)})
        if info.lifecycle_stage == LifecycleStage.DELETED:
            dest.delete_run(run_id)

    def _metrics(self, run_id: str, history: History, have: Run | None) -> None:
        points = []
        for key, source_points in sorted(history.items()):
            if have is not None and key in have.data.metrics:  # an earlier copy wrote some of this key
                source_points = _missing_points(source_points, self.dest.metric_history(run_id, key))
            # In step order, so the latest value is written last whatever the batch boundaries.
            points.extend((key, v, ts, st) for v, ts, st in sorted(source_points, key=lambda p: (p[2], p[1])))
        self.dest.log_metric_points(run_id, points)
        self.summary.metric_points += len(points)

    def _artifacts(self, run: Run, have: Run) -> None:
        source_repo = self.source.artifact_repository(run)
        if source_repo is None:
            return
        dest_repo = self.dest.artifact_repository(have)
        files = artifact_copy.missing_files(source_repo, dest_repo)
        if files:
            self.summary.artifact_bytes += artifact_copy.copy_files(source_repo, dest_repo, files)
            self.summary.artifact_files += len(files)


def copy_tracking_data(source: Source, dest: Destination, selection: CopyFilter | None = None,
                       dry_run: bool = False, progress: bool = True) -> CopySummary:
    """Copy what ``selection`` picks from ``source`` into ``dest``; see the module docstring."""
    selection = selection or CopyFilter()
    started = time.monotonic()
    summary = CopySummary(dry_run=dry_run)
    plan = []
    timed = selection.started_after is not None or selection.started_before is not None
    experiments = source.experiments()
    for experiment in experiments:
        if selection.takes_experiment(experiment):
            runs = [r for r in source.runs(experiment.experiment_id) if selection.takes_run(r)]
            if runs or not timed:  # a time window copies the experiments it has runs in, no empty ones
                plan.append((experiment, runs))
    if selection.experiments:
        known = {e.name for e in experiments} | {e.experiment_id for e in experiments}
        unknown = [name for name in selection.experiments if name not in known]
        if unknown:
            raise MlflowException.invalid_parameter_value(
                f"No experiment named (or with id) {', '.join(map(repr, unknown))} at {source.uri}.")
    total = sum(len(runs) for _, runs in plan)
    with tqdm(total=total, unit="run", disable=not progress, desc="dry run" if dry_run else "copying") as bar:
        copy = _Copy(source, dest, summary, bar)
        for experiment, runs in plan:
            copy.experiment(experiment, runs, dry_run)
    summary.seconds = time.monotonic() - started
    return summary
