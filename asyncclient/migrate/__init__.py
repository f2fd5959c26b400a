"""Import from MLflow and export back: ``asyncclient import SOURCE`` and ``asyncclient export DEST``.

A *source* reads experiments, runs, metric histories, inputs and artifacts from an MLflow tracking server
(REST), an MLflow SQL database (MLflow's own schema, read with SQLAlchemy), an MLflow file store folder, or
asyncclient itself (for export). A *destination* writes them through asyncclient's transports (the
embedded store, an asyncclient server, or any MLflow server). ``copy_tracking_data`` moves one to the
other, idempotently: a finished run carries a marker tag with a digest of its source, so re-running skips
it, and an interrupted run is completed by copying only what the destination lacks.
"""

from asyncclient.migrate.copier import CopyFilter, CopySummary, copy_tracking_data
from asyncclient.migrate.destination import Destination
from asyncclient.migrate.sources import open_source

__all__ = ["CopyFilter", "CopySummary", "Destination", "copy_tracking_data", "open_source"]
