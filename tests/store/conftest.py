"""Fixtures: a fresh ``SqlStore`` per test on SQLite and on PostgreSQL.

PostgreSQL comes from ``ASYNCCLIENT_TEST_POSTGRES_URI`` if set; otherwise a throwaway server is started
with ``initdb`` / ``pg_ctl`` on 127.0.0.1 (as the ``postgres`` user when running as root, since PostgreSQL
refuses to run as root). Tests skip with a reason only when no PostgreSQL binaries exist.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from asyncclient.store import SqlStore

_PG_BIN_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin",
                "/usr/lib/postgresql/17/bin")


def _pg_bin(name: str) -> str | None:
    for folder in _PG_BIN_DIRS:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_pg_user(cmd: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *cmd] if owner else cmd


@pytest.fixture(scope="session")
def postgres_server_uri():
    """``postgresql://`` URI of a server whose user may create databases (session-wide)."""
    env_uri = os.environ.get("ASYNCCLIENT_TEST_POSTGRES_URI")
    if env_uri:
        yield env_uri
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        if os.environ.get("ASYNCCLIENT_REQUIRE_POSTGRES"):  # scripts/test.sh installed it: missing is a failure
            pytest.fail("ASYNCCLIENT_REQUIRE_POSTGRES is set but initdb/pg_ctl were not found")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found and ASYNCCLIENT_TEST_POSTGRES_URI unset; "
                    "run scripts/ensure-postgres.sh")
    owner = None
    if os.geteuid() == 0:
        owner = "postgres" if _user_exists("postgres") else "nobody"
    # Not under pytest's tmp dir: that one is private to root and the server runs as another user.
    base = Path(tempfile.mkdtemp(prefix="asyncclient-pg-"))
    data = base / "data"
    if owner:
        info = pwd.getpwnam(owner)
        os.chown(base, info.pw_uid, info.pw_gid)
    port = _free_port()
    subprocess.run(_as_pg_user([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--locale=C",
                                "-E", "UTF8", "--no-sync"], owner), check=True, capture_output=True)
    opts = f"-p {port} -h 127.0.0.1 -k {base} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(_as_pg_user([pg_ctl, "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "start"],
                               owner), check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_pg_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"], owner),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture
def postgres_db_uri(postgres_server_uri):
    """A fresh, empty database on the PostgreSQL server, dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:16]
    admin = sa.create_engine(postgres_server_uri.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))  # generated identifier, not user input
    base, _, _ = postgres_server_uri.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pg_sqlalchemy_uri(uri: str) -> str:
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_uri(backend, tmp_path, request) -> str:
    """A SQLAlchemy URL of an empty database on the backend under test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return _pg_sqlalchemy_uri(request.getfixturevalue("postgres_db_uri"))


@pytest.fixture
def store(db_uri, tmp_path):
    """A ``SqlStore`` on an empty database, artifacts under ``tmp_path/artifacts``."""
    s = SqlStore(db_uri, f"file://{tmp_path / 'artifacts'}")
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path):
    s = SqlStore(f"sqlite:///{tmp_path / 'store.db'}", f"file://{tmp_path / 'artifacts'}")
    yield s
    s.close()
