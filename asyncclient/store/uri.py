"""``store_from_uri``: one store per tracking URI per process (MLflow's ``_get_store`` / store registry).

None or "" means the local folder ``./mlruns``: SQLite at ``./mlruns/mlflow.db`` next to the runs'
artifacts, so the embedded default needs no server and no configuration.
"""

from __future__ import annotations

import os
import threading
from urllib.parse import unquote, urlparse

from asyncclient.exceptions import MlflowException
from asyncclient.store.base import TrackingStore

DEFAULT_FOLDER = "mlruns"
DB_FILENAME = "mlflow.db"

_lock = threading.Lock()
_stores: dict[tuple[str, str | None], TrackingStore] = {}
_stores_pid = os.getpid()


def _after_fork_in_child() -> None:
    # A thread of the parent may have held the lock at fork time (building a store): in the child that
    # thread does not exist and would never release it.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _folder_uri(folder: str) -> tuple[str, str]:
    folder = os.path.abspath(folder)
    return f"sqlite:///{os.path.join(folder, DB_FILENAME)}", "file://" + folder


def resolve_db_uri(uri: str | None) -> tuple[str, str | None]:
    """(SQLAlchemy URL, default artifact root or None) for a tracking URI."""
    if not uri:
        return _folder_uri(DEFAULT_FOLDER)
    if uri.startswith("sqlite://"):
        return uri, None
    if uri.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + uri.split("://", 1)[1], None
    if uri.startswith("postgresql+"):
        return uri, None
    if uri.startswith("file:"):
        return _folder_uri(unquote(urlparse(uri).path))
    if "://" in uri:
        raise MlflowException.invalid_parameter_value(
            f"Unsupported tracking URI '{uri}' for a local store: use sqlite:///<file>, "
            "postgresql://user:password@host:port/db or a folder path."
        )
    return _folder_uri(uri)


def _default_artifact_root_for(db_uri: str) -> str:
    # Like MLflow's server default: artifacts next to a local database, ./mlruns otherwise.
    if db_uri.startswith("sqlite:///"):
        path = db_uri[len("sqlite:///"):]
        if path and path != ":memory:":
            return "file://" + os.path.join(os.path.dirname(os.path.abspath(path)), DEFAULT_FOLDER)
    return "file://" + os.path.abspath(DEFAULT_FOLDER)


def forget_store(uri: str | None, default_artifact_root: str | None = None) -> None:
    """Drop (and close) the cached store of a URI, so the next store_from_uri opens it afresh."""
    with _lock:
        store = _stores.pop((uri or "", default_artifact_root), None)
    if store is not None:
        close = getattr(store, "close", None)
        if close is not None:
            close()


def store_from_uri(uri: str | None, default_artifact_root: str | None = None) -> TrackingStore:
    """The store for a tracking URI, created (and migrated) on first use, then cached for this process.

    Equivalent of MLflow's ``mlflow.tracking._tracking_service.utils._get_store``. A forked child gets its
    own stores: engines and their pooled connections must not be shared across ``fork``.
    """
    global _stores_pid
    key = (uri or "", default_artifact_root)
    with _lock:
        if _stores_pid != os.getpid():
            _stores.clear()  # the parent's connections are not ours to use (or to close)
            _stores_pid = os.getpid()
        store = _stores.get(key)
        if store is None:
            from asyncclient.store.sql_store import SqlStore

            db_uri, folder_root = resolve_db_uri(uri)
            if db_uri.startswith("sqlite:///") and folder_root:
                os.makedirs(folder_root[len("file://"):], exist_ok=True)
            root = default_artifact_root or folder_root or _default_artifact_root_for(db_uri)
            store = SqlStore(db_uri, root)
            _stores[key] = store
        return store
