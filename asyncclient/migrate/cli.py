"""``asyncclient import SOURCE`` and ``asyncclient export DEST``."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime

import click

from asyncclient.exceptions import MlflowException


def _time_ms(value: str | None) -> int | None:
    """An ISO date or datetime (UTC unless it says otherwise), or milliseconds since the epoch."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is neither an ISO date (2026-01-31, 2026-01-31T12:00) "
                                 "nor milliseconds since the epoch") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _embedded_store_missing(uri: str) -> bool:
    from asyncclient.store.uri import resolve_db_uri
    from asyncclient.transports import is_embedded_uri

    if not is_embedded_uri(uri):
        return False
    db_uri = resolve_db_uri(uri)[0]
    return db_uri.startswith("sqlite:///") and not os.path.exists(db_uri[len("sqlite:///"):])


def _copy_options(command):
    options = [
        click.option("--experiment", "experiments", multiple=True,
                     help="Copy only this experiment (name or id); repeat for several."),
        click.option("--since", default=None, help="Only runs started at or after this time (ISO date or ms)."),
        click.option("--until", default=None, help="Only runs started before this time (ISO date or ms)."),
        click.option("--dry-run", is_flag=True, help="Say what would be copied; write nothing."),
        click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _run_copy(source_uri: str, dest_uri: str, experiments, since, until, dry_run: bool, progress: bool,
              source_is_asyncclient: bool) -> None:
    from asyncclient.migrate import CopyFilter, Destination, copy_tracking_data, open_source
    from asyncclient.migrate.source_tracking import TrackingSource

    selection = CopyFilter(tuple(experiments), _time_ms(since), _time_ms(until))
    source = dest = None
    with tempfile.TemporaryDirectory() as scratch:
        if dry_run and _embedded_store_missing(dest_uri):
            # Opening an embedded store creates it: a dry run compares with an empty one instead.
            dest_uri_used = scratch
        else:
            dest_uri_used = dest_uri
        try:
            source = TrackingSource(source_uri) if source_is_asyncclient else open_source(source_uri)
            dest = Destination(dest_uri_used)
            summary = copy_tracking_data(source, dest, selection, dry_run=dry_run, progress=progress)
        except MlflowException as e:
            raise click.ClickException(str(e)) from e
        except KeyboardInterrupt:
            # Every write is idempotent and each run's digest tag comes last: nothing is half-counted.
            click.echo("\nInterrupted. Run the same command again to copy the rest.", err=True)
            raise SystemExit(130) from None
        finally:
            for end in (source, dest):
                if end is not None:
                    end.close()
    click.echo(f"{source_uri} -> {dest_uri}")
    for line in summary.lines():
        click.echo(line)


@click.command("import")
@click.argument("source")
@click.option("--to", "dest", default=None,
              help="Destination tracking URI (default: the current one, MLFLOW_TRACKING_URI or ./mlruns).")
@_copy_options
def import_command(source: str, dest: str | None, experiments, since, until, dry_run: bool, progress: bool) -> None:
    """Import experiments and runs from MLflow, keeping run ids.

    SOURCE is an MLflow tracking server URL (http://host:port), an MLflow database URI
    (sqlite:///mlflow.db, postgresql://...) or an MLflow file store folder (./mlruns). Re-running copies
    only what is missing or changed.
    """
    from asyncclient import config

    _run_copy(source, dest or config.get_tracking_uri(), experiments, since, until, dry_run, progress, False)


@click.command("export")
@click.argument("dest")
@click.option("--from", "source", default=None,
              help="asyncclient tracking URI to read (default: the current one, MLFLOW_TRACKING_URI or ./mlruns).")
@_copy_options
def export_command(dest: str, source: str | None, experiments, since, until, dry_run: bool, progress: bool) -> None:
    """Export experiments and runs to an MLflow tracking server (DEST: http://host:port).

    The server assigns new run ids; each exported run carries its asyncclient id in the tag
    asyncclient.source_run_id. Re-running copies only what is missing or changed.
    """
    from asyncclient import config

    if not dest.startswith(("http://", "https://")):
        raise click.BadParameter(f"'{dest}' is not a tracking server URL (http://host:port)", param_hint="DEST")
    _run_copy(source or config.get_tracking_uri(), dest, experiments, since, until, dry_run, progress, True)
