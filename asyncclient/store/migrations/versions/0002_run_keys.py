"""Metric history keyed by an integer per run (run_keys) instead of the 32-character run uuid.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_POINT_COLUMNS = ("key_id", "timestamp", "step", "value", "is_nan")


def upgrade() -> None:
    run_keys = op.create_table(
        "run_keys",
        sa.Column("run_key", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_uuid", sa.String(32), nullable=False, unique=True),
    )
    old = sa.table("metrics", sa.column("run_uuid"), *(sa.column(c) for c in _POINT_COLUMNS))
    op.execute(sa.insert(run_keys).from_select(["run_uuid"], sa.select(old.c.run_uuid).distinct()))
    new = op.create_table(
        "metric_history",
        sa.Column("run_key", sa.Integer, nullable=False),
        sa.Column("key_id", sa.Integer, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("is_nan", sa.Boolean(create_constraint=False), nullable=False),
        sa.PrimaryKeyConstraint("run_key", "key_id", "timestamp", "step", "value", "is_nan",
                                name="metric_history_pk"),
        sqlite_with_rowid=False,
    )
    op.execute(sa.insert(new).from_select(
        ["run_key", *_POINT_COLUMNS],
        sa.select(run_keys.c.run_key, *(old.c[c] for c in _POINT_COLUMNS))
        .select_from(old.join(run_keys, run_keys.c.run_uuid == old.c.run_uuid)),
    ))
    op.drop_table("metrics")
    op.rename_table("metric_history", "metrics")


def downgrade() -> None:
    raise NotImplementedError("0002 is not reversible: restore a backup taken before `asyncclient db upgrade`")
