"""Job queue: which worker holds a job, until when, how often it was claimed; claim indexes.

Hand-checked DDL: never import the live models here, only frozen snapshots such as `edc.db.ddl`.
On SQLite the columns are added and dropped with plain ALTER TABLE (`recreate="never"`):
recreating `jobs` would drop it, and with foreign keys on that cascades into `artifacts`.
Dropping a column needs SQLite 3.35 or newer.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")
RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    with op.batch_alter_table("jobs", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("locked_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    op.create_index(
        op.f("ix_jobs_pending_id"),
        "jobs",
        ["id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index(
        op.f("ix_jobs_running_lease"),
        "jobs",
        ["locked_until"],
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_jobs_running_lease"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_pending_id"), table_name="jobs")
    with op.batch_alter_table("jobs", recreate="never") as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("locked_until")
        batch_op.drop_column("locked_by")
