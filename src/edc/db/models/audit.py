"""The audit log: an append-only, hash-chained record of every action on evidence."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edc.db.ddl import audit_guards_v1 as audit_guards
from edc.db.ddl import audit_pending_guards_v1 as pending_guards
from edc.db.models.base import Base, BigIntKey, IdentifierMixin, TimestampMixin
from edc.db.types import enum_type

if TYPE_CHECKING:
    from edc.db.models.job import Job


class AuditAction(StrEnum):
    """Audit event action types."""

    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"
    VERIFY = "verify"
    ACCESS = "access"


class AuditLog(Base, TimestampMixin, IdentifierMixin):
    """Forensic audit log with hash chain for tamper detection.

    Rows are never updated or deleted: database triggers refuse it (see `edc.db.ddl`), except
    the `job_id` -> NULL that deleting a job makes. `job_uuid` keeps the job's identity for the
    hash chain after that.
    """

    __tablename__ = "audit_logs"

    job_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )
    job_uuid: Mapped[str | None] = mapped_column(String(36), index=True)

    action: Mapped[AuditAction] = mapped_column(
        enum_type(AuditAction, "audit_action"), nullable=False, index=True
    )
    actor: Mapped[str] = mapped_column(String(256), default="system", nullable=False)
    target_type: Mapped[str] = mapped_column(String(64), nullable=False)
    target_id: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, nullable=False)

    details: Mapped[dict[str, Any]] = mapped_column(default=dict, nullable=False)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))

    # Hash chain: each entry names its predecessor's hash; no two entries may name the same one.
    previous_hash: Mapped[str | None] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)

    job: Mapped["Job | None"] = relationship(back_populates="audit_logs")

    __table_args__ = (
        UniqueConstraint("previous_hash", name="uq_audit_logs_previous_hash"),
        Index("ix_audit_action_created", "action", "created_at"),
        Index("ix_audit_actor_created", "actor", "created_at"),
    )

    def __repr__(self) -> str:
        return f"<AuditLog {self.id} {self.action.value} {self.target_type}:{self.target_id}>"


class AuditPending(Base):
    """An audit event recorded with its change but not yet linked into the hash chain.

    Hot job-queue transitions write here without the chain lock; sealing
    (`edc.db.sealing`) moves events into `audit_logs` in id order, chained as `append` chains,
    and deletes them. Triggers refuse UPDATE and refuse DELETE of an event not yet in
    `audit_logs` (see `edc.db.ddl.audit_pending_guards_v1`).
    """

    __tablename__ = "audit_pending"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    job_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("jobs.id", ondelete="SET NULL")
    )
    job_uuid: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[AuditAction] = mapped_column(
        enum_type(AuditAction, "audit_action"), nullable=False
    )
    actor: Mapped[str] = mapped_column(String(256), nullable=False)
    target_type: Mapped[str] = mapped_column(String(64), nullable=False)
    target_id: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))

    def __repr__(self) -> str:
        return f"<AuditPending {self.id} {self.action.value} {self.target_type}:{self.target_id}>"


def _install_guards(target: Any, connection: Connection, **_: Any) -> None:
    audit_guards.create(connection)


def _remove_guards(target: Any, connection: Connection, **_: Any) -> None:
    audit_guards.drop(connection)


# Whatever creates the table (create_all, tests) also creates its guards.
event.listen(AuditLog.__table__, "after_create", _install_guards)
event.listen(AuditLog.__table__, "before_drop", _remove_guards)


def _install_pending_guards(target: Any, connection: Connection, **_: Any) -> None:
    pending_guards.create(connection)


def _remove_pending_guards(target: Any, connection: Connection, **_: Any) -> None:
    pending_guards.drop(connection)


event.listen(AuditPending.__table__, "after_create", _install_pending_guards)
event.listen(AuditPending.__table__, "before_drop", _remove_pending_guards)
