"""``asyncclient db upgrade <uri>`` (MLflow's ``mlflow db upgrade``); the main CLI mounts the ``db`` group."""

from __future__ import annotations

import click

from asyncclient.store.migrate import SCHEMA_REVISION, upgrade


@click.group("db")
def db() -> None:
    """Manage the tracking database schema."""


@db.command("upgrade")
@click.argument("uri")
def upgrade_command(uri: str) -> None:
    """Create or upgrade the schema at URI (sqlite:///file.db, postgresql://..., or a folder)."""
    upgrade(uri)
    click.echo(f"Database at {uri} is at schema revision {SCHEMA_REVISION}.")
