"""JobRepository: capture jobs, their status state machine and the shared work queue.

Every change is audited in the same transaction. Claiming is one atomic statement on PostgreSQL
(`WITH picked AS (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) UPDATE … RETURNING`) and a probe plus
an UPDATE under SQLite's `BEGIN IMMEDIATE` write lock (SQLite has no row locks). Worker
transitions (claim, complete, fail) record their audit events as pending events, linked into
the hash chain later by a seal (`edc.db.sealing`), so workers do not queue for the chain lock.
"""

import json
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Select, and_, func, or_, select, text, tuple_, update

from edc.db.bulk import BulkWriter, StoredForms
from edc.db.driver import driver_errors
from edc.db.ids import new_uuid, new_uuids
from edc.db.models import AuditAction, Job, JobStatus
from edc.db.repositories.audit_bulk import (
    PREVIOUS_HASH,
    Actor,
    EntryFields,
    chain_rows,
    with_ids,
)
from edc.db.repositories.base import AuditedRepository
from edc.db.repositories.queue_sql import (
    ClaimRequest,
    PendingEvent,
    claim_with_event,
    dbapi_cursor,
    lease_probe,
    load_job,
    record_pending,
)
from edc.db.sealing import note_pending
from edc.db.types import utc_now
from edc.errors import (
    IntegrityFailureError,
    InvalidTransitionError,
    LeaseLostError,
    NotFoundError,
)

TARGET = "job"
SOURCE = "wayback"
JOB_COLUMNS = (
    "uuid", "created_at", "updated_at", "url", "when", "direction", "mode", "status", "source",
    "options", "attempts", "id",
)  # fmt: skip
"""Column order of the rows `creation_rows` makes: `id` last, filled in when written."""
_SEQUENCE_KEY = "edc_jobs_id_sequence"


class JobKey(NamedTuple):
    """What makes two capture requests the same: importing one twice creates one job."""

    url: str
    when: str
    direction: str
    mode: str


@dataclass(frozen=True)
class JobDraft:
    """A validated capture request waiting to become a job."""

    url: str
    when: str
    direction: str = "closest"
    mode: str = "fetch"
    options: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    @property
    def key(self) -> JobKey:
        return JobKey(self.url, self.when, self.direction, self.mode)


class DraftLike(Protocol):
    """What bulk creation reads from a request: a JobDraft, or the importer's CaptureRequest."""

    @property
    def url(self) -> str: ...
    @property
    def when(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def options(self) -> dict[str, Any]: ...
    @property
    def line(self) -> int | None: ...


# Literal predicates, so PostgreSQL can match the partial indexes they mirror.
_PENDING = text("jobs.status = 'pending'")
_RUNNING = text("jobs.status = 'running'")


class JobRepository(AuditedRepository):
    """Repository for Job CRUD operations; flushes, never commits."""

    # -- create and read -----------------------------------------------------------------

    def create(
        self,
        url: str,
        when: str,
        direction: str = "closest",
        mode: str = "fetch",
        **kwargs: Any,
    ) -> Job:
        """Create a new pending job record and audit its creation."""
        job = Job(
            url=url,
            when=when,
            direction=direction,
            mode=mode,
            status=JobStatus.PENDING,
            **kwargs,
        )
        self.session.add(job)
        self.session.flush()
        self.audit.append(
            AuditAction.CREATE,
            TARGET,
            _created(url, when, direction, mode),
            target_id=job.uuid,
            job=job,
            details=_creation_details(JobDraft(url, when, direction, mode)),
        )
        return job

    def create_many(self, drafts: Sequence[JobDraft]) -> list[tuple[int, str]]:
        """Create many pending jobs, each audited like `create`; return their (id, uuid).

        Below the ORM (`edc.db.bulk`: COPY on PostgreSQL, executemany on SQLite) with ids
        reserved first, so neither table needs RETURNING; every job of one call shares one
        `created_at`, and its audit entries are chained in the same order.
        """
        if not drafts:
            return []
        self.session.flush()  # objects added through the ORM go first
        forms = BulkWriter(self.session).forms
        context = self.audit.context
        actor = Actor(context.actor, context.ip_address, context.user_agent)
        prepared = creation_rows(drafts, forms, actor, self.audit.chain_tip())
        ids = self.write_creations(prepared)
        return [(job_id, row[0]) for job_id, row in zip(ids, prepared.jobs, strict=True)]

    def write_creations(self, prepared: "CreationRows") -> list[int]:
        """Insert jobs and their audit entries made by `creation_rows`; return the jobs' ids.

        Rows made without ids get them reserved here; rows numbered ahead (`first_id`, SQLite
        only, where this transaction's write lock makes max + 1 the next id) are checked to
        start exactly there.
        """
        if not prepared.jobs:
            return []
        self.audit.require_tip(prepared.audits[0][PREVIOUS_HASH])  # before any row is written
        writer = BulkWriter(self.session)
        count = len(prepared.jobs)
        first = prepared.jobs[0][-1]
        if first is None:
            ids = self._reserve_ids(count, writer)
            jobs, audits = with_ids(prepared.jobs, ids), with_ids(prepared.audits, ids)
        else:
            ids = list(range(first, first + count))
            if writer.postgresql or self._reserve_ids(1, writer) != [first]:
                raise IntegrityFailureError(f"jobs numbered from {first} cannot be written here")
            jobs, audits = prepared.jobs, prepared.audits
        writer.insert("jobs", JOB_COLUMNS, jobs)
        self.audit.append_rows(audits, prepared.tip, writer)
        return ids

    def next_id(self) -> int:
        """The id the next job will get on SQLite (max + 1: stable while this write
        transaction holds the database's write lock)."""
        writer = BulkWriter(self.session)
        if writer.postgresql:
            raise ValueError("PostgreSQL ids come from a sequence; reserve them instead")
        return self._reserve_ids(1, writer)[0]

    def _reserve_ids(self, count: int, writer: BulkWriter) -> list[int]:
        """`count` unused job ids: PostgreSQL's sequence; on SQLite the write lock taken at BEGIN
        makes max + 1 safe."""
        if writer.postgresql:
            sequence = self.session.info.get(_SEQUENCE_KEY)
            if sequence is None:
                ((sequence,),) = writer.rows("SELECT pg_get_serial_sequence('jobs', 'id')", ())
                self.session.info[_SEQUENCE_KEY] = sequence
            statement = "SELECT nextval(%s::regclass) FROM generate_series(1, %s)"
            return [int(row[0]) for row in writer.rows(statement, (sequence, count))]
        ((last,),) = writer.rows("SELECT coalesce(max(id), 0) FROM jobs", ())
        start = int(last) + 1
        return list(range(start, start + count))

    def existing_keys(self, keys: Iterable[JobKey]) -> set[JobKey]:
        """Which of these (url, when, direction, mode) already exist as jobs.

        One parameter whatever the number of keys (the urls as one array, or one JSON text on
        SQLite), through the indexed url; the rest of the key is compared here.
        """
        wanted = set(keys)
        if not wanted:
            return set()
        writer = BulkWriter(self.session)
        urls = sorted({key.url for key in wanted})
        columns = 'SELECT url, "when", direction, mode FROM jobs'
        if writer.postgresql:
            found = writer.rows(f"{columns} WHERE url = ANY(%s)", (urls,))
        else:
            statement = f"{columns} WHERE url IN (SELECT value FROM json_each(?))"
            found = writer.rows(statement, (json.dumps(urls),))
        return {JobKey(*row) for row in found} & wanted

    def get_by_id(self, job_id: int) -> Job | None:
        """Get job by internal ID."""
        return self.session.get(Job, job_id)

    def get_by_uuid(self, uuid: str) -> Job | None:
        """Get job by public UUID."""
        return self.session.scalar(select(Job).where(Job.uuid == uuid))

    def require(self, uuid: str) -> Job:
        """Get job by UUID or raise NotFoundError naming it."""
        job = self.get_by_uuid(uuid)
        if job is None:
            raise NotFoundError(f"no job with uuid {uuid}")
        return job

    def list_by_status(
        self,
        status: JobStatus | None,
        limit: int = 100,
        offset: int = 0,
        *,
        after: str | None = None,
    ) -> list[Job]:
        """Jobs newest first, optionally of one status.

        `offset` pages cost more the deeper they go; `after` (the uuid of the last job of the
        previous page) is keyset pagination whose cost does not grow with depth.
        """
        statement: Select[tuple[Job]] = select(Job)
        if status is not None:
            statement = statement.where(Job.status == status)
        statement = statement.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
        if after is not None:
            cursor = self.session.execute(
                select(Job.created_at, Job.id).where(Job.uuid == after)
            ).first()
            if cursor is None:
                raise NotFoundError(f"no job with uuid {after} to page after")
            statement = statement.where(
                tuple_(Job.created_at, Job.id) < tuple_(cursor.created_at, cursor.id)
            )
        elif offset:
            statement = statement.offset(offset)
        return list(self.session.scalars(statement))

    def count_by_status(self, status: JobStatus) -> int:
        """Count jobs by status with one SQL COUNT."""
        statement = select(func.count()).select_from(Job).where(Job.status == status)
        return int(self.session.scalar(statement) or 0)

    def counts(self) -> dict[JobStatus, int]:
        """Number of jobs in every status (zero included), in one query."""
        rows = self.session.execute(select(Job.status, func.count()).group_by(Job.status))
        found = {status: int(count) for status, count in rows}
        return {status: found.get(status, 0) for status in JobStatus}

    # -- status changes ------------------------------------------------------------------

    def update_status(
        self,
        job: Job,
        status: JobStatus,
        memento_url: str | None = None,
        variance_days: float | None = None,
        error_message: str | None = None,
    ) -> Job:
        """Move a job to `status` if the state machine allows it; audit the change."""
        values: dict[str, Any] = {"status": status}
        if memento_url is not None:
            values["memento_url"] = memento_url
        if variance_days is not None:
            values["variance_days"] = variance_days
        if error_message is not None:
            values["error_message"] = error_message
        if status in (
            JobStatus.COMPLETED,
            JobStatus.FAILED,
            JobStatus.CANCELLED,
            JobStatus.PENDING,
        ):
            values.update(locked_by=None, locked_until=None)
        return self._transition(job, status, values)

    def cancel(self, job: Job, reason: str | None = None) -> Job:
        """Cancel a pending or running job."""
        values: dict[str, Any] = {
            "status": JobStatus.CANCELLED,
            "locked_by": None,
            "locked_until": None,
        }
        if reason:
            values["error_message"] = reason
        return self._transition(job, JobStatus.CANCELLED, values)

    def retry(self, job: Job) -> Job:
        """Put a failed job back in the queue."""
        return self._transition(job, JobStatus.PENDING, {"status": JobStatus.PENDING})

    def delete(self, job: Job) -> None:
        """Delete a job and its artifacts; its audit trail stays (job_id becomes NULL)."""
        self.audit.append(
            AuditAction.DELETE,
            TARGET,
            f"job deleted ({job.status.value}) for {job.url} at {job.when}",
            target_id=job.uuid,
            job=job,
            details={"status": job.status.value, "artifacts": len(job.artifacts)},
        )
        self.session.delete(job)
        self.session.flush()

    def _transition(
        self,
        job: Job,
        new: JobStatus,
        values: dict[str, Any],
        *,
        worker_id: str | None = None,
    ) -> Job:
        """One guarded UPDATE: it applies only if the job is still in the status we read."""
        old = job.status
        if worker_id is not None and (old is not JobStatus.RUNNING or job.locked_by != worker_id):
            raise LeaseLostError(
                f"job {job.uuid} is no longer held by worker {worker_id} "
                f"(now {old.value}, held by {job.locked_by or 'nobody'})"
            )
        if not old.can_become(new):
            raise InvalidTransitionError(
                f"job {job.uuid} cannot go from {old.value} to {new.value}"
            )
        statement = update(Job).where(Job.id == job.id, Job.status == old)
        if worker_id is not None:
            statement = statement.where(Job.locked_by == worker_id)
        result = self.session.execute(
            statement.values(**values, updated_at=utc_now()).returning(Job.id),
            execution_options={"synchronize_session": False},
        )
        if result.first() is None:
            self.session.refresh(job)
            if worker_id is not None:
                raise LeaseLostError(
                    f"job {job.uuid} is no longer held by worker {worker_id} "
                    f"(now {job.status.value}, held by {job.locked_by or 'nobody'})"
                )
            raise InvalidTransitionError(
                f"job {job.uuid} changed concurrently: it is now {job.status.value}, "
                f"not {old.value}, so it cannot go to {new.value}"
            )
        self.session.refresh(job)
        details: dict[str, Any] = {"from": old.value, "to": new.value}
        for key in ("memento_url", "error_message"):
            if values.get(key) is not None:
                details[key] = values[key]
        if values.get("variance_days") is not None:
            details["variance_days"] = repr(values["variance_days"])
        if worker_id is not None:
            details["worker"] = worker_id
            self._record_pending(job, f"job status {old.value} -> {new.value}", details)
            return job
        self.audit.append(
            AuditAction.UPDATE,
            TARGET,
            f"job status {old.value} -> {new.value}",
            target_id=job.uuid,
            job=job,
            details=details,
        )
        return job

    # -- the queue -----------------------------------------------------------------------

    def claim_next(self, worker_id: str, lease_seconds: float) -> Job | None:
        """Claim the oldest claimable job (expired leases first, then pending) for `worker_id`.

        Marks it running with `locked_by`, `locked_until` and one more `attempts`, atomically;
        no two workers ever get the same claim. Returns None when nothing is claimable. The
        claim's audit event is recorded in the same transaction, pending until sealed
        (`edc.db.sealing`). Expired leases are looked for as `LeaseProbe` says (at least once a
        second per process, and whenever nothing is pending).
        """
        request = self._claim_request(worker_id, lease_seconds)
        session = self.session
        cursor = dbapi_cursor(session)
        with driver_errors(session.get_bind().dialect), closing(cursor):
            claimed = claim_with_event(cursor, self._dialect(), lease_probe(session), request)
        if claimed is None:
            return None
        note_pending(session)
        return load_job(session, claimed.row, claimed.codes)

    def claim(self, job: Job, worker_id: str, lease_seconds: float) -> Job:
        """Claim this particular job (pending, or running with an expired lease).

        LeaseLostError if it is not claimable now (another worker holds it, or it is done).
        """
        request = self._claim_request(worker_id, lease_seconds)
        claimable = or_(_PENDING, and_(_RUNNING, Job.locked_until < request.now))
        previous = job.status
        claimed = self._take((Job.id == job.id) & claimable, previous, request)
        if claimed is None:
            self.session.refresh(job)
            raise LeaseLostError(
                f"job {job.uuid} cannot be claimed by {worker_id}: it is {job.status.value}"
                + (f", held by {job.locked_by}" if job.locked_by else "")
            )
        return claimed

    def _claim_request(self, worker_id: str, lease_seconds: float) -> ClaimRequest:
        """A claim by `worker_id` now, with a lease of `lease_seconds`, in this audit context."""
        now = utc_now()
        context = self.audit.context
        return ClaimRequest(
            worker_id=worker_id,
            now=now,
            until=now + timedelta(seconds=lease_seconds),
            event_uuid=new_uuid(),
            actor=context.actor,
            ip_address=context.ip_address,
            user_agent=context.user_agent,
        )

    def _take(self, condition: Any, previous: JobStatus, request: ClaimRequest) -> Job | None:
        """One atomic UPDATE … RETURNING that makes the matching job running for the request's
        worker, and the claim's pending audit event."""
        statement = (
            update(Job)
            .where(condition)
            .values(
                status=JobStatus.RUNNING,
                locked_by=request.worker_id,
                locked_until=request.until,
                attempts=Job.attempts + 1,
                updated_at=request.now,
            )
            .returning(Job.id)
        )
        claimed = self.session.execute(
            statement, execution_options={"synchronize_session": False}
        ).first()
        if claimed is None:
            return None
        job = self.session.get(Job, claimed.id, populate_existing=True)
        assert job is not None
        event = request.event(previous.value, job.id, job.uuid, job.attempts)
        record_pending(self.session, self._dialect(), event)
        note_pending(self.session)
        return job

    def _record_pending(
        self,
        job: Job,
        description: str,
        details: dict[str, Any],
    ) -> None:
        """Record a worker transition's audit event in this transaction, to be sealed later."""
        context = self.audit.context
        record_pending(
            self.session,
            self._dialect(),
            PendingEvent(
                uuid=new_uuid(),
                created_at=utc_now(),
                job_id=job.id,
                job_uuid=job.uuid,
                action=AuditAction.UPDATE.value,
                actor=context.actor,
                target_type=TARGET,
                target_id=job.uuid,
                description=description,
                details=details,
                ip_address=context.ip_address,
                user_agent=context.user_agent,
            ),
        )
        note_pending(self.session)

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def heartbeat(self, job: Job, worker_id: str, lease_seconds: float) -> datetime:
        """Extend the lease of a job this worker holds; LeaseLostError if it no longer does."""
        until = utc_now() + timedelta(seconds=lease_seconds)
        result = self.session.execute(
            update(Job)
            .where(Job.id == job.id, _RUNNING, Job.locked_by == worker_id)
            .values(locked_until=until)
            .returning(Job.id),
            execution_options={"synchronize_session": False},
        )
        if result.first() is None:
            self.session.refresh(job)
            raise LeaseLostError(
                f"job {job.uuid} is no longer held by worker {worker_id} "
                f"(now {job.status.value}, held by {job.locked_by or 'nobody'})"
            )
        self.session.refresh(job)
        return until

    def complete(
        self,
        job: Job,
        worker_id: str,
        memento_url: str | None = None,
        variance_days: float | None = None,
    ) -> Job:
        """Record a worker's success; refused (LeaseLostError) if another worker took the job."""
        values: dict[str, Any] = {
            "status": JobStatus.COMPLETED,
            "locked_by": None,
            "locked_until": None,
        }
        if memento_url is not None:
            values["memento_url"] = memento_url
        if variance_days is not None:
            values["variance_days"] = variance_days
        return self._transition(job, JobStatus.COMPLETED, values, worker_id=worker_id)

    def fail(self, job: Job, worker_id: str, error_message: str) -> Job:
        """Record a worker's failure; refused (LeaseLostError) if another worker took the job."""
        values = {
            "status": JobStatus.FAILED,
            "locked_by": None,
            "locked_until": None,
            "error_message": error_message,
        }
        return self._transition(job, JobStatus.FAILED, values, worker_id=worker_id)


def _created(url: str, when: str, direction: str, mode: str) -> str:
    """The description of a job-creation audit entry."""
    return f"job created for {url} at {when} ({direction}, {mode})"


def _creation_details(draft: DraftLike) -> dict[str, Any]:
    """The details of a job-creation audit entry: the request, and its CSV line if any."""
    details: dict[str, Any] = {
        "url": draft.url,
        "when": draft.when,
        "direction": draft.direction,
        "mode": draft.mode,
    }
    if draft.line is not None:
        details["source_line"] = draft.line
    return details


class CreationRows(NamedTuple):
    """Jobs (JOB_COLUMNS, id None) and their chained creation entries (job_id None), ready."""

    jobs: list[tuple[Any, ...]]
    audits: list[tuple[Any, ...]]
    tip: str | None


def creation_rows(
    drafts: Sequence[DraftLike],
    forms: StoredForms,
    actor: Actor,
    tip: str | None,
    first_id: int | None = None,
) -> CreationRows:
    """The rows `create_many` writes for `drafts`, chained after `tip`; no database needed.

    Jobs are numbered from `first_id` if given, else their ids are left None.

    Every job shares one `created_at`; each gets a uuid7 in order and a creation entry like
    `create` makes (same description and details).
    """
    now = utc_now()
    stored_now = forms.time(now)
    dump = forms.json
    pending = JobStatus.PENDING.value
    create = AuditAction.CREATE.value
    jobs: list[tuple[Any, ...]] = []
    entries: list[EntryFields] = []
    count = len(drafts)
    ids: list[int | None] = (
        [None] * count if first_id is None else list(range(first_id, first_id + count))
    )
    for job_uuid, draft, job_id in zip(new_uuids(count), drafts, ids, strict=True):
        url, when, direction, mode = draft.url, draft.when, draft.direction, draft.mode
        jobs.append(
            (job_uuid, stored_now, stored_now, url, when, direction, mode, pending, SOURCE,
             dump(draft.options), 0, job_id)
        )  # fmt: skip
        entries.append(
            EntryFields(
                create, TARGET, _created(url, when, direction, mode), job_uuid, job_id, job_uuid,
                _creation_details(draft),
            )
        )  # fmt: skip
    audits, tip = chain_rows(entries, tip, actor, now, forms)
    return CreationRows(jobs, audits, tip)
