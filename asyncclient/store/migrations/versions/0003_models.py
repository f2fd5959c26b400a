"""MLflow 3 LoggedModels (with their tags, params, metrics and run edges) and the Model Registry.

The tables are created from their one declaration in ``asyncclient/store/schema.py``: this revision only
adds tables, so creating exactly what the schema module declares keeps the two from drifting apart.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from asyncclient.store import schema

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
    bind = op.get_bind()
    for name in TABLES:  # parents first: logged_models before the tables that reference it
        schema.metadata.tables[name].create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for name in reversed(TABLES):
        schema.metadata.tables[name].drop(bind)
