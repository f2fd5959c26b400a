"""The tags a copy leaves on destination runs, and the digest that tells a finished copy from a stale one."""

from __future__ import annotations

import hashlib

import orjson

from asyncclient.entities import Run

# Set last on a copied run: the digest of the source run as it was copied. Equal digest (and the same
# lifecycle stage) on the next import means nothing changed, so the run is skipped without reading it.
DIGEST_TAG = "asyncclient.import.digest"
# On a destination that assigns its own run ids (a plain MLflow server): the run id at the source.
SOURCE_RUN_ID_TAG = "asyncclient.source_run_id"
MARKER_TAGS = frozenset({DIGEST_TAG, SOURCE_RUN_ID_TAG})


def copied_tags(run: Run) -> dict[str, str]:
    """The run's tags without the markers of an earlier copy (exporting an imported run starts afresh)."""
    return {k: v for k, v in run.data.tags.items() if k not in MARKER_TAGS}


def run_digest(run: Run) -> str:
    """A digest of everything a source listing shows about a run: info, params, tags, latest metric values
    and inputs. Metric histories and artifacts are not listed; they change with the latest values or,
    when they change alone, are not noticed until something else of the run changes."""
    info = run.info
    inputs = sorted(
        (d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source,
         sorted((t.key, t.value) for t in d.tags))
        for d in run.inputs.dataset_inputs)
    content = {
        "run_id": info.run_id, "name": info.run_name, "user": info.user_id, "status": str(info.status),
        "start": info.start_time, "end": info.end_time,
        "params": sorted(run.data.params.items()), "tags": sorted(copied_tags(run).items()),
        "metrics": sorted((k, repr(float(v))) for k, v in run.data.metrics.items()),
        "inputs": inputs,
    }
    return hashlib.sha256(orjson.dumps(content)).hexdigest()[:32]
