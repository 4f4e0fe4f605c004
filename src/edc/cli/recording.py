"""Recording a check's outcome in the audit log without ever losing the outcome itself.

A verification must report what it found even when the record cannot be written (read-only
media, a forged row colliding with the next id): the recording is best effort and says so.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from edc.config.secrets import scrub
from edc.db.engine import DatabaseEngine
from edc.db.repositories.audit_queue import AppendedEntry
from edc.errors import EdcError


@dataclass(frozen=True)
class Recorded:
    """The entry that records an outcome, or why there is none."""

    entry_id: int | None
    entry_uuid: str | None
    note: str

    def as_dict(self) -> dict[str, object] | None:
        if self.entry_id is None:
            return None
        return {"id": self.entry_id, "uuid": self.entry_uuid}


def record_outcome(
    db: DatabaseEngine, write: Callable[[Session], AppendedEntry], what: str, suffix: str = ""
) -> Recorded:
    """Run `write` in its own write transaction; never raise, describe the result instead."""
    try:
        with db.session() as session:
            entry = write(session)
        return Recorded(
            entry.id,
            entry.uuid,
            f"{what} recorded as audit entry id {entry.id} (uuid {entry.uuid}){suffix}",
        )
    except (SQLAlchemyError, EdcError) as exc:
        original = getattr(exc, "orig", None) or exc
        lines = str(original).strip().splitlines() or [type(original).__name__]
        password = db.url.password if isinstance(db.url.password, str) else None
        reason = scrub(lines[0], password)
        return Recorded(None, None, f"{what} could NOT be recorded in the audit log: {reason}")
