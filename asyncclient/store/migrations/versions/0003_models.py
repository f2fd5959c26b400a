"""MLflow 3 LoggedModels (with their tags, params, metrics and run edges) and the Model Registry.

Tables as declared in ``asyncclient/store/schema.py`` at this revision, written out here so that later
changes to the schema module never change what this migration creates.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = (
    "logged_models", "logged_model_tags", "logged_model_params", "logged_model_metrics", "run_model_outputs",
    "run_model_inputs", "registered_models", "registered_model_tags", "model_versions", "model_version_tags",
    "registered_model_aliases",
)


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(36), primary_key=True),
        sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.experiment_id"), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(1000), nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("model_type", sa.String(500)),
        sa.Column("source_run_id", sa.String(32)),
        sa.Column("status_message", sa.String(1000)),
    )
    op.create_index("idx_logged_models_experiment_stage_created", "logged_models", ["experiment_id", "lifecycle_stage", "creation_timestamp_ms"])
    op.create_index("idx_logged_models_name", "logged_models", ["name"])
    op.create_table(
        "logged_model_tags",
        sa.Column("model_id", sa.String(36), sa.ForeignKey("logged_models.model_id")),
        sa.Column("tag_key", sa.String(255)),
        sa.Column("tag_value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "tag_key", name="logged_model_tags_pk"),
    )
    op.create_table(
        "logged_model_params",
        sa.Column("model_id", sa.String(36), sa.ForeignKey("logged_models.model_id")),
        sa.Column("param_key", sa.String(255)),
        sa.Column("param_value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "param_key", name="logged_model_params_pk"),
    )
    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", sa.String(36), sa.ForeignKey("logged_models.model_id")),
        sa.Column("metric_name", sa.String(500)),
        sa.Column("metric_timestamp_ms", sa.BigInteger),
        sa.Column("metric_step", sa.BigInteger),
        sa.Column("metric_value", sa.Float(precision=53)),
        sa.Column("run_id", sa.String(32)),
        sa.Column("dataset_name", sa.String(500)),
        sa.Column("dataset_digest", sa.String(36)),
        sa.PrimaryKeyConstraint("model_id", "metric_name", "metric_timestamp_ms", "metric_step", "run_id", name="logged_model_metrics_pk"),
    )
    op.create_index("idx_logged_model_metrics_name_value", "logged_model_metrics", ["metric_name", "metric_value"])
    op.create_index("idx_logged_model_metrics_latest", "logged_model_metrics",
                    ["model_id", "metric_name", "metric_timestamp_ms", "metric_step", sa.text("run_id DESC")])
    op.create_table(
        "run_model_outputs",
        sa.Column("run_uuid", sa.String(32)),
        sa.Column("model_id", sa.String(36)),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", "model_id", name="run_model_outputs_pk"),
    )
    op.create_table(
        "run_model_inputs",
        sa.Column("run_uuid", sa.String(32)),
        sa.Column("model_id", sa.String(36)),
        sa.PrimaryKeyConstraint("run_uuid", "model_id", name="run_model_inputs_pk"),
    )
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("creation_time", sa.BigInteger),
        sa.Column("last_updated_time", sa.BigInteger),
        sa.Column("description", sa.String(5000)),
    )
    op.create_index("idx_registered_models_updated", "registered_models", ["last_updated_time"])
    op.create_table(
        "registered_model_tags",
        sa.Column("name", sa.String(256)),
        sa.Column("key", sa.String(250)),
        sa.Column("value", sa.String(5000)),
        sa.PrimaryKeyConstraint("name", "key", name="registered_model_tag_pk"),
    )
    op.create_index("idx_registered_model_tags_key_value", "registered_model_tags", ["key", "value"])
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(256)),
        sa.Column("version", sa.Integer),
        sa.Column("creation_time", sa.BigInteger),
        sa.Column("last_updated_time", sa.BigInteger),
        sa.Column("description", sa.String(5000)),
        sa.Column("user_id", sa.String(256)),
        sa.Column("current_stage", sa.String(20), nullable=False),
        sa.Column("source", sa.String(500)),
        sa.Column("storage_location", sa.String(500)),
        sa.Column("run_id", sa.String(32)),
        sa.Column("run_link", sa.String(500)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_message", sa.String(500)),
        sa.Column("model_id", sa.String(36)),
        sa.PrimaryKeyConstraint("name", "version", name="model_version_pk"),
    )
    op.create_index("idx_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "model_version_tags",
        sa.Column("name", sa.String(256)),
        sa.Column("version", sa.Integer),
        sa.Column("key", sa.String(250)),
        sa.Column("value", sa.Text),
        sa.PrimaryKeyConstraint("name", "version", "key", name="model_version_tag_pk"),
    )
    op.create_table(
        "registered_model_aliases",
        sa.Column("name", sa.String(256)),
        sa.Column("alias", sa.String(256)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", "alias", name="registered_model_alias_pk"),
    )


def downgrade() -> None:
    for name in reversed(TABLES):  # children first
        op.drop_table(name)
