"""The tracking store: SQLAlchemy Core schema, Alembic migrations, SQLite/PostgreSQL, MLflow search grammar.

``store_from_uri(uri)`` returns the store for a tracking URI (None: the local ``./mlruns`` folder).
"""

from asyncclient.store.base import TrackingStore
from asyncclient.store.migrate import upgrade
from asyncclient.store.sql_store import SqlStore
from asyncclient.store.uri import store_from_uri

__all__ = ["SqlStore", "TrackingStore", "store_from_uri", "upgrade"]
