"""The write path of ``log_batch``: params, metrics (+ latest values) and tags, each one executemany.

MLflow's ``SqlAlchemyStore.log_batch`` reads before it writes and retries on IntegrityError; here every write
is an ``INSERT ... ON CONFLICT`` so one transaction does it all, and concurrent writers cannot interleave
badly: duplicates are no-ops and the latest value is a conditional upsert evaluated by the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from asyncclient.exceptions import MlflowException
from asyncclient.store import schema as t

RUN_NAME_TAG = "mlflow.runName"


def insert(conn: Connection, table: sa.Table):
    """A dialect insert that supports ``on_conflict_*`` (SQLite and PostgreSQL share the API)."""
    return (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(table)


def intern_metric_keys(conn: Connection, keys: list[str]) -> dict[str, int]:
    """Ids for metric keys, creating the missing ones (``metric_keys`` is append-only)."""
    stmt = insert(conn, t.metric_keys).on_conflict_do_nothing(index_elements=[t.metric_keys.c.key])
    conn.execute(stmt, [{"key": k} for k in keys])
    rows = conn.execute(sa.select(t.metric_keys.c.key, t.metric_keys.c.key_id).where(t.metric_keys.c.key.in_(keys)))
    return dict(rows.tuples().all())


def write_params(conn: Connection, run_id: str, params: dict[str, str]) -> None:
    """Insert new params; an existing key with another value is an error, the same value a no-op."""
    if not params:
        return
    stmt = insert(conn, t.params).on_conflict_do_nothing(index_elements=[t.params.c.run_uuid, t.params.c.key])
    conn.execute(stmt, [{"run_uuid": run_id, "key": k, "value": val} for k, val in params.items()])
    # Read back after the insert: whatever is stored now (ours or a concurrent writer's) must match.
    stored = conn.execute(sa.select(t.params.c.key, t.params.c.value).where(
        t.params.c.run_uuid == run_id, t.params.c.key.in_(list(params))))
    for key, old in stored:
        if old != params[key]:
            raise MlflowException.invalid_parameter_value(
                f"Changing param values is not allowed. Param with key='{key}' was already logged with "
                f"value='{old}' for run ID='{run_id}'. Attempted logging new value '{params[key]}'.")


def write_metrics(conn: Connection, run_id: str, rows: list[tuple[int, int, int, float, bool]]) -> None:
    """Append history points (exact duplicates dropped) and raise each key's latest value if newer.

    ``rows`` are (key_id, timestamp, step, stored value, is_nan). "Latest" is the max of (step, timestamp,
    value) with NaN compared as its stored 0, as MLflow's ``_update_latest_metrics_if_necessary``.
    """
    if not rows:
        return
    m = t.metrics
    history = insert(conn, m).on_conflict_do_nothing()
    conn.execute(history, [
        {"run_uuid": run_id, "key_id": k, "timestamp": ts, "step": st, "value": val, "is_nan": nan}
        for k, ts, st, val, nan in rows
    ])
    newest: dict[int, tuple[int, int, float, bool]] = {}
    for k, ts, st, val, nan in rows:
        cur = newest.get(k)
        if cur is None or (st, ts, val) > cur[:3]:
            newest[k] = (st, ts, val, nan)
    lm = t.latest_metrics
    upsert = insert(conn, lm)
    upsert = upsert.on_conflict_do_update(
        index_elements=[lm.c.run_uuid, lm.c.key_id],
        set_={"value": upsert.excluded.value, "timestamp": upsert.excluded.timestamp,
              "step": upsert.excluded.step, "is_nan": upsert.excluded.is_nan},
        where=sa.tuple_(upsert.excluded.step, upsert.excluded.timestamp, upsert.excluded.value)
        > sa.tuple_(lm.c.step, lm.c.timestamp, lm.c.value),
    )
    # Sorted by key so concurrent PostgreSQL writers lock latest rows in one order (no deadlock).
    conn.execute(upsert, [
        {"run_uuid": run_id, "key_id": k, "step": st, "timestamp": ts, "value": val, "is_nan": nan}
        for k, (st, ts, val, nan) in sorted(newest.items())
    ])


def write_tags(conn: Connection, run_id: str, tags: dict[str, str]) -> None:
    """Upsert tags (last write wins); ``mlflow.runName`` also renames the run."""
    if not tags:
        return
    stmt = insert(conn, t.tags)
    stmt = stmt.on_conflict_do_update(index_elements=[t.tags.c.run_uuid, t.tags.c.key],
                                      set_={"value": stmt.excluded.value})
    conn.execute(stmt, [{"run_uuid": run_id, "key": k, "value": val} for k, val in sorted(tags.items())])
    if RUN_NAME_TAG in tags:
        conn.execute(sa.update(t.runs).where(t.runs.c.run_uuid == run_id).values(run_name=tags[RUN_NAME_TAG]))
