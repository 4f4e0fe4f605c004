"""The job queue's hot statements as constant per-dialect SQL on the session's DBAPI cursor.

Claiming and recording a pending audit event run once per job per worker; SQLAlchemy's
per-statement work (compiling, bind and result processing, ORM loading) cost more than the
database did. These statements run on the very connection and transaction of the session, and
the claimed row comes back from `RETURNING` into an ORM `Job` without a second query.
"""

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from edc.db.driver import driver_errors
from edc.db.models import Job
from edc.db.models.base import table_of
from edc.db.sealing import EVENT_COLUMNS
from edc.integrity.canonical import canonical_json

JOB_COLUMNS: tuple[str, ...] = tuple(column.name for column in table_of(Job).columns)
_RETURNED = ", ".join(f'jobs."{name}"' for name in JOB_COLUMNS)
_COLUMNS = ", ".join(f'"{name}"' for name in JOB_COLUMNS)
_SET_RUNNING = (
    "status = 'running', locked_by = {p}, locked_until = {p}, "
    "attempts = jobs.attempts + 1, updated_at = {p}"
)

# SQLite holds its write lock from BEGIN IMMEDIATE to COMMIT, so a claim runs as few statements
# as it can. Usually the single-statement claim of the oldest pending job; when the lease probe
# is due (`LeaseProbe`), one lookup that picks the oldest expired lease first, else the oldest
# pending job (both an index seek: SQLite's planner takes the partial lease index), then the
# UPDATE of the picked job.
SQLITE_CLAIM_PENDING = (
    f"UPDATE jobs SET {_SET_RUNNING.format(p='?')} WHERE id = (SELECT id FROM jobs "
    f"WHERE status = 'pending' ORDER BY id LIMIT 1) RETURNING {_COLUMNS}"
)
SQLITE_PICK = (
    "SELECT id, status FROM jobs WHERE id = coalesce("
    "(SELECT id FROM jobs WHERE status = 'running' AND locked_until < ? "
    "ORDER BY locked_until LIMIT 1), "
    "(SELECT id FROM jobs WHERE status = 'pending' ORDER BY id LIMIT 1))"
)
SQLITE_TAKE = f"UPDATE jobs SET {_SET_RUNNING.format(p='?')} WHERE id = ? RETURNING {_COLUMNS}"

# PostgreSQL: the claim and its pending audit event in one statement (one round trip). The
# event's description is chosen between the two texts edc words in Python; its details are
# built from the claimed row (`attempts`) like `JobRepository._audit_claim` builds them.
_NAMED_SET = (
    "status = 'running', locked_by = %(worker)s, locked_until = %(until)s, "
    "attempts = jobs.attempts + 1, updated_at = %(now)s"
)
_RECORD_EVENT = (
    "event AS (INSERT INTO audit_pending (uuid, created_at, job_id, job_uuid, action, actor, "
    "target_type, target_id, description, details, ip_address, user_agent) "
    "SELECT %(uuid)s, %(now)s, id, uuid, 'update', %(actor)s, 'job', uuid, "
    "CASE WHEN previous = 'running' THEN %(reclaimed)s ELSE %(claimed)s END, "
    "jsonb_build_object('from', previous, 'to', 'running', 'worker', %(worker)s::text, "
    "'attempt', attempts, 'lease_until', %(lease_until)s::text), %(ip)s, %(agent)s "
    "FROM claimed) "
    f"SELECT previous, {_COLUMNS} FROM claimed"
)
# With the expired-lease probe: the pending branch runs only when no expired lease was found.
POSTGRESQL_CLAIM = (
    "WITH picked AS ("
    "SELECT id, status FROM (SELECT id, status FROM jobs WHERE status = 'running' "
    "AND locked_until < %(now)s ORDER BY locked_until LIMIT 1 FOR UPDATE SKIP LOCKED) AS expired "
    "UNION ALL "
    "SELECT id, status FROM (SELECT id, status FROM jobs WHERE status = 'pending' "
    "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) AS waiting "
    "LIMIT 1), "
    f"claimed AS (UPDATE jobs SET {_NAMED_SET} FROM picked WHERE jobs.id = picked.id "
    f"RETURNING picked.status AS previous, {_RETURNED}), " + _RECORD_EVENT
)
# Pending only: the single-statement claim, plus its event.
POSTGRESQL_CLAIM_PENDING = (
    f"WITH claimed AS (UPDATE jobs SET {_NAMED_SET} WHERE id = (SELECT id FROM jobs "
    "WHERE status = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
    f"RETURNING 'pending'::text AS previous, {_RETURNED}), " + _RECORD_EVENT
)

PROBE_INTERVAL_S = 1.0
"""On PostgreSQL, how long a process may go without looking for expired leases while it finds
pending jobs. The probe's cost depends on the planner: with statistics taken before any job ran
(a queue just imported) it may walk every running job instead of the lease index."""


@dataclass
class LeaseProbe:
    """When this process next looks for expired leases before pending jobs (PostgreSQL).

    It looks at the latest every PROBE_INTERVAL_S, as soon as a lease it granted itself may have
    expired, and whenever no pending job is left; after taking over an expired lease it keeps
    looking, as more may have expired.
    """

    next_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def due(self, now: float) -> bool:
        """Whether the next claim at `now` (Unix time) should look for expired leases first."""
        return now >= self.next_at

    def looked(self, now: float, found_expired: bool) -> None:
        """A probe ran at `now`; it found an expired lease or none."""
        with self._lock:
            self.next_at = now if found_expired else now + PROBE_INTERVAL_S

    def granted(self, until: float) -> None:
        """This process granted a lease ending at `until`: look again once it may have expired."""
        with self._lock:
            self.next_at = min(self.next_at, until)


_probes: "weakref.WeakKeyDictionary[Any, LeaseProbe]" = weakref.WeakKeyDictionary()


def lease_probe(session: Session) -> LeaseProbe:
    """The lease probe of this process for the session's engine."""
    bind = session.get_bind()
    key = getattr(bind, "engine", bind)
    probe = _probes.get(key)
    if probe is None:
        probe = _probes[key] = LeaseProbe()
    return probe


def claim_description(previous: str, worker_id: str) -> str:
    """The description of a claim's audit event: a pending job claimed, or an expired lease."""
    if previous == "running":
        return f"job re-claimed after an expired lease by {worker_id}: running -> running"
    return f"job claimed by {worker_id}: {previous} -> running"


@dataclass(frozen=True)
class ClaimRequest:
    """One `claim_next`: who claims, when, for how long, and the identity of its audit event."""

    worker_id: str
    now: datetime
    until: datetime
    event_uuid: str
    actor: str
    ip_address: str | None
    user_agent: str | None

    def postgresql_params(self) -> dict[str, Any]:
        """The named parameters of POSTGRESQL_CLAIM and POSTGRESQL_CLAIM_PENDING."""
        return {
            "worker": self.worker_id,
            "until": self.until,
            "now": self.now,
            "uuid": self.event_uuid,
            "actor": self.actor,
            "ip": self.ip_address,
            "agent": self.user_agent,
            "claimed": claim_description("pending", self.worker_id),
            "reclaimed": claim_description("running", self.worker_id),
            "lease_until": self.until.isoformat(),
        }

    def event(self, previous: str, job_id: int, job_uuid: str, attempt: int) -> "PendingEvent":
        """The claim's audit event: the job it took (`previous` before), now at `attempt`."""
        return PendingEvent(
            uuid=self.event_uuid,
            created_at=self.now,
            job_id=job_id,
            job_uuid=job_uuid,
            action="update",
            actor=self.actor,
            target_type="job",
            target_id=job_uuid,
            description=claim_description(previous, self.worker_id),
            details={
                "from": previous,
                "to": "running",
                "worker": self.worker_id,
                "attempt": attempt,
                "lease_until": self.until.isoformat(),
            },
            ip_address=self.ip_address,
            user_agent=self.user_agent,
        )


_ID, _UUID, _ATTEMPTS = (JOB_COLUMNS.index(name) for name in ("id", "uuid", "attempts"))
_SQLITE_CODES = (None,) * len(JOB_COLUMNS)  # pysqlite reports no column types


@dataclass(frozen=True)
class Claimed:
    """A claimed job as the database returned it: its status before, and its row."""

    previous: str
    row: tuple[Any, ...]
    codes: tuple[Any, ...]


def claim_with_event(
    cursor: Any, dialect: str, probe: LeaseProbe, request: ClaimRequest
) -> Claimed | None:
    """Claim the next job and record the claim's pending audit event, in the cursor's transaction.

    The pending-only claim runs unless the lease probe is due or nothing is pending; then the
    claim that takes an expired lease first. On PostgreSQL each is one statement with its event.
    """
    at = request.now.timestamp()
    if dialect == "postgresql":
        params = request.postgresql_params()
        found = None
        if not probe.due(at):
            found = cursor.execute(POSTGRESQL_CLAIM_PENDING, params).fetchone()
        if found is None:
            found = cursor.execute(POSTGRESQL_CLAIM, params).fetchone()
            probe.looked(at, found is not None and found[0] == "running")
        if found is None:
            return None
        claimed = Claimed(found[0], tuple(found[1:]), type_codes(cursor, skip=1))
    else:
        now, until = sqlite_time(request.now), sqlite_time(request.until)
        row, previous = None, "pending"
        if not probe.due(at):
            row = cursor.execute(SQLITE_CLAIM_PENDING, (request.worker_id, until, now)).fetchone()
        if row is None:
            picked = cursor.execute(SQLITE_PICK, (now,)).fetchone()
            probe.looked(at, picked is not None and picked[1] == "running")
            if picked is None:
                return None
            previous = picked[1]
            row = cursor.execute(SQLITE_TAKE, (request.worker_id, until, now, picked[0])).fetchone()
        cursor.execute(
            SQLITE_PENDING,
            request.event(previous, row[_ID], row[_UUID], row[_ATTEMPTS]).values(dialect),
        )
        claimed = Claimed(previous, row, _SQLITE_CODES)
    probe.granted(request.until.timestamp())
    return claimed


_PENDING_INSERT = "INSERT INTO audit_pending ({}) VALUES ({})".format(
    ", ".join(EVENT_COLUMNS), "{}"
)
SQLITE_PENDING = _PENDING_INSERT.format(", ".join("?" for _ in EVENT_COLUMNS))
POSTGRESQL_PENDING = _PENDING_INSERT.format(
    ", ".join("%s::jsonb" if c == "details" else "%s" for c in EVENT_COLUMNS)
)


@dataclass(frozen=True)
class PendingEvent:
    """One audit event for `audit_pending`: the columns of an entry without its chain links."""

    uuid: str
    created_at: datetime
    job_id: int | None
    job_uuid: str | None
    action: str
    actor: str
    target_type: str
    target_id: str | None
    description: str
    details: dict[str, Any]
    ip_address: str | None
    user_agent: str | None

    def values(self, dialect: str) -> tuple[Any, ...]:
        """The parameters of SQLITE_PENDING / POSTGRESQL_PENDING (EVENT_COLUMNS order)."""
        return (
            self.uuid,
            db_time(dialect, self.created_at),
            self.job_id,
            self.job_uuid,
            self.action,
            self.actor,
            self.target_type,
            self.target_id,
            self.description,
            canonical_json(self.details).decode(),  # the text sealing copies and verify hashes
            self.ip_address,
            self.user_agent,
        )


def dbapi_cursor(session: Session) -> Any:
    """A DBAPI cursor on the session's connection, inside the session's transaction."""
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


def sqlite_time(value: datetime) -> str:
    """A UTC time as the text edc's UTCDateTime stores on SQLite (sortable, naive UTC)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def db_time(dialect: str, value: datetime) -> Any:
    """A UTC time as the DBAPI parameter for `dialect`."""
    return sqlite_time(value) if dialect == "sqlite" else value


def record_pending(session: Session, dialect: str, event: PendingEvent) -> None:
    """Insert one pending audit event in the session's transaction (no chain lock)."""
    values = event.values(dialect)
    cursor = dbapi_cursor(session)
    try:
        with driver_errors(session.get_bind().dialect):
            cursor.execute(SQLITE_PENDING if dialect == "sqlite" else POSTGRESQL_PENDING, values)
    finally:
        cursor.close()


@cache
def _processors(
    dialect: Dialect, type_codes: tuple[Any, ...]
) -> tuple[Callable[[Any], Any] | None, ...]:
    """Per returned column, what SQLAlchemy would do to the raw value (times, enums, JSON)."""
    table = table_of(Job)
    return tuple(
        table.c[name].type.dialect_impl(dialect).result_processor(dialect, code)
        for name, code in zip(JOB_COLUMNS, type_codes, strict=True)
    )


def type_codes(cursor: Any, skip: int = 0) -> tuple[Any, ...]:
    """The PostgreSQL type OIDs of a psycopg result's columns after the first `skip`.

    Read from the result itself: `cursor.description` would build a Column object per column.
    """
    result = cursor.pgresult
    return tuple(result.ftype(index) for index in range(skip, result.nfields))


def load_job(session: Session, row: tuple[Any, ...], codes: tuple[Any, ...]) -> Job:
    """The ORM Job for a full `jobs` row read through the DBAPI, persistent in `session`."""
    dialect = session.get_bind().dialect
    values = {
        name: value if process is None else process(value)
        for name, process, value in zip(JOB_COLUMNS, _processors(dialect, codes), row, strict=True)
    }
    known = session.identity_map.get(session.identity_key(Job, values["id"]))
    if isinstance(known, Job):  # already in this session: refresh it in place
        for name, value in values.items():
            set_committed_value(known, name, value)
        return known
    job: Job = Job.__mapper__.class_manager.new_instance()
    instance_dict(job).update(values)
    make_transient_to_detached(job)  # as if loaded: no pending changes, identity from `id`
    session.add(job)
    return job
