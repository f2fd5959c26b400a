"""The `asyncclient` command: server, ui, db upgrade, sync, import, export."""

from __future__ import annotations

import click

from asyncclient.buffer import spool_dir


@click.group()
@click.version_option(package_name="asyncclient")
def cli() -> None:
    """asyncclient: MLflow-compatible experiment tracking."""


@cli.command("sync")
@click.option("--spool-dir", "folder", default=None,
              help="Folder of ring files (default: ASYNCCLIENT_SPOOL_DIR or /dev/shm/asyncclient-<uid>).")
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to try each destination.")
def sync_command(folder: str | None, timeout: float) -> None:
    """Deliver data that exited processes could not deliver (kept in their ring files)."""
    from asyncclient.buffer.sync import sync_spool

    directory = folder or spool_dir()
    report = sync_spool(directory, timeout)
    for path in report["delivered"]:
        click.echo(f"delivered {path}")
    for f in report["failures"]:
        click.echo(f"  refused for run {f['run_id']} ({', '.join(f['keys'][:10])}): {f['message']}", err=True)
    for path in report["remaining"]:
        click.echo(f"could not deliver {path} within {timeout:g} s; kept for a later sync", err=True)
    if not (report["delivered"] or report["failures"] or report["remaining"]):
        click.echo(f"Nothing left to deliver in {directory}.")
    raise SystemExit(1 if report["failures"] or report["remaining"] else 0)


def _mount_optional() -> None:
    # The server and the store bring their own command groups.
    from asyncclient.migrate.cli import export_command, import_command
    from asyncclient.server.cli import server, ui
    from asyncclient.store.cli import db

    cli.add_command(server)
    cli.add_command(ui)
    cli.add_command(db)
    cli.add_command(import_command)
    cli.add_command(export_command)


_mount_optional()
main = cli

if __name__ == "__main__":
    main()
