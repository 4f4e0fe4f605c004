"""What `edc db status` reports about a database, gathered in one place so fields can be added."""

from dataclasses import asdict, dataclass
from typing import Any

from edc.db.engine import DatabaseEngine
from edc.db.migrate import read_state, script_directory
from edc.db.repositories import AuditLogRepository, JobRepository
from edc.db.schema_state import SchemaSnapshot, SchemaState, classify
from edc.db.sealing import count_pending, seal_before_reading
from edc.db.urls import sqlite_file


@dataclass(frozen=True)
class DatabaseStatus:
    """The database (masked URL), its revision, this edc's head and the revisions to apply.

    `state` is one of `edc.db.schema_state.SchemaState`: empty, current, behind, unknown,
    unmanaged.
    """

    url: str
    current: str | None
    head: str
    pending: list[str]
    state: str
    jobs: dict[str, int] | None = None
    """Jobs by status (every status, zeros included); None unless the schema is current."""
    audit: dict[str, Any] | None = None
    """The audit chain's checkpoint now (count, last_id, last_hash) and `pending`, the events
    recorded but not sealed into it (non-zero only if the database could not be written to seal
    them first); None likewise."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `--json`."""
        return asdict(self)


def gather_status(db: DatabaseEngine) -> DatabaseStatus:
    """Seal pending audit events (best effort), then read the status in one read-only
    transaction; a missing SQLite file is not created."""
    snapshot = _missing_file_state(db) or read_state(db)
    jobs: dict[str, int] | None = None
    audit: dict[str, Any] | None = None
    if snapshot.state is SchemaState.CURRENT:
        seal_before_reading(db)
        with db.session(read_only=True) as session:
            counts = JobRepository(session).counts()
            head = AuditLogRepository(session).head()
            pending = count_pending(session)
        jobs = {status.value: count for status, count in counts.items()}
        audit = {
            "count": head.count,
            "last_id": head.last_id,
            "last_hash": head.last_hash,
            "pending": pending,
        }
    return DatabaseStatus(
        url=db.masked_url,
        current=snapshot.current,
        head=snapshot.head,
        pending=list(snapshot.pending),
        state=snapshot.state.value,
        jobs=jobs,
        audit=audit,
    )


def _missing_file_state(db: DatabaseEngine) -> SchemaSnapshot | None:
    """An SQLite file that does not exist is an empty database; opening it would create it."""
    path = sqlite_file(db.url)
    if path is None or path.exists():
        return None
    return classify(None, (), script_directory())
