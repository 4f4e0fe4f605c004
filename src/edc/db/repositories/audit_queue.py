"""Appended audit entries wait in the session and are written together, in chain order.

`AuditLogRepository.append` links and hashes an entry at once (so the chain tip is always
right) and queues its row here; the queue is written by `edc.db.bulk.BulkWriter` (SQLite
`executemany`, PostgreSQL `COPY`) before anything could miss it:

- at every flush: explicit, autoflush before an ORM query, before a commit or a SAVEPOINT.
  A flush of a session without ORM changes does nothing, so while rows wait a placeholder
  `AuditLog` sits in `session.new`; `before_flush` takes it out again, it is never inserted;
- before every statement run through the session (`do_orm_execute`: Core and text too);
- before commit (`before_commit`), in case the placeholder was expunged.

A rollback, or the end of the transaction in any other way, drops the queue with the rows it
would have written. Statements on `session.connection()` directly do not see queued rows:
call `write_queued(session)` first. The rows are written in the order they were queued, so
ids ascend in chain order; that the ids are consecutive is checked after each write.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from edc.db.bulk import BulkWriter
from edc.db.models import AuditLog
from edc.errors import IntegrityFailureError
from edc.integrity.chain import ChainEntry

__all__ = ["AppendedEntry", "queue_entry", "write_queued"]

_QUEUE_KEY = "edc_audit_queue"
_COLUMNS = (
    "uuid", "created_at", "updated_at", "job_id", "job_uuid", "action", "actor", "target_type",
    "target_id", "description", "details", "ip_address", "user_agent", "previous_hash",
    "entry_hash",
)  # fmt: skip
_LAST_ID = {
    "sqlite": "SELECT last_insert_rowid()",
    "postgresql": "SELECT currval(pg_get_serial_sequence('audit_logs', 'id'))",
}
_HASH_OF_ID = {
    "sqlite": "SELECT entry_hash FROM audit_logs WHERE id = ?",
    "postgresql": "SELECT entry_hash FROM audit_logs WHERE id = %s",
}


@dataclass(slots=True)
class AppendedEntry:
    """An entry `append` added: its identity at once, its database `id` once it is written."""

    uuid: str
    entry_hash: str
    previous_hash: str | None
    created_at: datetime
    id: int | None = None


@dataclass(slots=True)
class _Queue:
    """Rows waiting to be written, ready for the driver, and the entries to give ids to."""

    sqlite: bool
    placeholder: AuditLog
    rows: list[tuple[Any, ...]]
    entries: list[AppendedEntry]


def queue_entry(session: Session, entry: ChainEntry, job_id: int | None) -> AppendedEntry:
    """Queue `entry` (already linked to the tip) for writing; return what the caller gets."""
    queue: _Queue | None = session.info.get(_QUEUE_KEY)
    if queue is None:
        queue = _Queue(session.connection().dialect.name == "sqlite", AuditLog(), [], [])
        session.add(queue.placeholder)
        session.info[_QUEUE_KEY] = queue
    entry_hash, details_json = entry.hash_and_details_json()
    if queue.sqlite:  # stored as pysqlite/SQLAlchemy store it: naive UTC text
        time = entry.time_text
        created: Any = f"{time[:10]} {time[11:26]}"
    else:
        created = entry.created_at
    queue.rows.append(
        (
            entry.uuid, created, created, job_id, entry.job_uuid, entry.action, entry.actor,
            entry.target_type, entry.target_id, entry.description, details_json,
            entry.ip_address, entry.user_agent, entry.previous_hash, entry_hash,
        )
    )  # fmt: skip
    appended = AppendedEntry(entry.uuid, entry_hash, entry.previous_hash, entry.created_at)
    queue.entries.append(appended)
    return appended


def write_queued(session: Session) -> None:
    """Write the queued rows now, in order, and give their entries ids."""
    queue: _Queue | None = session.info.pop(_QUEUE_KEY, None)
    if queue is None:
        return
    if queue.placeholder in session:
        session.expunge(queue.placeholder)
    writer = BulkWriter(session)
    writer.insert("audit_logs", _COLUMNS, queue.rows)
    ids = _ids_written(writer, queue.rows)
    for entry, entry_id in zip(queue.entries, ids, strict=True):
        entry.id = entry_id


def _ids_written(writer: BulkWriter, rows: list[tuple[Any, ...]]) -> list[int]:
    """The ids the rows just written got. Under the chain lock only this transaction inserts
    entries, so they are consecutive and end at the last id drawn; checked on the first row."""
    dialect = writer.dialect.name
    ((last,),) = writer.rows(_LAST_ID[dialect], ())
    first = last - len(rows) + 1
    found = writer.rows(_HASH_OF_ID[dialect], (first,))
    if not found or found[0][0] != rows[0][-1]:
        raise IntegrityFailureError("audit entries were not given consecutive ids; not written")
    return list(range(first, last + 1))


@event.listens_for(Session, "before_flush")
def _write_before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    write_queued(session)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    write_queued(session)


@event.listens_for(Session, "do_orm_execute")
def _write_before_statement(state: ORMExecuteState) -> None:
    if _QUEUE_KEY in state.session.info:
        write_queued(state.session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, _previous: SessionTransaction) -> None:
    """Rolled back: the queued rows go with the rest (a SAVEPOINT flushed those before it)."""
    session.info.pop(_QUEUE_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _drop_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_QUEUE_KEY, None)
