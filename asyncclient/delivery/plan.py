"""Planning: records read from a ring become, per run and in logging order, log-batch requests within the
destination's limits, with delete-tag, log-inputs and end-of-run as barriers between them."""

from __future__ import annotations

from collections import defaultdict

from asyncclient.buffer.ring import OP_DELETE_TAG, OP_END_RUN, OP_INPUTS, OP_METRIC, OP_METRIC_BLOCK, OP_PARAM
from asyncclient.transports.base import MetricRecords


class Batch:
    """Entries for one log-batch request; tags keep the last value per key, as MLflow does in a batch."""

    __slots__ = ("metrics", "params", "tags", "size", "n")

    def __init__(self):
        self.metrics = MetricRecords()
        self.params: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.size = 0  # estimated request body bytes
        self.n = 0  # entries (metrics + params + tags)

    def count(self) -> int:
        return len(self.metrics) + len(self.params) + len(self.tags)

    def keys(self) -> set[str]:
        return self.metrics.keys() | set(self.params) | set(self.tags)


def plan_requests(records: list[tuple], limits) -> dict[str, list]:
    """Group records per run, in order, into Batch objects within limits and barrier operations.

    delete-tag, log-inputs and end-of-run are separate requests: they close the batch before them so a
    set_tag → delete_tag → set_tag sequence reaches the server in that order, and a run is ended only
    after everything logged to it before.
    """
    plans: dict[str, list] = defaultdict(list)
    open_batch: dict[str, Batch] = {}
    max_metrics, max_entities, max_body = limits.metrics, limits.entities, limits.body_bytes
    for rec in records:
        op = rec[0]
        if op == OP_METRIC_BLOCK:  # the hot case: a run of points as columns
            _plan_metric_block(rec, plans, open_batch, max_metrics, max_entities, max_body)
            continue
        run_id = rec[1]
        batch = open_batch.get(run_id)
        if op == OP_METRIC:  # a point that carries its names (the stream dictionary was full)
            if batch is None or len(batch.metrics) >= max_metrics or batch.n >= max_entities or batch.size >= max_body:
                batch = open_batch[run_id] = Batch()
                plans[run_id].append(batch)
            batch.metrics.add((rec[2],), (rec[3],), (rec[4],), (rec[5],))
            batch.n += 1
            batch.size += len(rec[2]) + 60
            continue
        if op == OP_DELETE_TAG or op == OP_INPUTS or op == OP_END_RUN:
            open_batch.pop(run_id, None)
            plans[run_id].append(rec)
            continue
        key, value = rec[2], rec[3]
        bucket_limit = limits.params if op == OP_PARAM else limits.tags
        item_size = len(key) + len(value) + 30
        if batch is not None:
            bucket = batch.params if op == OP_PARAM else batch.tags
            full = len(bucket) >= bucket_limit and key not in bucket
            # A param re-logged with a different value in one batch would be rejected whole: keep it apart.
            if op == OP_PARAM and key in bucket and bucket[key] != value:
                full = True
        if batch is None or full or batch.n >= max_entities or batch.size + item_size > max_body:
            batch = open_batch[run_id] = Batch()
            plans[run_id].append(batch)
        bucket = batch.params if op == OP_PARAM else batch.tags
        if key not in bucket:
            batch.n += 1
        bucket[key] = value
        batch.size += item_size
    return plans


def _plan_metric_block(block, plans, open_batch, max_metrics: int, max_entities: int, max_body: int) -> None:
    """Add a block of points (columns) to its runs' batches, slicing it where a batch fills up."""
    _, names, sids, values, timestamps, steps = block
    streams = set(sids)
    runs = {names[sid][0] for sid in streams}
    if len(runs) > 1:  # points of several runs interleaved (threads logging to different runs)
        for run_id in runs:
            mine = [i for i, sid in enumerate(sids) if names[sid][0] == run_id]
            _plan_metric_block((OP_METRIC_BLOCK, names, [sids[i] for i in mine], [values[i] for i in mine],
                                [timestamps[i] for i in mine], [steps[i] for i in mine]),
                               plans, open_batch, max_metrics, max_entities, max_body)
        return
    (run_id,) = runs
    if len(streams) == 1:
        key = names[next(iter(streams))][1]
        keys = [key] * len(sids)
        point_size = len(key) + 60
    else:
        keys = [names[sid][1] for sid in sids]
        point_size = max(len(k) for k in keys) + 60
    at, total = 0, len(sids)
    while at < total:
        batch = open_batch.get(run_id)
        if batch is None or len(batch.metrics) >= max_metrics or batch.n >= max_entities or batch.size >= max_body:
            batch = open_batch[run_id] = Batch()
            plans[run_id].append(batch)
        room = min(max_metrics - len(batch.metrics), max_entities - batch.n,
                   max(1, (max_body - batch.size) // point_size))
        end = min(total, at + room)
        batch.metrics.add(keys[at:end], values[at:end], timestamps[at:end], steps[at:end])
        batch.n += end - at
        batch.size += (end - at) * point_size
        at = end
