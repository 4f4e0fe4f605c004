"""AuditLogRepository: append to the hash chain, verify it, checkpoint it, export it.

Appends are serialized so that concurrent writers on any number of machines produce one linear
chain: on PostgreSQL a transaction-scoped advisory lock, on SQLite the write lock that every
write transaction takes at BEGIN (`BEGIN IMMEDIATE`). The chain tip is read once per
transaction under that lock and kept in `session.info` for the following appends.
"""

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from edc.db.bulk import BulkWriter
from edc.db.ids import new_uuid
from edc.db.models import AuditAction, AuditLog, Job
from edc.db.repositories.audit_bulk import (
    AUDIT_COLUMNS,
    PREVIOUS_HASH,
    Actor,
    EntryFields,
    chain_rows,
)
from edc.db.repositories.audit_queue import AppendedEntry, queue_entry, write_queued
from edc.db.repositories.audit_read import read_stored
from edc.db.sealing import lock_chain, read_tip, seal_locked
from edc.db.types import utc_now
from edc.errors import IntegrityFailureError
from edc.integrity.chain import (
    ChainEntry,
    Checkpoint,
    RecordRef,
    VerifyResult,
    verify_chain,
)

_TIP_KEY = "edc_audit_chain_tip"
STREAM_BATCH = 5_000


@dataclass(frozen=True)
class AuditDraft:
    """One entry to append in bulk; the repository adds time, actor, uuid and the chain links."""

    action: AuditAction
    target_type: str
    description: str
    target_id: str | None = None
    job_id: int | None = None
    job_uuid: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class AuditContext:
    """Who is acting: recorded on every entry a repository writes."""

    actor: str = "system"
    ip_address: str | None = None
    user_agent: str | None = None


SYSTEM = AuditContext()


class AuditLogRepository:
    """Append-only access to the audit log; flushes, never commits."""

    def __init__(self, session: Session, context: AuditContext = SYSTEM) -> None:
        self.session = session
        self.context = context

    def append(
        self,
        action: AuditAction,
        target_type: str,
        description: str,
        *,
        target_id: str | None = None,
        job: Job | None = None,
        details: dict[str, Any] | None = None,
        actor: str | None = None,
        ip_address: str | None = None,
        user_agent: str | None = None,
    ) -> AppendedEntry:
        """Add one entry linked to the current chain tip, in the caller's transaction.

        The entry is linked and hashed now and written with the others of the transaction at
        the session's next flush, statement or commit (see edc.db.repositories.audit_queue);
        its `id` is known from then on.
        """
        info = self.session.info
        previous_hash = info[_TIP_KEY] if _TIP_KEY in info else self._chain_tip()
        job_id = None
        if job is not None:
            job_id = job.id
            if job_id is None:  # a job added but not yet flushed: its id comes first
                self.session.flush()
                job_id = job.id
        context = self.context
        created_at = utc_now()
        entry = ChainEntry(
            uuid=new_uuid(),
            created_at=created_at,
            action=action.value,
            actor=actor or context.actor,
            target_type=target_type,
            target_id=target_id,
            description=description,
            details=details or {},
            ip_address=ip_address if ip_address is not None else context.ip_address,
            user_agent=user_agent if user_agent is not None else context.user_agent,
            job_uuid=job.uuid if job is not None else None,
            previous_hash=previous_hash,
        )
        appended = queue_entry(self.session, entry, job_id)
        info[_TIP_KEY] = appended.entry_hash
        return appended

    def append_many(self, drafts: Iterable[AuditDraft]) -> int:
        """Append many entries in order, linked and hashed exactly like `append`, in one go.

        For bulk paths: the rows go in through `edc.db.bulk` (COPY on PostgreSQL, executemany
        on SQLite), below the ORM; every entry of one call shares one `created_at`.
        """
        entries = [
            EntryFields(
                draft.action.value,
                draft.target_type,
                draft.description,
                draft.target_id,
                draft.job_id,
                draft.job_uuid,
                draft.details or {},
            )
            for draft in drafts
        ]
        return self.append_fields(entries)

    def append_fields(self, entries: list[EntryFields]) -> int:
        """`append_many` for callers that already hold the plain fields (no AuditDraft each)."""
        if not entries:
            return 0
        self.session.flush()  # entries added through the ORM go first, keeping id order
        writer = BulkWriter(self.session)
        context = self.context
        actor = Actor(context.actor, context.ip_address, context.user_agent)
        rows, tip = chain_rows(entries, self._chain_tip(), actor, utc_now(), writer.forms)
        return self.append_rows(rows, tip, writer)

    def append_rows(self, rows: list[tuple[Any, ...]], tip: str | None, writer: BulkWriter) -> int:
        """Insert rows made by `chain_rows` from the current tip; `tip` is their last hash.

        Refuses (IntegrityFailureError, nothing written) rows chained from another tip, so a
        bulk path that prepared its rows ahead can never fork the chain.
        """
        if not rows:
            return 0
        self.require_tip(rows[0][PREVIOUS_HASH])
        writer.insert("audit_logs", AUDIT_COLUMNS, rows)
        self.session.info[_TIP_KEY] = tip
        return len(rows)

    def require_tip(self, previous_hash: str | None) -> None:
        """IntegrityFailureError unless `previous_hash` is the chain's tip now (appending
        entries chained from it cannot fork the chain)."""
        if previous_hash != self.chain_tip():
            raise IntegrityFailureError(
                "bulk audit entries were chained from another tip than the chain's; "
                "nothing was written"
            )

    def chain_tip(self) -> str | None:
        """The chain's last hash, under the chain lock held until this transaction ends."""
        self.session.flush()
        return self._chain_tip()

    def _chain_tip(self) -> str | None:
        """The last entry's hash, read under the chain lock once per transaction."""
        if _TIP_KEY in self.session.info:
            write_queued(self.session)  # whoever asks for the tip appends after these
            tip: str | None = self.session.info[_TIP_KEY]
            return tip
        # Events recorded earlier (and committed) are linked first: an append never overtakes them.
        return self._seal()[0]

    def seal(self) -> int:
        """Link every pending event into the chain now, in this transaction; return how many."""
        self.session.flush()
        return self._seal()[1]

    def _seal(self) -> tuple[str | None, int]:
        """Seal pending events after the tip (taking the chain lock unless this transaction
        holds it already); keep and return the new tip, and how many were sealed."""
        connection = self.session.connection()
        if _TIP_KEY in self.session.info:
            tip: str | None = self.session.info[_TIP_KEY]
        else:
            lock_chain(connection)
            tip = read_tip(connection)
        tip, sealed = seal_locked(connection, tip)
        self.session.info[_TIP_KEY] = tip
        return tip, sealed

    def head(self) -> Checkpoint:
        """The chain's checkpoint now: entry count, last id and last hash.

        One statement, so the count and the last entry agree even while others append
        (PostgreSQL's READ COMMITTED gives each statement its own snapshot).
        """
        count = select(func.count()).select_from(AuditLog).scalar_subquery()
        row = self.session.execute(
            select(count, AuditLog.id, AuditLog.entry_hash).order_by(AuditLog.id.desc()).limit(1)
        ).first()
        if row is None:
            return Checkpoint(count=0, last_id=None, last_hash=None)
        return Checkpoint(count=int(row[0]), last_id=row.id, last_hash=row.entry_hash)

    def verify(
        self,
        checkpoint: Checkpoint | None = None,
        on_entry: Callable[[], object] | None = None,
    ) -> VerifyResult:
        """Recompute the whole chain in id order, in bounded memory; name the first bad entry.

        `on_entry` is called once per entry read (for progress bars). Rows are read with the
        driver's cursor in batches and hashed from their stored values (edc.integrity.stored);
        a row in any unusual form is read again through SQLAlchemy and checked as `export`
        and `iter_entries` see it, so both give the same verdict.
        """
        write_queued(self.session)
        return verify_chain(read_stored(self.session, _reread(self), on_entry), checkpoint)

    def iter_entries(self) -> Iterator[tuple[ChainEntry, str, RecordRef]]:
        """Every entry in chain order with its stored hash, streamed in batches.

        A row that cannot even be read back as an entry (a float or broken JSON in `details`,
        a naive time) was not written by edc: it comes out as a stand-in whose hash cannot
        match, so verification reports it as changed content.
        """
        return self._stream()

    def _stream(self, *, strict: bool = False) -> Iterator[tuple[ChainEntry, str, RecordRef]]:
        """Stored rows as entries; an unreadable row is a stand-in, or with `strict` an error."""
        table = AuditLog.__table__
        columns = [table.c[name] for name in _ROW_COLUMNS]
        statement = select(*columns).order_by(table.c.id)
        result = self.session.execute(statement.execution_options(yield_per=STREAM_BATCH))
        for row in result:
            try:
                yield row_to_entry(row)
            except (ValueError, TypeError, LookupError) as exc:
                if strict:
                    raise IntegrityFailureError(
                        f"audit entry id {row.id} (uuid {row.uuid}) cannot be read as an entry "
                        f"({exc}); run `edc audit verify`"
                    ) from None
                yield _unreadable(row, exc)

    def export(self, stream: IO[str]) -> Checkpoint:
        """Write the chain as JSON Lines, one entry a line in chain order; return its checkpoint.

        Each line holds the hashed fields and `entry_hash`. The line itself is not the canonical
        form: a verifier rebuilds that from the fields (docs/audit-chain.md).
        """
        count, last_id, last_hash = 0, None, None
        for entry, entry_hash, ref in self._stream(strict=True):
            record = entry.to_export_dict(entry_hash)
            stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            count, last_id, last_hash = count + 1, ref.id, entry_hash
        return Checkpoint(count=count, last_id=last_id, last_hash=last_hash)

    def list_entries(
        self, *, job: Job | None = None, limit: int = 50, after_id: int | None = None
    ) -> list[AuditLog]:
        """Entries in chain order, optionally for one job (by its uuid, so deleted jobs work)."""
        statement = select(AuditLog).order_by(AuditLog.id).limit(limit)
        if job is not None:
            statement = statement.where(AuditLog.job_uuid == job.uuid)
        if after_id is not None:
            statement = statement.where(AuditLog.id > after_id)
        return list(self.session.scalars(statement))

    def entries_for_job_uuid(self, job_uuid: str, limit: int = 1000) -> list[AuditLog]:
        """The audit trail of one job, surviving its deletion."""
        statement = (
            select(AuditLog).where(AuditLog.job_uuid == job_uuid).order_by(AuditLog.id).limit(limit)
        )
        return list(self.session.scalars(statement))


_ROW_COLUMNS = (
    "id", "uuid", "created_at", "action", "actor", "target_type", "target_id", "description",
    "details", "ip_address", "user_agent", "job_uuid", "previous_hash", "entry_hash",
)  # fmt: skip


def row_to_entry(row: Any) -> tuple[ChainEntry, str, RecordRef]:
    """Build the hashed form of a stored row; the row is whatever the database holds now."""
    created_at: datetime = row.created_at
    entry = ChainEntry(
        uuid=row.uuid,
        created_at=created_at,
        action=row.action.value if isinstance(row.action, AuditAction) else str(row.action),
        actor=row.actor,
        target_type=row.target_type,
        target_id=row.target_id,
        description=row.description,
        details=row.details if isinstance(row.details, dict) else json.loads(row.details),
        ip_address=row.ip_address,
        user_agent=row.user_agent,
        job_uuid=row.job_uuid,
        previous_hash=row.previous_hash,
    )
    return entry, row.entry_hash, RecordRef(id=row.id, uuid=row.uuid)


def _unreadable(row: Any, exc: Exception) -> tuple[ChainEntry, str, RecordRef]:
    """A stand-in for a row that is not a valid entry; its hash never equals the stored one."""
    entry = ChainEntry(
        uuid=str(row.uuid),
        created_at=utc_now(),
        action="unreadable",
        actor="",
        target_type="",
        target_id=None,
        description=f"row {row.id} cannot be read as an audit entry: {exc}",
        details={},
        ip_address=None,
        user_agent=None,
        job_uuid=None,
        previous_hash=row.previous_hash if isinstance(row.previous_hash, str) else None,
    )
    return entry, str(row.entry_hash), RecordRef(id=row.id, uuid=str(row.uuid))


def _reread(repo: AuditLogRepository) -> Callable[[tuple[Any, ...]], ChainEntry]:
    """The general path for one raw row: read through SQLAlchemy, a stand-in if unreadable."""
    table = AuditLog.__table__
    statement = select(*[table.c[name] for name in _ROW_COLUMNS])

    def entry_of(raw: tuple[Any, ...]) -> ChainEntry:
        try:
            row = repo.session.execute(statement.where(table.c.id == raw[0])).one()
            return row_to_entry(row)[0]
        except (ValueError, TypeError, LookupError) as exc:  # LookupError: an unknown action
            return _unreadable(_RawRow(*raw), exc)[0]

    return entry_of


@dataclass(frozen=True)
class _RawRow:
    """A row as the driver returned it, with the attribute names `_unreadable` reads."""

    id: int
    uuid: Any
    created_at: Any
    action: Any
    actor: Any
    target_type: Any
    target_id: Any
    description: Any
    details: Any
    ip_address: Any
    user_agent: Any
    job_uuid: Any
    previous_hash: Any
    entry_hash: Any


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget_chain_tip(session: Session, *_: Any) -> None:
    """The tip is only valid inside the transaction that read it under the lock."""
    session.info.pop(_TIP_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    """However the transaction ends (a close without a rollback event too), its tip goes."""
    if transaction.parent is None:
        session.info.pop(_TIP_KEY, None)
