"""Deferred linking of audit events: `audit_pending`, where hot job-queue transitions record
their events without the chain lock until a seal links them into `audit_logs`.

Hand-checked DDL: never import the live models here, only frozen snapshots such as `edc.db.ddl`.
A new table only, so SQLite needs no batch mode. The downgrade refuses while unsealed events
exist: dropping them would lose audit records (seal first: any `edc audit verify` does).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from edc.db.ddl import audit_pending_guards_v1
from edc.errors import InputError

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AUDIT_ACTIONS = ("create", "read", "update", "delete", "export", "verify", "access")


def _guards(create: bool) -> None:
    """Install or remove the audit_pending guards: version 1 of them."""
    if not context.is_offline_mode():
        (audit_pending_guards_v1.create if create else audit_pending_guards_v1.drop)(op.get_bind())
        return
    for statement in audit_pending_guards_v1.statements(op.get_context().dialect.name, create):
        op.execute(statement)


def upgrade() -> None:
    actions = ", ".join(repr(value) for value in AUDIT_ACTIONS)
    op.create_table(
        "audit_pending",
        sa.Column("id", ID, primary_key=True, autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("job_id", ID, nullable=True),
        sa.Column("job_uuid", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pending")),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_audit_pending_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.CheckConstraint(f"action IN ({actions})", name=op.f("ck_audit_pending_audit_action")),
    )
    _guards(create=True)


def downgrade() -> None:
    if not context.is_offline_mode():
        waiting = op.get_bind().exec_driver_sql("SELECT count(*) FROM audit_pending").scalar()
        if waiting:
            raise InputError(
                f"refusing to drop audit_pending: {waiting} audit event(s) are not sealed into "
                "the chain yet; seal them first (`edc audit verify` does), then downgrade"
            )
    _guards(create=False)
    op.drop_table("audit_pending")
