"""What every repository that changes evidence shares: a session and the audit log it writes to."""

from sqlalchemy.orm import Session

from edc.db.repositories.audit import SYSTEM, AuditContext, AuditLogRepository


class AuditedRepository:
    """A repository whose changes are audited in the caller's transaction; flushes, never commits.

    Pass `audit` to share one AuditLogRepository (and its actor) between repositories.
    """

    def __init__(
        self,
        session: Session,
        context: AuditContext = SYSTEM,
        audit: AuditLogRepository | None = None,
    ) -> None:
        self.session = session
        self.audit = audit or AuditLogRepository(session, context)
