"""The tracking schema, declared once with SQLAlchemy Core (MLflow's ``mlflow/store/tracking/dbmodels``).

Differences from MLflow's tables, each for speed:
- metric keys are interned into ``metric_keys`` so the history rows carry a small integer, not a string;
- ``metrics`` is keyed by (run, key, timestamp, step, value, is_nan): an exact duplicate point is an
  ``ON CONFLICT DO NOTHING`` no-op and the key doubles as the history index (SQLite: WITHOUT ROWID, so the
  history of one metric is stored contiguously);
- ``latest_metrics`` is maintained by an upsert on ingest, so searching by metric never scans histories.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import desc as sa_desc

metadata = MetaData()

experiments = Table(
    "experiments", metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False, unique=True),
    Column("artifact_location", String(2000)),
    Column("lifecycle_stage", String(32), nullable=False, server_default="active"),
    Column("creation_time", BigInteger),
    Column("last_update_time", BigInteger),
)

experiment_tags = Table(
    "experiment_tags", metadata,
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text),
    PrimaryKeyConstraint("experiment_id", "key", name="experiment_tag_pk"),
)

runs = Table(
    "runs", metadata,
    Column("run_uuid", String(32), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("run_name", String(250)),
    Column("user_id", String(256)),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger),
    Column("end_time", BigInteger),
    Column("deleted_time", BigInteger),
    Column("lifecycle_stage", String(20), nullable=False),
    Column("artifact_uri", String(2000)),
    # search_runs filters by experiment and stage and orders by start_time DESC by default.
    Index("idx_runs_experiment_stage_start", "experiment_id", "lifecycle_stage", "start_time"),
)

params = Table(
    "params", metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", String(8000), nullable=False),
    PrimaryKeyConstraint("run_uuid", "key", name="param_pk"),
    Index("idx_params_key_value", "key", "value"),
)

tags = Table(
    "tags", metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", String(8000)),
    PrimaryKeyConstraint("run_uuid", "key", name="tag_pk"),
    Index("idx_tags_key_value", "key", "value"),
)

metric_keys = Table(
    "metric_keys", metadata,
    Column("key_id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(250), nullable=False, unique=True),
)

# Runs get a small integer for the metric history: a 4-byte key instead of a 32-character uuid in every
# point of the history's primary key makes each insert's B-tree walk cheaper (+60% insert rate on SQLite).
run_keys = Table(
    "run_keys", metadata,
    Column("run_key", Integer, primary_key=True, autoincrement=True),
    Column("run_uuid", String(32), nullable=False, unique=True),
)

metrics = Table(
    "metrics", metadata,
    Column("run_key", Integer, nullable=False),
    Column("key_id", Integer, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("value", Float(precision=53), nullable=False),
    Column("is_nan", Boolean(create_constraint=False), nullable=False),
    # The uniqueness that makes exact duplicate points no-ops, and the history index in one.
    PrimaryKeyConstraint("run_key", "key_id", "timestamp", "step", "value", "is_nan", name="metric_history_pk"),
    sqlite_with_rowid=False,
)

latest_metrics = Table(
    "latest_metrics", metadata,
    Column("run_uuid", String(32), nullable=False),
    Column("key_id", Integer, nullable=False),
    Column("value", Float(precision=53), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("is_nan", Boolean(create_constraint=False), nullable=False),
    PrimaryKeyConstraint("run_uuid", "key_id", name="latest_metric_pk"),
    # A metric filter (key = k AND value > x) is answered from this index without touching runs.
    Index("idx_latest_metrics_key_value", "key_id", "value"),
)

datasets = Table(
    "datasets", metadata,
    Column("dataset_uuid", String(36), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("dataset_source_type", String(36), nullable=False),
    Column("dataset_source", Text, nullable=False),
    Column("dataset_schema", Text),
    Column("dataset_profile", Text),
    UniqueConstraint("experiment_id", "name", "digest", name="uq_dataset_experiment_name_digest"),
)

inputs = Table(
    "inputs", metadata,
    Column("input_uuid", String(36), primary_key=True),
    Column("source_type", String(36), nullable=False),
    Column("source_id", String(36), nullable=False),
    Column("destination_type", String(36), nullable=False),
    Column("destination_id", String(36), nullable=False),
    UniqueConstraint("source_type", "source_id", "destination_type", "destination_id", name="uq_input_edge"),
    Index("idx_inputs_destination", "destination_type", "destination_id"),
)

input_tags = Table(
    "input_tags", metadata,
    Column("input_uuid", String(36), ForeignKey("inputs.input_uuid"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", String(500), nullable=False),
    PrimaryKeyConstraint("input_uuid", "name", name="input_tag_pk"),
)


# ---- MLflow 3 LoggedModels (MLflow's ``logged_models`` and child tables) ----
# Migration 0003 creates these; the column names are MLflow's so its documentation reads on our tables.

logged_models = Table(
    "logged_models", metadata,
    Column("model_id", String(36), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(1000), nullable=False),
    Column("creation_timestamp_ms", BigInteger, nullable=False),
    Column("last_updated_timestamp_ms", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("model_type", String(500)),
    Column("source_run_id", String(32)),
    Column("status_message", String(1000)),
    # search_logged_models filters by experiment and stage and orders by creation time by default.
    Index("idx_logged_models_experiment_stage_created", "experiment_id", "lifecycle_stage", "creation_timestamp_ms"),
    Index("idx_logged_models_name", "name"),
)

logged_model_tags = Table(
    "logged_model_tags", metadata,
    Column("model_id", String(36), ForeignKey("logged_models.model_id"), nullable=False),
    Column("tag_key", String(255), nullable=False),
    Column("tag_value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "tag_key", name="logged_model_tags_pk"),
)

logged_model_params = Table(
    "logged_model_params", metadata,
    Column("model_id", String(36), ForeignKey("logged_models.model_id"), nullable=False),
    Column("param_key", String(255), nullable=False),
    Column("param_value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "param_key", name="logged_model_params_pk"),
)

logged_model_metrics = Table(
    "logged_model_metrics", metadata,
    Column("model_id", String(36), ForeignKey("logged_models.model_id"), nullable=False),
    Column("metric_name", String(500), nullable=False),
    Column("metric_timestamp_ms", BigInteger, nullable=False),
    Column("metric_step", BigInteger, nullable=False),
    Column("metric_value", Float(precision=53)),
    Column("run_id", String(32), nullable=False),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
    PrimaryKeyConstraint("model_id", "metric_name", "metric_timestamp_ms", "metric_step", "run_id",
                         name="logged_model_metrics_pk"),
    # Searches ordered by a metric walk this index (store/models/search.py: latest_metric_walk).
    Index("idx_logged_model_metrics_name_value", "metric_name", "metric_value"),
    # The latest point of a model's metric (timestamp DESC, step DESC, run_id ASC, MLflow's order) is the
    # first entry of this index read backwards: one seek, no sort.
    Index("idx_logged_model_metrics_latest", "model_id", "metric_name", "metric_timestamp_ms", "metric_step",
          sa_desc("run_id")),
)

# Run -> model edges of ``runs/outputs`` and ``log-inputs`` (MLflow keeps them in its generic ``inputs``).
run_model_outputs = Table(
    "run_model_outputs", metadata,
    Column("run_uuid", String(32), nullable=False),
    Column("model_id", String(36), nullable=False),
    Column("step", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_uuid", "model_id", name="run_model_outputs_pk"),
)

run_model_inputs = Table(
    "run_model_inputs", metadata,
    Column("run_uuid", String(32), nullable=False),
    Column("model_id", String(36), nullable=False),
    PrimaryKeyConstraint("run_uuid", "model_id", name="run_model_inputs_pk"),
)

# ---- the Model Registry (MLflow's ``mlflow/store/model_registry/dbmodels``) ----
# Children are keyed by the model name; a rename updates them in the same transaction.

registered_models = Table(
    "registered_models", metadata,
    Column("name", String(256), primary_key=True),
    Column("creation_time", BigInteger),
    Column("last_updated_time", BigInteger),
    Column("description", String(5000)),
    Index("idx_registered_models_updated", "last_updated_time"),
)

registered_model_tags = Table(
    "registered_model_tags", metadata,
    Column("name", String(256), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", String(5000)),
    PrimaryKeyConstraint("name", "key", name="registered_model_tag_pk"),
    # Tag filters and the exclusion of prompts (tag mlflow.prompt.is_prompt = 'true') start here.
    Index("idx_registered_model_tags_key_value", "key", "value"),
)

model_versions = Table(
    "model_versions", metadata,
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("creation_time", BigInteger),
    Column("last_updated_time", BigInteger),
    Column("description", String(5000)),
    Column("user_id", String(256)),
    # "None", "Staging", "Production", "Archived"; MLflow's soft delete is the stage "Deleted_Internal",
    # which keeps the version number from being reused.
    Column("current_stage", String(20), nullable=False),
    Column("source", String(500)),
    Column("storage_location", String(500)),
    Column("run_id", String(32)),
    Column("run_link", String(500)),
    Column("status", String(20), nullable=False),
    Column("status_message", String(500)),
    Column("model_id", String(36)),
    PrimaryKeyConstraint("name", "version", name="model_version_pk"),
    Index("idx_model_versions_run_id", "run_id"),
)

model_version_tags = Table(
    "model_version_tags", metadata,
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text),
    PrimaryKeyConstraint("name", "version", "key", name="model_version_tag_pk"),
)

registered_model_aliases = Table(
    "registered_model_aliases", metadata,
    Column("name", String(256), nullable=False),
    Column("alias", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("name", "alias", name="registered_model_alias_pk"),
)
