"""Deferred linking of audit events: hot job-queue transitions record their events in
`audit_pending` without the chain lock; a seal links them into `audit_logs` later.

A seal reads the pending events in id order, chains each one exactly as
`AuditLogRepository.append` would (same ChainEntry canonical form and hash, the event's own uuid
and created_at kept), inserts the entries and deletes the events, in one transaction under the
chain lock. Seals happen whenever anything appends to the chain (`_chain_tip` seals first), after
a worker's commit once enough is pending (`SealPolicy`, never waiting for another sealer on
PostgreSQL), and before the audit commands read. See docs/audit-chain.md.
"""

import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, event, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from edc.db.models import AuditAction, AuditLog, AuditPending
from edc.db.models.base import table_of
from edc.db.urls import is_sqlite_memory
from edc.integrity.chain import ChainEntry

log = logging.getLogger(__name__)

SEAL_BATCH = 1_000
"""Pending events read, chained and deleted per round trip (bounded memory, few parameters)."""

PENDING = table_of(AuditPending)
LOGS = table_of(AuditLog)
_EVENT_COLUMNS = (
    "id", "uuid", "created_at", "job_id", "job_uuid", "action", "actor", "target_type",
    "target_id", "description", "details", "ip_address", "user_agent",
)  # fmt: skip
_READ_BATCH = select(*(PENDING.c[name] for name in _EVENT_COLUMNS)).order_by(PENDING.c.id)
_INSERT_ENTRIES = insert(LOGS)
_TIP = select(LOGS.c.entry_hash).order_by(LOGS.c.id.desc()).limit(1)
_COUNT = select(func.count()).select_from(PENDING)
_DUE_KEY = "edc_seal_due"


def read_tip(connection: Connection) -> str | None:
    """The chain's last entry hash (meaningful only under the chain lock)."""
    tip: str | None = connection.execute(_TIP).scalar()
    return tip


def seal_locked(connection: Connection, tip: str | None) -> tuple[str | None, int]:
    """Chain every pending event visible now after `tip`; return the new tip and the count.

    The caller holds the chain lock (PostgreSQL advisory lock, SQLite write lock) in the
    transaction of `connection`, and `tip` was read under it.
    """
    sealed = 0
    after = 0
    while True:
        rows = connection.execute(_READ_BATCH.where(PENDING.c.id > after).limit(SEAL_BATCH)).all()
        if not rows:
            return tip, sealed
        entries: list[dict[str, Any]] = []
        for row in rows:
            entry = _chain_entry(row, tip)
            tip = entry.compute_hash()
            entries.append(_log_row(row, entry, tip))
        connection.execute(_INSERT_ENTRIES, entries)
        ids = [row.id for row in rows]
        connection.execute(delete(PENDING).where(PENDING.c.id.in_(ids)))
        sealed += len(rows)
        after = ids[-1]
        if len(rows) < SEAL_BATCH:
            return tip, sealed


def _chain_entry(row: Any, previous_hash: str | None) -> ChainEntry:
    action = row.action
    return ChainEntry(
        uuid=row.uuid,
        created_at=row.created_at,
        action=action.value if isinstance(action, AuditAction) else str(action),
        actor=row.actor,
        target_type=row.target_type,
        target_id=row.target_id,
        description=row.description,
        details=row.details,
        ip_address=row.ip_address,
        user_agent=row.user_agent,
        job_uuid=row.job_uuid,
        previous_hash=previous_hash,
    )


def _log_row(row: Any, entry: ChainEntry, entry_hash: str) -> dict[str, Any]:
    """The audit_logs row of a sealed event: `append`'s columns, updated_at = created_at."""
    return {
        "uuid": row.uuid,
        "created_at": row.created_at,
        "updated_at": row.created_at,
        "job_id": row.job_id,
        "job_uuid": row.job_uuid,
        "action": row.action,
        "actor": row.actor,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "description": row.description,
        "details": row.details,
        "ip_address": row.ip_address,
        "user_agent": row.user_agent,
        "previous_hash": entry.previous_hash,
        "entry_hash": entry_hash,
    }


def pending_count(connection: Connection) -> int:
    """How many recorded events are not sealed into the chain yet."""
    return int(connection.execute(_COUNT).scalar_one())


def try_seal(engine: Engine) -> int | None:
    """Seal in a transaction of its own if no one else is sealing; None if someone is.

    On PostgreSQL `pg_try_advisory_xact_lock` never waits for another sealer or appender; SQLite
    has one writer at a time anyway, so this waits for its write lock like any write.
    """
    from edc.db.repositories.audit import CHAIN_LOCK_KEY, _signed

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            got = connection.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _signed(CHAIN_LOCK_KEY)}
            ).scalar()
            if not got:
                return None
        _, sealed = seal_locked(connection, read_tip(connection))
        return sealed


@dataclass
class SealPolicy:
    """When a process seals on its own: after `max_events` of its events, or when its oldest
    unsealed event is `max_age` seconds old (checked at its next event)."""

    max_events: int = 256
    max_age: float = 2.0
    _unsealed: int = 0
    _oldest: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def noted(self, count: int = 1) -> bool:
        """Count events this process recorded; True when it is time to seal."""
        now = time.monotonic()
        with self._lock:
            if self._unsealed == 0:
                self._oldest = now
            self._unsealed += count
            return self._unsealed >= self.max_events or now - self._oldest >= self.max_age

    def sealed(self) -> None:
        """This process sealed (or someone else was sealing): start counting again."""
        with self._lock:
            self._unsealed = 0


DEFAULT_POLICY = SealPolicy()
_policies: "weakref.WeakKeyDictionary[Any, SealPolicy]" = weakref.WeakKeyDictionary()


def policy_for(engine: Engine) -> SealPolicy:
    """The seal policy of this process for `engine` (one counter per engine)."""
    key = getattr(engine, "engine", engine)  # option engines share their engine's counter
    policy = _policies.get(key)
    if policy is None:
        policy = _policies[key] = SealPolicy(DEFAULT_POLICY.max_events, DEFAULT_POLICY.max_age)
    return policy


def note_pending(session: Session, count: int = 1) -> None:
    """Record that this transaction wrote `count` pending events; seal after commit if due."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and policy_for(bind).noted(count):
        session.info[_DUE_KEY] = True


@event.listens_for(Session, "after_commit")
def _seal_if_due(session: Session) -> None:
    """After a commit that made sealing due: seal opportunistically (best effort)."""
    if not session.info.pop(_DUE_KEY, False):
        return
    bind = session.get_bind()
    if not isinstance(bind, Engine) or is_sqlite_memory(bind.url):
        return  # one shared in-memory connection: the next append seals instead
    engine = bind.engine
    try:
        try_seal(engine)
    except DBAPIError as exc:  # the events stay pending and safe; the next seal takes them
        log.warning("opportunistic seal failed: %s", exc.orig)
    policy_for(engine).sealed()


@event.listens_for(Session, "after_rollback")
def _forget_due(session: Session) -> None:
    session.info.pop(_DUE_KEY, None)
