"""Initial tracking schema: experiments, runs, params, tags, interned metric keys, metrics, latest
metrics, datasets, inputs and input tags.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False, unique=True),
        sa.Column("artifact_location", sa.String(2000)),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
        sa.Column("creation_time", sa.BigInteger),
        sa.Column("last_update_time", sa.BigInteger),
    )
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text),
        sa.PrimaryKeyConstraint("experiment_id", "key", name="experiment_tag_pk"),
    )
    op.create_table(
        "runs",
        sa.Column("run_uuid", sa.String(32), primary_key=True),
        sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), nullable=False),
        sa.Column("run_name", sa.String(250)),
        sa.Column("user_id", sa.String(256)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_time", sa.BigInteger),
        sa.Column("end_time", sa.BigInteger),
        sa.Column("deleted_time", sa.BigInteger),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False),
        sa.Column("artifact_uri", sa.String(2000)),
    )
    op.create_index("idx_runs_experiment_stage_start", "runs", ["experiment_id", "lifecycle_stage", "start_time"])
    for name, pk, value_type in (("params", "param_pk", sa.String(8000)), ("tags", "tag_pk", sa.String(8000))):
        op.create_table(
            name,
            sa.Column("run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid"), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", value_type, nullable=(name == "tags")),
            sa.PrimaryKeyConstraint("run_uuid", "key", name=pk),
        )
        op.create_index(f"idx_{name}_key_value", name, ["key", "value"])
    op.create_table(
        "metric_keys",
        sa.Column("key_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(250), nullable=False, unique=True),
    )
    op.create_table(
        "metrics",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("key_id", sa.Integer, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("is_nan", sa.Boolean(create_constraint=False), nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", "key_id", "timestamp", "step", "value", "is_nan", name="metric_pk"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "latest_metrics",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("key_id", sa.Integer, nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("is_nan", sa.Boolean(create_constraint=False), nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", "key_id", name="latest_metric_pk"),
    )
    op.create_index("idx_latest_metrics_key_value", "latest_metrics", ["key_id", "value"])
    op.create_table(
        "datasets",
        sa.Column("dataset_uuid", sa.String(36), primary_key=True),
        sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(36), nullable=False),
        sa.Column("dataset_source_type", sa.String(36), nullable=False),
        sa.Column("dataset_source", sa.Text, nullable=False),
        sa.Column("dataset_schema", sa.Text),
        sa.Column("dataset_profile", sa.Text),
        sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_dataset_experiment_name_digest"),
    )
    op.create_table(
        "inputs",
        sa.Column("input_uuid", sa.String(36), primary_key=True),
        sa.Column("source_type", sa.String(36), nullable=False),
        sa.Column("source_id", sa.String(36), nullable=False),
        sa.Column("destination_type", sa.String(36), nullable=False),
        sa.Column("destination_id", sa.String(36), nullable=False),
        sa.UniqueConstraint("source_type", "source_id", "destination_type", "destination_id", name="uq_input_edge"),
    )
    op.create_index("idx_inputs_destination", "inputs", ["destination_type", "destination_id"])
    op.create_table(
        "input_tags",
        sa.Column("input_uuid", sa.String(36), sa.ForeignKey("inputs.input_uuid"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("input_uuid", "name", name="input_tag_pk"),
    )


def downgrade() -> None:
    for name in ("input_tags", "inputs", "datasets", "latest_metrics", "metrics", "metric_keys", "tags",
                 "params", "runs", "experiment_tags", "experiments"):
        op.drop_table(name)
