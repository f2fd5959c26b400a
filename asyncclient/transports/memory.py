"""An in-memory destination: runs kept in dicts, with faults scripted per call.

For unit tests of the delivery policies (retry, split, refusal, containment, order) without a server;
every integration test uses a real server or store. It applies MLflow's own rules where a policy depends
on them: a param's value may not change, a tag is last-write-wins, deleting a missing tag is
RESOURCE_DOES_NOT_EXIST, an unknown run is RESOURCE_DOES_NOT_EXIST, exact duplicate points are dropped.
"""

from __future__ import annotations

from asyncclient.entities import DatasetInput
from asyncclient.exceptions import MlflowException
from asyncclient.transports.base import BatchLimits, KeyValue, MetricRecords, MetricTuple, Transport


class MemoryRun:
    def __init__(self):
        self.metrics: list[MetricTuple] = []
        self.params: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.inputs: list[DatasetInput] = []
        self.status: str = "RUNNING"
        self.end_time: int | None = None
        self.events: list[str] = []  # what was applied, in order


class MemoryTransport(Transport):
    def __init__(self, uri: str = "memory://", limits: BatchLimits | None = None):
        self.uri = uri
        self.limits = limits or BatchLimits()
        self.runs: dict[str, MemoryRun] = {}
        self.calls: list[tuple[str, str]] = []
        # (method name, exception): the next call of that method raises it instead of applying.
        self.faults: list[tuple[str, BaseException]] = []
        # (method name, exception): the next call applies, THEN raises it (the answer was lost).
        self.lost_answers: list[tuple[str, BaseException]] = []

    def add_run(self, run_id: str) -> MemoryRun:
        return self.runs.setdefault(run_id, MemoryRun())

    def _enter(self, method: str, run_id: str) -> MemoryRun:
        self.calls.append((method, run_id))
        for i, (name, exc) in enumerate(self.faults):
            if name == method:
                del self.faults[i]
                raise exc
        run = self.runs.get(run_id)
        if run is None:
            raise MlflowException(f"Run with id={run_id} not found", error_code="RESOURCE_DOES_NOT_EXIST")
        return run

    def _leave(self, method: str) -> None:
        for i, (name, exc) in enumerate(self.lost_answers):
            if name == method:
                del self.lost_answers[i]
                raise exc

    async def log_batch(self, run_id: str, metrics: MetricRecords | list[MetricTuple], params: list[KeyValue],
                        tags: list[KeyValue]) -> None:
        run = self._enter("log_batch", run_id)
        changed = [k for k, v in params if k in run.params and run.params[k] != v]
        if changed:  # the whole batch is refused, as MLflow's store does
            raise MlflowException(f"Changing param values is not allowed. Params were already logged: {changed}",
                                  error_code="INVALID_PARAMETER_VALUE")
        seen = set(run.metrics)
        for point in metrics:
            if tuple(point) not in seen:
                run.metrics.append(tuple(point))
                seen.add(tuple(point))
        run.params.update(params)
        run.tags.update(tags)
        run.events.append(f"batch:{len(metrics)}m{len(params)}p{len(tags)}t")
        self._leave("log_batch")

    async def delete_tag(self, run_id: str, key: str) -> None:
        run = self._enter("delete_tag", run_id)
        if key not in run.tags:
            raise MlflowException(f"No tag with name: {key} in run with id {run_id}",
                                  error_code="RESOURCE_DOES_NOT_EXIST")
        del run.tags[key]
        run.events.append(f"delete_tag:{key}")
        self._leave("delete_tag")

    async def log_inputs(self, run_id: str, datasets: list[DatasetInput]) -> None:
        run = self._enter("log_inputs", run_id)
        run.inputs.extend(datasets)
        run.events.append(f"inputs:{len(datasets)}")
        self._leave("log_inputs")

    async def update_run_info(self, run_id: str, run_status, end_time: int | None, run_name: str | None):
        run = self._enter("update_run_info", run_id)
        run.status, run.end_time = run_status, end_time
        run.events.append(f"end:{run_status}")
        self._leave("update_run_info")
