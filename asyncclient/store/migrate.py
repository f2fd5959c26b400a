"""Schema migrations: ``upgrade(uri)`` (MLflow's ``mlflow db upgrade`` / ``_initialize_tables``).

Opening a store that is already up to date costs one ``SELECT`` on ``alembic_version``: alembic (which
parses every migration script) only runs when the database is new or behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from asyncclient.store.engine import is_sqlite, make_engine, with_retry, writer

# The newest revision in migrations/versions; a test checks it against alembic's head.
SCHEMA_REVISION = "0004"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK_ID = 0x61737963  # arbitrary, constant: serializes concurrent upgrades on one server

_version_table = sa.table("alembic_version", sa.column("version_num", sa.String))


def current_revision(conn: Connection) -> str | None:
    """The revision stored in the database, or None for a database we never migrated."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.select(_version_table.c.version_num)).scalar()


def is_up_to_date(engine: Engine) -> bool:
    with engine.connect() as conn:
        return current_revision(conn) == SCHEMA_REVISION


def _alembic_upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


@contextlib.contextmanager
def _sqlite_file_lock(engine: Engine):
    # Two processes opening a fresh SQLite file at once would both run CREATE TABLE; a lock file
    # next to the database serializes them (the second one then finds the schema up to date).
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade_engine(engine: Engine) -> None:
    """Bring the schema behind ``engine`` to ``SCHEMA_REVISION`` (no-op when already there)."""
    if is_up_to_date(engine):
        return
    if is_sqlite(engine):
        with _sqlite_file_lock(engine):
            if is_up_to_date(engine):
                return
            with writer(engine).connect() as conn:
                with_retry(lambda: _alembic_upgrade(conn))
        return
    with engine.connect() as conn:
        # Session-level advisory lock: concurrent servers starting on one database migrate once.
        conn.execute(sa.select(sa.func.pg_advisory_lock(_PG_MIGRATION_LOCK_ID)))
        try:
            if current_revision(conn) != SCHEMA_REVISION:
                conn.commit()
                _alembic_upgrade(conn)
                conn.commit()
        finally:
            conn.execute(sa.select(sa.func.pg_advisory_unlock(_PG_MIGRATION_LOCK_ID)))
            conn.commit()


def upgrade(uri: str) -> None:
    """Create or upgrade the tracking schema at ``uri`` (``asyncclient db upgrade <uri>``).

    Accepts the same URIs as ``store_from_uri``: ``sqlite:///...``, ``postgresql://...`` or a folder.
    """
    from asyncclient.store.uri import resolve_db_uri

    db_uri, _ = resolve_db_uri(uri)
    if db_uri.startswith("sqlite:///"):
        folder = os.path.dirname(db_uri[len("sqlite:///"):])
        if folder:
            os.makedirs(folder, exist_ok=True)
    engine = make_engine(db_uri)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()
