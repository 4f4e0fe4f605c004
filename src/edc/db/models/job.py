"""Jobs: one capture request (url, when, direction, mode), its result and its place in the queue."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edc.db.models.base import Base, IdentifierMixin, TimestampMixin
from edc.db.types import enum_type

if TYPE_CHECKING:
    from edc.db.models.artifact import Artifact
    from edc.db.models.audit import AuditLog


class JobStatus(StrEnum):
    """Job processing status."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def can_become(self, new: "JobStatus") -> bool:
        """Whether the state machine allows moving from this status to `new`."""
        return new in ALLOWED_TRANSITIONS[self]


ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.FAILED: frozenset({JobStatus.PENDING}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


class Job(Base, TimestampMixin, IdentifierMixin):
    """Capture job record."""

    __tablename__ = "jobs"

    # Request fields (from CSV input)
    url: Mapped[str] = mapped_column(String(2048), nullable=False, index=True)
    when: Mapped[str] = mapped_column(String(64), nullable=False)
    direction: Mapped[str] = mapped_column(String(16), default="closest", nullable=False)
    mode: Mapped[str] = mapped_column(String(16), default="fetch", nullable=False)

    # Processing result
    status: Mapped[JobStatus] = mapped_column(
        enum_type(JobStatus, "job_status"), default=JobStatus.PENDING, nullable=False, index=True
    )
    memento_url: Mapped[str | None] = mapped_column(String(2048))
    variance_days: Mapped[float | None] = mapped_column(Float)
    error_message: Mapped[str | None] = mapped_column(Text)

    # Metadata
    source: Mapped[str] = mapped_column(String(64), default="wayback", nullable=False)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict, nullable=False)

    # Queue: which worker holds the job, until when, and how many times it was claimed
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"), nullable=False)

    # Relationships
    artifacts: Mapped[list["Artifact"]] = relationship(
        back_populates="job", cascade="all, delete-orphan", passive_deletes=True
    )
    audit_logs: Mapped[list["AuditLog"]] = relationship(back_populates="job", passive_deletes=True)

    __table_args__ = (
        Index("ix_jobs_status_created", "status", "created_at"),
        Index("ix_jobs_url_when", "url", "when"),
        # Claiming walks only claimable rows, however many jobs are already done (PERF-NOTES).
        Index(
            "ix_jobs_pending_id",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_jobs_running_lease",
            "locked_until",
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    def __repr__(self) -> str:
        return f"<Job {self.uuid} {self.status.value} {self.url!r} @ {self.when}>"
