"""Settings: the tracking URI (as MLflow resolves it) and asyncclient's own knobs, from the environment.

| variable                     | default | meaning                                                  |
|------------------------------|---------|----------------------------------------------------------|
| MLFLOW_TRACKING_URI          | ./mlruns| where runs go: http(s)://server, sqlite:///, postgresql://, a folder |
| ASYNCCLIENT_BUFFER_MB        | 32      | ring size per process (≈1.1 M metric points), allocated up front |
| ASYNCCLIENT_FLUSH_INTERVAL   | 0.1     | seconds an entry may wait before its batch is sent       |
| ASYNCCLIENT_MAX_IN_FLIGHT    | 4       | concurrent requests (one per run at a time)              |
| ASYNCCLIENT_EXIT_TIMEOUT     | 30      | seconds to deliver at interpreter exit before giving up  |
| ASYNCCLIENT_REQUEST_RETRY_SECONDS | 60 | how long create_run, get_run, ... retry a server that is down |
| ASYNCCLIENT_SPOOL_DIR        | /dev/shm/asyncclient-<uid> | where ring files live                 |
| ASYNCCLIENT_DELIVERY         | agent   | agent: a delivery process drains the rings; thread: in-process |
| ASYNCCLIENT_AGENT_IDLE_SECONDS | 30    | the agent exits after this long with no ring to drain    |
| ASYNCCLIENT_REQUEST_TIMEOUT  | 60      | seconds one HTTP request may take before it is retried   |
| ASYNCCLIENT_HEADER_TIMEOUT   | 30      | server: seconds a request's head may take to arrive      |
| ASYNCCLIENT_BODY_IDLE_TIMEOUT | 60     | server: longest pause inside a request body              |
"""

from __future__ import annotations

import os
import uuid

_tracking_uri: str | None = None
DEFAULT_LOCAL_FOLDER = "mlruns"


def set_tracking_uri(uri) -> None:
    global _tracking_uri
    uri = None if uri is None else str(uri)
    _tracking_uri = uri
    # Subprocesses inherit it, as with MLflow's set_tracking_uri.
    if uri is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = uri


def get_tracking_uri() -> str:
    """The configured URI, or the local ./mlruns store as an absolute ``file://`` URI."""
    return resolved_tracking_uri()


def resolved_tracking_uri() -> str:
    uri = _tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or ""
    if not uri:
        return "file://" + os.path.abspath(DEFAULT_LOCAL_FOLDER)
    # Relative local paths are made absolute so a child process in another folder logs to the same place.
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + os.path.abspath(uri[len("sqlite:///"):])
    if uri.startswith("file:") and not uri.startswith("file:///") and not uri.startswith("file://"):
        return "file://" + os.path.abspath(uri[len("file:"):])
    if "://" not in uri and not uri.startswith(("databricks", "uc")):
        return "file://" + os.path.abspath(uri)
    return uri


def family_id() -> str:
    """Shared by a process and the children it starts (via the environment), for orphan adoption."""
    fam = os.environ.get("ASYNCCLIENT_FAMILY")
    if not fam:
        fam = os.environ["ASYNCCLIENT_FAMILY"] = uuid.uuid4().hex
    return fam


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def buffer_bytes() -> int:
    return max(1 << 20, int(_float("ASYNCCLIENT_BUFFER_MB", 32) * (1 << 20)))


def dictionary_bytes() -> int:
    return min(4 << 20, buffer_bytes() // 16)


def flush_interval() -> float:
    return max(0.001, _float("ASYNCCLIENT_FLUSH_INTERVAL", 0.1))


def max_in_flight() -> int:
    return max(1, int(_float("ASYNCCLIENT_MAX_IN_FLIGHT", 4)))


def request_retry_seconds() -> float:
    return max(0.0, _float("ASYNCCLIENT_REQUEST_RETRY_SECONDS", 60))


def request_timeout() -> float:
    """Seconds one HTTP request may take before it is abandoned and retried."""
    return max(0.1, _float("ASYNCCLIENT_REQUEST_TIMEOUT", 60))


def delivery_mode() -> str:
    """``agent`` (a separate process drains the rings) or ``thread`` (a worker thread in this process)."""
    mode = os.environ.get("ASYNCCLIENT_DELIVERY", "agent").strip().lower()
    return mode if mode in ("agent", "thread") else "agent"


def agent_idle_seconds() -> float:
    """How long the delivery agent stays with no ring to drain before it exits."""
    return max(0.5, _float("ASYNCCLIENT_AGENT_IDLE_SECONDS", 30))


def exit_timeout() -> float:
    return max(0.0, _float("ASYNCCLIENT_EXIT_TIMEOUT", 30))
