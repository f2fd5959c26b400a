"""Pool tasks for the fault suite (a module of their own, so spawn and forkserver children import them)."""

from __future__ import annotations


def log_points(args: tuple[str, int, int]) -> int:
    from asyncclient.tracking import MlflowClient

    run_id, worker, n = args
    client = MlflowClient()
    for step in range(n):
        client.log_metric(run_id, f"p{worker}", float(step), step=step)
    return n
