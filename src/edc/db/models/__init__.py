"""The models: jobs, their artifacts and the audit log. Importing this registers all tables."""

from edc.db.models.artifact import Artifact, ArtifactType
from edc.db.models.audit import AuditAction, AuditLog, AuditPending
from edc.db.models.base import Base, IdentifierMixin, TimestampMixin
from edc.db.models.job import ALLOWED_TRANSITIONS, Job, JobStatus

__all__ = [
    "ALLOWED_TRANSITIONS",
    "Artifact",
    "ArtifactType",
    "AuditAction",
    "AuditLog",
    "AuditPending",
    "Base",
    "IdentifierMixin",
    "Job",
    "JobStatus",
    "TimestampMixin",
]
