"""The write path of ``log_batch``: params, metrics (+ latest values) and tags, one statement each.

MLflow's ``SqlAlchemyStore.log_batch`` reads before it writes and retries on IntegrityError; here every write
is an ``INSERT ... ON CONFLICT`` so one transaction does it all, and concurrent writers cannot interleave
badly: duplicates are no-ops and the latest value is a conditional upsert evaluated by the database.

On SQLite each write is one DBAPI ``executemany``. On PostgreSQL a row-by-row executemany costs a server
round trip per row, so each write is ONE statement whatever the batch size: the rows travel as one array
per column and ``INSERT ... SELECT ... FROM unnest(arrays) ON CONFLICT ...`` expands them in the server
(a handful of bind parameters, so no 65535-parameter limit and no per-row SQL to build or cache).
"""

from __future__ import annotations

from itertools import groupby, repeat

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from asyncclient.exceptions import MlflowException
from asyncclient.store import schema as t

RUN_NAME_TAG = "mlflow.runName"


def insert(conn: Connection, table: sa.Table):
    """A dialect insert that supports ``on_conflict_*`` (SQLite and PostgreSQL share the API)."""
    return (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(table)


def executemany(conn: Connection, stmt, columns: tuple[str, ...], rows) -> None:
    """``conn.execute(stmt, rows)`` for rows given as tuples in ``columns`` order, with a fast path on SQLite.

    SQLAlchemy processes every bound value of every row in Python; for 1000-row batches that costs more
    than SQLite itself. On SQLite we hand the statement SQLAlchemy compiled (cached per statement) and the
    tuples to the DBAPI cursor of the same connection, inside the same transaction.
    """
    if isinstance(rows, list) and not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(stmt, [dict(zip(columns, row, strict=True)) for row in rows])
        return
    compiled = _compiled.get(id(stmt))
    if compiled is None or compiled[0] is not stmt:
        c = stmt.compile(dialect=conn.dialect)
        order = [columns.index(c.binds[name].key) for name in c.positiontup]
        compiled = _compiled[id(stmt)] = (stmt, c.string, None if order == list(range(len(columns))) else order)
    _, sql, order = compiled
    if order is not None:
        rows = [tuple(row[i] for i in order) for row in rows]
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


_compiled: dict[int, tuple] = {}


def _is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def unnest_insert(table: sa.Table, scalars: tuple[str, ...], arrays: tuple[str, ...],
                  order_by: tuple[str, ...] = ()):
    """PostgreSQL ``INSERT INTO table (scalars + arrays) SELECT :scalar..., u.* FROM unnest(:array...) AS u``.

    Each name in ``scalars`` binds one value for every row (the run id); each name in ``arrays`` binds a
    list, cast to an array of that column's type; ``order_by`` fixes the order rows reach the table (lock
    order). Bind names are the column names. Add ``on_conflict_*`` to the result.
    """
    u = sa.func.unnest(*(sa.bindparam(c, type_=ARRAY(_unbounded(table.c[c].type))) for c in arrays)) \
        .table_valued(*arrays).render_derived(name="u")
    select = sa.select(*(sa.bindparam(c, type_=_unbounded(table.c[c].type)) for c in scalars),
                       *(u.c[c] for c in arrays))
    if order_by:
        select = select.order_by(*(u.c[c] for c in order_by))
    return postgresql.insert(table).from_select([*scalars, *arrays], select)


def _unbounded(type_: sa.types.TypeEngine) -> sa.types.TypeEngine:
    # An explicit cast to VARCHAR(n) silently truncates; casting to VARCHAR leaves the length check to the
    # column, which refuses an over-long value as a row-by-row insert would.
    return sa.String() if isinstance(type_, sa.String) else type_


def execute_compiled(conn: Connection, stmt, params: dict) -> None:
    """Run a PostgreSQL ``stmt`` with ``params`` given to psycopg as they are (lists are sent as arrays).

    SQLAlchemy compiles the statement once (cached here); ``exec_driver_sql`` skips its per-value bind
    processing but still wraps driver errors, so deadlocks reach ``with_retry`` as ``DBAPIError``.
    """
    compiled = _compiled.get(id(stmt))
    if compiled is None or compiled[0] is not stmt:
        c = stmt.compile(dialect=conn.dialect)
        sql = c.string
        for name in c.binds:
            # psycopg's binary format (%b): lists of numbers are dumped far faster than as text literals.
            sql = sql.replace(f"%({name})s", f"%({name})b")
        compiled = _compiled[id(stmt)] = (stmt, sql, None)
    conn.exec_driver_sql(compiled[1], params)


def intern_metric_keys(conn: Connection, keys: list[str]) -> dict[str, int]:
    """Ids for metric keys, creating the missing ones (``metric_keys`` is append-only)."""
    stmt = insert(conn, t.metric_keys).on_conflict_do_nothing(index_elements=[t.metric_keys.c.key])
    conn.execute(stmt, [{"key": k} for k in keys])
    rows = conn.execute(sa.select(t.metric_keys.c.key, t.metric_keys.c.key_id).where(t.metric_keys.c.key.in_(keys)))
    return dict(rows.all())


def intern_run_key(conn: Connection, run_id: str) -> int:
    """The run's integer key for the metric history, created on its first point (append-only)."""
    conn.execute(insert(conn, t.run_keys).on_conflict_do_nothing(index_elements=[t.run_keys.c.run_uuid]),
                 [{"run_uuid": run_id}])
    return conn.execute(sa.select(t.run_keys.c.run_key).where(t.run_keys.c.run_uuid == run_id)).scalar_one()


def run_key_of(run_id: str):
    """A scalar subquery for the run's history key (no row when the run never logged a metric)."""
    return sa.select(t.run_keys.c.run_key).where(t.run_keys.c.run_uuid == run_id).scalar_subquery()


def write_params(conn: Connection, run_id: str, params: dict[str, str]) -> None:
    """Insert new params; an existing key with another value is an error, the same value a no-op."""
    if not params:
        return
    if _is_postgresql(conn):
        keys = sorted(params)  # one lock order for concurrent writers of the same keys
        execute_compiled(conn, _statements(conn)["params"],
                         {"run_uuid": run_id, "key": keys, "value": [params[k] for k in keys]})
    else:
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


_STATEMENTS: dict[str, dict] = {}
_HISTORY_COLUMNS = ("run_key", "key_id", "timestamp", "step", "value", "is_nan")
_LATEST_COLUMNS = ("run_uuid", "key_id", "value", "timestamp", "step", "is_nan")


def _statements(conn: Connection) -> dict:
    """The ingest statements for this dialect, built once (so their compiled form is cached too)."""
    found = _STATEMENTS.get(conn.dialect.name)
    if found is None:
        lm = t.latest_metrics
        upsert = insert(conn, lm)
        upsert = upsert.on_conflict_do_update(
            index_elements=[lm.c.run_uuid, lm.c.key_id],
            set_={"value": upsert.excluded.value, "timestamp": upsert.excluded.timestamp,
                  "step": upsert.excluded.step, "is_nan": upsert.excluded.is_nan},
            where=sa.tuple_(upsert.excluded.step, upsert.excluded.timestamp, upsert.excluded.value)
            > sa.tuple_(lm.c.step, lm.c.timestamp, lm.c.value),
        )
        found = {"history": insert(conn, t.metrics).on_conflict_do_nothing(), "latest": upsert}
        if conn.dialect.name == "postgresql":
            found.update(_pg_statements())
        # Published only once complete: server threads race to build it on the first requests.
        _STATEMENTS[conn.dialect.name] = found
    return found


def _pg_statements() -> dict:
    """The same writes as one ``unnest`` statement each (see the module docstring)."""
    history = unnest_insert(t.metrics, _HISTORY_COLUMNS[:1], _HISTORY_COLUMNS[1:]).on_conflict_do_nothing()
    lm = t.latest_metrics
    latest = unnest_insert(lm, _LATEST_COLUMNS[:1], _LATEST_COLUMNS[1:], order_by=("key_id",))
    latest = latest.on_conflict_do_update(
        index_elements=[lm.c.run_uuid, lm.c.key_id],
        set_={"value": latest.excluded.value, "timestamp": latest.excluded.timestamp,
              "step": latest.excluded.step, "is_nan": latest.excluded.is_nan},
        where=sa.tuple_(latest.excluded.step, latest.excluded.timestamp, latest.excluded.value)
        > sa.tuple_(lm.c.step, lm.c.timestamp, lm.c.value),
    )
    params = unnest_insert(t.params, ("run_uuid",), ("key", "value"), order_by=("key",)) \
        .on_conflict_do_nothing(index_elements=[t.params.c.run_uuid, t.params.c.key])
    tags = unnest_insert(t.tags, ("run_uuid",), ("key", "value"), order_by=("key",))
    tags = tags.on_conflict_do_update(index_elements=[t.tags.c.run_uuid, t.tags.c.key],
                                      set_={"value": tags.excluded.value})
    return {"pg_history": history, "pg_latest": latest, "params": params, "tags": tags}


def write_metrics(conn: Connection, run_id: str, run_key: int, rows: list[tuple[int, int, int, float, bool]]) -> None:
    """Append history points (exact duplicates dropped) and raise each key's latest value if newer.

    ``run_key`` is the run's history key (``intern_run_key``); ``rows`` are (key_id, timestamp, step,
    stored value, is_nan). "Latest" is the max of (step, timestamp,
    value) with NaN compared as its stored 0, as MLflow's ``_update_latest_metrics_if_necessary``.
    """
    if not rows:
        return
    if _is_postgresql(conn):
        _write_metrics_pg(conn, run_id, run_key, rows)
        return
    write_metric_columns(conn, run_id, run_key, *zip(*rows, strict=True))


def write_metric_columns(conn: Connection, run_id: str, run_key: int, key_ids, timestamps, steps, values,
                         nans) -> None:
    """``write_metrics`` on SQLite with the points as columns (the embedded ingest path).

    Rows for the driver are assembled by zip and the latest value per key is found by max: both run in C,
    where a Python loop per point would cost more than SQLite's insert.
    """
    if not key_ids:
        return
    if _is_postgresql(conn):
        _write_metrics_pg(conn, run_id, run_key, list(zip(key_ids, timestamps, steps, values, nans, strict=True)))
        return
    executemany(conn, _statements(conn)["history"], _HISTORY_COLUMNS,
                zip(repeat(run_key), key_ids, timestamps, steps, values, nans))
    newest = newest_per_key(key_ids, timestamps, steps, values, nans)
    # Sorted by key so concurrent writers touch latest rows in one order.
    executemany(conn, _statements(conn)["latest"], _LATEST_COLUMNS,
                [(run_id, k, val, ts, st, nan) for k, (st, ts, val, nan) in sorted(newest.items())])


def newest_per_key(key_ids, timestamps, steps, values, nans) -> dict[int, tuple[int, int, float, bool]]:
    """key_id -> (step, timestamp, value, is_nan) of the point with the largest (step, timestamp, value)."""
    first = key_ids[0]
    if key_ids.count(first) == len(key_ids):  # one key: the usual batch from a training loop
        return {first: max(zip(steps, timestamps, values, nans, strict=True))}
    points = list(zip(steps, timestamps, values, nans, strict=True))
    # Several keys: a stable sort of indexes by key, then one max per group, all in C.
    order = sorted(range(len(key_ids)), key=key_ids.__getitem__)
    return {k: max(map(points.__getitem__, group))
            for k, group in groupby(order, key=key_ids.__getitem__)}


def _write_metrics_pg(conn: Connection, run_id: str, run_key: int,
                      rows: list[tuple[int, int, int, float, bool]]) -> None:
    """``write_metrics`` on PostgreSQL: two statements, each with one array per column."""
    statements = _statements(conn)
    key_ids, timestamps, steps, values, nans = (list(col) for col in zip(*rows, strict=True))
    # psycopg refuses a list mixing int and float (an int value may come from log_batch_tuples).
    if any(type(x) is not float for x in values):
        values = [float(x) for x in values]
    execute_compiled(conn, statements["pg_history"], {
        "run_key": run_key, "key_id": key_ids, "timestamp": timestamps, "step": steps, "value": values,
        "is_nan": nans})
    newest: dict[int, tuple[int, int, float, bool]] = {}
    for k, ts, st, val, nan in zip(key_ids, timestamps, steps, values, nans, strict=True):
        cur = newest.get(k)
        if cur is None or (st, ts, val) > cur[:3]:
            newest[k] = (st, ts, val, nan)
    # One row per key (ON CONFLICT DO UPDATE may touch a row once per statement), applied in key order by
    # the statement's ORDER BY so concurrent writers lock latest rows in one order (no deadlock).
    keys = list(newest)
    latest = list(newest.values())
    execute_compiled(conn, statements["pg_latest"], {
        "run_uuid": run_id, "key_id": keys, "value": [r[2] for r in latest], "timestamp": [r[1] for r in latest],
        "step": [r[0] for r in latest], "is_nan": [r[3] for r in latest]})


def write_tags(conn: Connection, run_id: str, tags: dict[str, str]) -> None:
    """Upsert tags (last write wins); ``mlflow.runName`` also renames the run."""
    if not tags:
        return
    if _is_postgresql(conn):
        keys = sorted(tags)
        execute_compiled(conn, _statements(conn)["tags"],
                         {"run_uuid": run_id, "key": keys, "value": [tags[k] for k in keys]})
    else:
        stmt = insert(conn, t.tags)
        stmt = stmt.on_conflict_do_update(index_elements=[t.tags.c.run_uuid, t.tags.c.key],
                                          set_={"value": stmt.excluded.value})
        conn.execute(stmt, [{"run_uuid": run_id, "key": k, "value": val} for k, val in sorted(tags.items())])
    if RUN_NAME_TAG in tags:
        conn.execute(sa.update(t.runs).where(t.runs.c.run_uuid == run_id).values(run_name=tags[RUN_NAME_TAG]))
