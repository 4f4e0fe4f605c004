"""Initial schema: jobs, artifacts and the append-only, hash-chained audit log.

Hand-checked DDL: never import the live models here, only frozen snapshots such as `edc.db.ddl`.
Names are spelled out as the models' naming convention produces them, so `create_tables()` and
this migration give the same schema. The job-queue columns come in 0002.

Revision ID: 0001
Revises:
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from edc.db.ddl import audit_guards_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
JOB_STATUSES = ("pending", "running", "completed", "failed", "cancelled")
ARTIFACT_TYPES = ("html", "raw", "pdf", "png", "warc")
AUDIT_ACTIONS = ("create", "read", "update", "delete", "export", "verify", "access")


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _identity_and_timestamps() -> list[sa.Column[Any]]:
    """The TimestampMixin and IdentifierMixin columns, in the order the models put them."""
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", ID, primary_key=True, autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
    ]


def _guards(create: bool) -> None:
    """Install or remove the audit-log guards (triggers, genesis index): version 1 of them."""
    if not context.is_offline_mode():
        (audit_guards_v1.create if create else audit_guards_v1.drop)(op.get_bind())
        return
    dialect = op.get_context().dialect.name
    statements = {
        ("sqlite", True): audit_guards_v1.SQLITE_CREATE,
        ("sqlite", False): audit_guards_v1.SQLITE_DROP,
        ("postgresql", True): audit_guards_v1.POSTGRESQL_CREATE,
        ("postgresql", False): audit_guards_v1.POSTGRESQL_DROP,
    }[(dialect, create)]
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("when", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("memento_url", sa.String(length=2048), nullable=True),
        sa.Column("variance_days", sa.Float(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("options", JSON, nullable=False),
        *_identity_and_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.CheckConstraint(_one_of("status", JOB_STATUSES), name=op.f("ck_jobs_job_status")),
    )
    op.create_index(op.f("ix_jobs_url_when"), "jobs", ["url", "when"])
    op.create_index(op.f("ix_jobs_status"), "jobs", ["status"])
    op.create_index(op.f("ix_jobs_uuid"), "jobs", ["uuid"], unique=True)
    op.create_index(op.f("ix_jobs_status_created"), "jobs", ["status", "created_at"])
    op.create_index(op.f("ix_jobs_url"), "jobs", ["url"])

    op.create_table(
        "artifacts",
        sa.Column("job_id", ID, nullable=False),
        sa.Column("artifact_type", sa.String(length=16), nullable=False),
        sa.Column("file_path", sa.String(length=1024), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("mime_type", sa.String(length=128), nullable=True),
        sa.Column("md5", sa.String(length=32), nullable=True),
        sa.Column("sha1", sa.String(length=40), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        *_identity_and_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_artifacts_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            _one_of("artifact_type", ARTIFACT_TYPES), name=op.f("ck_artifacts_artifact_type")
        ),
    )
    op.create_index(op.f("ix_artifacts_job_id"), "artifacts", ["job_id"])
    op.create_index(op.f("ix_artifacts_uuid"), "artifacts", ["uuid"], unique=True)
    op.create_index(op.f("ix_artifacts_job_type"), "artifacts", ["job_id", "artifact_type"])

    op.create_table(
        "audit_logs",
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
        sa.Column("previous_hash", sa.String(length=64), nullable=True),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        *_identity_and_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
        sa.UniqueConstraint("previous_hash", name=op.f("uq_audit_logs_previous_hash")),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_audit_logs_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.CheckConstraint(
            _one_of("action", AUDIT_ACTIONS), name=op.f("ck_audit_logs_audit_action")
        ),
    )
    op.create_index(op.f("ix_audit_action_created"), "audit_logs", ["action", "created_at"])
    op.create_index(op.f("ix_audit_logs_job_id"), "audit_logs", ["job_id"])
    op.create_index(op.f("ix_audit_actor_created"), "audit_logs", ["actor", "created_at"])
    op.create_index(op.f("ix_audit_logs_entry_hash"), "audit_logs", ["entry_hash"])
    op.create_index(op.f("ix_audit_logs_uuid"), "audit_logs", ["uuid"], unique=True)
    op.create_index(op.f("ix_audit_logs_action"), "audit_logs", ["action"])
    op.create_index(op.f("ix_audit_logs_job_uuid"), "audit_logs", ["job_uuid"])
    _guards(create=True)


def downgrade() -> None:
    # The guards go first: they refuse changes to audit_logs and hold its genesis index.
    _guards(create=False)
    op.drop_table("audit_logs")
    op.drop_table("artifacts")
    op.drop_table("jobs")
