"""store_from_uri, the ./mlruns default, migrations (fast when up to date) and the db CLI."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from asyncclient.exceptions import MlflowException
from asyncclient.store import SqlStore, store_from_uri, upgrade
from asyncclient.store import uri as uri_module
from asyncclient.store.cli import db
from asyncclient.store.migrate import MIGRATIONS_DIR, SCHEMA_REVISION


def test_schema_revision_constant_is_alembic_head():
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_REVISION


def test_default_uri_is_sqlite_in_local_mlruns_with_file_artifact_locations(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = store_from_uri(None)
    assert isinstance(store, SqlStore)
    assert (tmp_path / "mlruns" / "mlflow.db").exists()
    assert store.get_experiment("0").artifact_location == f"file://{tmp_path}/mlruns/0"


def test_store_is_cached_per_uri(tmp_path):
    uri = f"sqlite:///{tmp_path / 'c.db'}"
    assert store_from_uri(uri) is store_from_uri(uri)


def test_store_cache_is_reset_in_a_forked_child(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'f.db'}"
    parent = store_from_uri(uri)
    monkeypatch.setattr(uri_module, "_stores_pid", -1)  # as if this process were a fork of another
    assert store_from_uri(uri) is not parent


def test_folder_and_file_uris_hold_sqlite_inside_the_folder(tmp_path):
    store_from_uri(str(tmp_path / "plain"))
    store_from_uri(f"file://{tmp_path / 'viafile'}")
    assert (tmp_path / "plain" / "mlflow.db").exists() and (tmp_path / "viafile" / "mlflow.db").exists()


def test_postgresql_uri_is_rewritten_for_psycopg3():
    assert uri_module.resolve_db_uri("postgresql://u:p@h:5432/d")[0] == "postgresql+psycopg://u:p@h:5432/d"


def test_unsupported_scheme_is_invalid_parameter_value():
    with pytest.raises(MlflowException) as err:
        store_from_uri("mysql://x/y")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_upgrade_creates_schema_at_head(tmp_path):
    upgrade(f"sqlite:///{tmp_path / 'u.db'}")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'u.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_REVISION
        assert {"runs", "metrics", "latest_metrics", "metric_keys", "datasets"} <= set(sa.inspect(conn).get_table_names())
    engine.dispose()


def test_reopening_an_up_to_date_store_does_not_run_alembic(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'r.db'}"
    SqlStore(uri, "file:///a").close()
    import asyncclient.store.migrate as migrate

    def boom(conn):
        raise AssertionError("alembic ran on an up-to-date database")
    monkeypatch.setattr(migrate, "_alembic_upgrade", boom)
    SqlStore(uri, "file:///a").close()


def test_db_upgrade_cli_command(tmp_path):
    result = CliRunner().invoke(db, ["upgrade", f"sqlite:///{tmp_path / 'cli.db'}"])
    assert result.exit_code == 0, result.output
    assert SCHEMA_REVISION in result.output and Path(tmp_path / "cli.db").exists()


def test_store_works_on_postgresql_via_plain_postgresql_uri(postgres_db_uri):
    store = store_from_uri(postgres_db_uri, default_artifact_root="s3://b/root")
    assert store.get_experiment("0").artifact_location == "s3://b/root/0"


def test_upgrade_from_0001_keeps_the_metric_history(tmp_path):
    """0002 moves history points from run uuids to integer run keys without losing one."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from asyncclient.store import SqlStore
    from asyncclient.store.migrate import MIGRATIONS_DIR, upgrade

    uri = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(sa.text("INSERT INTO experiments (experiment_id, name, lifecycle_stage) VALUES (0, 'Default', 'active')"))
        conn.execute(sa.text("INSERT INTO runs (run_uuid, experiment_id, status, lifecycle_stage) "
                             "VALUES ('r1', 0, 'RUNNING', 'active')"))
        conn.execute(sa.text("INSERT INTO metric_keys (key_id, key) VALUES (1, 'loss')"))
        conn.execute(sa.text("INSERT INTO metrics VALUES ('r1', 1, :ts, :st, :v, 0)"),
                     [{"ts": 100 + i, "st": i, "v": i / 10} for i in range(50)])
    engine.dispose()
    upgrade(uri)
    history = SqlStore(uri, f"file://{tmp_path}").get_metric_history("r1", "loss")
    assert [(m.step, m.value) for m in history] == [(i, i / 10) for i in range(50)]
