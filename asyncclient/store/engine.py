"""Engines per backend, and the retry that hides SQLite's writer lock and PostgreSQL deadlocks.

MLflow's equivalent is ``mlflow.store.db.utils.create_sqlalchemy_engine``; we add WAL, ``BEGIN IMMEDIATE``
for writes and a retry so several processes writing one SQLite file never see "database is locked".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from asyncclient.exceptions import MlflowException

T = TypeVar("T")

# Writers wait this long on the SQLite lock inside sqlite itself before we retry at our level.
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_OPTION = "asyncclient_write"
_RETRY_DEADLINE_S = 120.0


def make_engine(db_uri: str) -> Engine:
    """An engine for ``sqlite:///...`` or ``postgresql+psycopg://...`` with our connection setup."""
    if db_uri.startswith("sqlite"):
        engine = sa.create_engine(db_uri, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(db_uri, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take over transaction control from pysqlite so we can say BEGIN IMMEDIATE for writes:
        # a deferred transaction that later upgrades to a write fails at once with SQLITE_BUSY.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")  # = SQLITE_BUSY_TIMEOUT_MS
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        # MLflow's LIKE is case-sensitive (ILIKE is not): SQLite needs telling.
        cur.execute("PRAGMA case_sensitive_like = true")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine, tagged so that SQLite transactions start with ``BEGIN IMMEDIATE``."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
        if "locked" in text or "busy" in text:
            return True
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        # PostgreSQL deadlock_detected / serialization_failure.
        return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")
    return False


def with_retry(fn: Callable[[], T]) -> T:
    """Run one write transaction, retrying on a locked SQLite database or a PostgreSQL deadlock."""
    deadline = time.monotonic() + _RETRY_DEADLINE_S
    delay = 0.005
    while True:
        try:
            return fn()
        except DBAPIError as exc:
            if not _is_retryable(exc) or time.monotonic() > deadline:
                if _is_retryable(exc):
                    raise MlflowException(f"The database stayed busy for {_RETRY_DEADLINE_S:.0f}s: {exc.orig}",
                                          error_code="TEMPORARILY_UNAVAILABLE") from exc
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)
