"""Even sampling of a metric history, as MLflow's NTILE query in ``get_metric_history_bulk_interval``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def sample_history(rows: Sequence[T], max_results: int) -> list[T]:
    """The first row of each of ``max_results`` NTILE buckets over ``rows`` (ordered by step), with the
    last row always kept: it replaces the final sample when the sample is already full."""
    n = len(rows)
    if n <= max_results:
        return list(rows)
    # NTILE(k) over n rows: the first n % k buckets hold one row more than the others.
    q, r = divmod(n, max_results)
    picked = [rows[b * q + min(b, r)] for b in range(max_results)]
    if picked[-1] is not rows[-1]:
        picked[-1] = rows[-1]
    return picked
