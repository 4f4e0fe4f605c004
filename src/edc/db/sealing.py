"""Deferred linking of audit events: hot job-queue transitions record their events in
`audit_pending` without the chain lock; a seal links them into `audit_logs` later.

A seal reads the pending events in id order, chains each one exactly as
`AuditLogRepository.append` would (same ChainEntry canonical form and hash, the event's own uuid
and created_at kept), inserts the entries and deletes the events, in one transaction under the
chain lock. Seals happen whenever anything appends to the chain (`_chain_tip` seals first), after
a worker's commit once enough is pending (`SealPolicy`, never waiting for another sealer on
PostgreSQL), and before the audit commands read. See docs/audit-chain.md.
"""

import json
import logging
import threading
import time
import weakref
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from edc.db.driver import driver_errors
from edc.db.models import AuditPending
from edc.db.models.base import table_of
from edc.db.urls import is_sqlite_memory
from edc.errors import DatabaseUnavailableError
from edc.integrity.chain import ChainEntry

if TYPE_CHECKING:
    from edc.db.engine import DatabaseEngine

log = logging.getLogger(__name__)

SEAL_BATCH = 1_000
"""Pending events read, chained and deleted per round trip (bounded memory, few parameters)."""

PENDING = table_of(AuditPending)
_COUNT = select(func.count()).select_from(PENDING)
_DUE_KEY = "edc_seal_due"

EVENT_COLUMNS = (
    "uuid", "created_at", "job_id", "job_uuid", "action", "actor", "target_type", "target_id",
    "description", "details", "ip_address", "user_agent",
)  # fmt: skip
"""The columns of a pending event (`audit_pending` without its id), in the order its writers
(`edc.db.repositories.queue_sql`) and readers (here) use."""
_ENTRY_COLUMNS = (*EVENT_COLUMNS[:2], "updated_at", *EVENT_COLUMNS[2:])
_READ = (
    f"SELECT id, {', '.join(EVENT_COLUMNS)} FROM audit_pending WHERE id > {{p}} "
    "ORDER BY id LIMIT {p}"
)
SQLITE_READ = _READ.format(p="?")
POSTGRESQL_READ = _READ.format(p="%s")
# SQLite: the stored text of created_at and details is copied as it is (updated_at = created_at).
SQLITE_INSERT = (
    f"INSERT INTO audit_logs ({', '.join(_ENTRY_COLUMNS)}, previous_hash, entry_hash) "
    f"VALUES ({', '.join('?' for _ in _ENTRY_COLUMNS)}, ?, ?)"
)
# PostgreSQL: the events are copied server-side; only the links travel. Rows are inserted (and
# so numbered by the id sequence) in the order of the hashes.
POSTGRESQL_INSERT = (
    f"INSERT INTO audit_logs ({', '.join(_ENTRY_COLUMNS)}, previous_hash, entry_hash) "
    f"SELECT {', '.join('p.' + c for c in _ENTRY_COLUMNS).replace('p.updated_at', 'p.created_at')}"
    ", h.previous_hash, h.entry_hash "
    "FROM unnest(%s::bigint[], %s::text[], %s::text[]) WITH ORDINALITY "
    "AS h(id, previous_hash, entry_hash, n) JOIN audit_pending p ON p.id = h.id ORDER BY h.n"
)
SQLITE_DELETE = "DELETE FROM audit_pending WHERE id BETWEEN ? AND ?"
POSTGRESQL_DELETE = "DELETE FROM audit_pending WHERE id = ANY(%s)"
_TIP = "SELECT entry_hash FROM audit_logs ORDER BY id DESC LIMIT 1"


# Any fixed 64-bit number works; it names "the edc audit chain" among advisory locks.
CHAIN_LOCK_KEY = 0x6564_6341_7564_6974  # "edcAudit"
CHAIN_LOCK_ID = CHAIN_LOCK_KEY - (1 << 64) if CHAIN_LOCK_KEY >= 1 << 63 else CHAIN_LOCK_KEY
"""The key as PostgreSQL's advisory lock functions take it (a signed bigint)."""


def lock_chain(connection: Connection) -> None:
    """Serialize appenders and sealers: PostgreSQL advisory lock until commit; SQLite already
    holds its write lock from BEGIN IMMEDIATE."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_ID})


def try_lock_chain(connection: Connection) -> bool:
    """Take the chain lock if no one holds it (PostgreSQL); SQLite's write lock is held."""
    if connection.dialect.name != "postgresql":
        return True
    got = connection.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_ID}
    ).scalar()
    return bool(got)


def read_tip(connection: Connection) -> str | None:
    """The chain's last entry hash (meaningful only under the chain lock)."""
    tip: str | None = connection.exec_driver_sql(_TIP).scalar()
    return tip


def seal_locked(connection: Connection, tip: str | None) -> tuple[str | None, int]:
    """Chain every pending event visible now after `tip`; return the new tip and the count.

    The caller holds the chain lock (PostgreSQL advisory lock, SQLite write lock) in the
    transaction of `connection`, and `tip` was read under it. Runs on the DBAPI cursor: a seal
    handles every event of the hot path once more, so it must cost little per event.
    """
    sqlite = connection.dialect.name == "sqlite"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    sealed = 0
    after = 0
    with driver_errors(connection.dialect), closing(cursor):
        while True:
            cursor.execute(SQLITE_READ if sqlite else POSTGRESQL_READ, (after, SEAL_BATCH))
            rows = cursor.fetchall()
            if not rows:
                return tip, sealed
            links: list[tuple[str | None, str]] = []
            for row in rows:
                previous = tip
                tip = _chain_entry(row, previous, sqlite).compute_hash()
                links.append((previous, tip))
            if sqlite:
                cursor.executemany(
                    SQLITE_INSERT,
                    [
                        (*row[1:3], row[2], *row[3:], *link)
                        for row, link in zip(rows, links, strict=True)
                    ],
                )
                cursor.execute(SQLITE_DELETE, (rows[0][0], rows[-1][0]))
            else:
                ids = [row[0] for row in rows]
                cursor.execute(
                    POSTGRESQL_INSERT,
                    (ids, [link[0] for link in links], [link[1] for link in links]),
                )
                cursor.execute(POSTGRESQL_DELETE, (ids,))
            sealed += len(rows)
            after = rows[-1][0]
            if len(rows) < SEAL_BATCH:
                return tip, sealed


def _chain_entry(row: Any, previous_hash: str | None, sqlite: bool) -> ChainEntry:
    """The hashed form of a pending row as the DBAPI returns it, linked to `previous_hash`."""
    _, uuid, created_at, _, job_uuid, action, actor, target_type, target_id = row[:9]
    description, details, ip_address, user_agent = row[9:]
    if sqlite:  # naive UTC text, JSON text: what UTCDateTime and JSON store
        created_at = datetime.fromisoformat(created_at).replace(tzinfo=UTC)
    if isinstance(details, str):
        details = json.loads(details)
    return ChainEntry(
        uuid=uuid,
        created_at=created_at,
        action=action,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        description=description,
        details=details,
        ip_address=ip_address,
        user_agent=user_agent,
        job_uuid=job_uuid,
        previous_hash=previous_hash,
    )


def pending_count(connection: Connection) -> int:
    """How many recorded events are not sealed into the chain yet."""
    return int(connection.execute(_COUNT).scalar_one())


def try_seal(engine: Engine) -> int | None:
    """Seal in a transaction of its own if no one else is sealing; None if someone is.

    On PostgreSQL `pg_try_advisory_xact_lock` never waits for another sealer or appender; SQLite
    has one writer at a time anyway, so this waits for its write lock like any write.
    """
    with engine.begin() as connection:
        if not try_lock_chain(connection):
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


def seal_before_reading(db: "DatabaseEngine") -> None:
    """Seal what is pending so that a reader sees every recorded event in the chain.

    Best effort: on a database this process cannot write (read-only file or server, a full
    disk) the events stay pending and readers report how many (`count_pending`).
    """
    from edc.db.repositories.audit import AuditLogRepository

    try:
        with db.session() as session:
            AuditLogRepository(session).seal()
    except (DatabaseUnavailableError, DBAPIError) as exc:
        log.info("audit events left pending, the database cannot be written: %s", exc)


def count_pending(session: Session) -> int:
    """Recorded events not sealed into the chain yet, in the session's transaction."""
    return pending_count(session.connection())
