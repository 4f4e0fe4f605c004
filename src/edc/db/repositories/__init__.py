"""Repositories: the only way edc code reads and changes records. They flush, never commit;
`DatabaseEngine.session()` is the unit of work. Every change to evidence is audited in the
same transaction."""

from edc.db.repositories.artifact import (
    ArtifactRepository,
    FileProblem,
    FileProblemKind,
    FilesReport,
)
from edc.db.repositories.audit import SYSTEM, AuditContext, AuditDraft, AuditLogRepository
from edc.db.repositories.audit_queue import AppendedEntry
from edc.db.repositories.job import JobDraft, JobKey, JobRepository

__all__ = [
    "SYSTEM",
    "AppendedEntry",
    "ArtifactRepository",
    "AuditContext",
    "AuditDraft",
    "AuditLogRepository",
    "FileProblem",
    "FileProblemKind",
    "FilesReport",
    "JobDraft",
    "JobKey",
    "JobRepository",
]
