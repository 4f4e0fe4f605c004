"""Deferred linking of audit events: worker transitions record pending events that a seal links
into the hash chain, in order, exactly once. Every test runs on SQLite and PostgreSQL."""

import multiprocessing
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from concurrency_workers import append_entries, claim_complete_sealing
from edc.db import DatabaseEngine, sealing
from edc.db.models import AuditLog, AuditPending, Job, JobStatus
from edc.db.repositories import AuditLogRepository, JobRepository
from edc.errors import LeaseLostError


@pytest.fixture(autouse=True)
def _no_opportunistic_sealing() -> Iterator[None]:
    """Workers seal only when a test asks, so what is pending is what the test made."""
    before = sealing.DEFAULT_POLICY.max_events, sealing.DEFAULT_POLICY.max_age
    sealing.DEFAULT_POLICY.max_events, sealing.DEFAULT_POLICY.max_age = 10**9, 10**9
    sealing._policies.clear()
    yield
    sealing.DEFAULT_POLICY.max_events, sealing.DEFAULT_POLICY.max_age = before
    sealing._policies.clear()


def _jobs(db: DatabaseEngine, count: int) -> list[str]:
    with db.session() as session:
        repo = JobRepository(session)
        return [repo.create(f"https://example.org/{i}", "2020").uuid for i in range(count)]


def _pending(db: DatabaseEngine) -> list[Any]:
    with db.session(read_only=True) as session:
        return list(session.scalars(select(AuditPending).order_by(AuditPending.id)))


def _chain(db: DatabaseEngine) -> list[AuditLog]:
    with db.session(read_only=True) as session:
        return list(session.scalars(select(AuditLog).order_by(AuditLog.id)))


def _verify_ok(db: DatabaseEngine) -> int:
    with db.session(read_only=True) as session:
        result = AuditLogRepository(session).verify()
    assert result.ok, result.message
    return result.entries_checked


def _seal(db: DatabaseEngine) -> int:
    with db.session() as session:
        return AuditLogRepository(session).seal()


def test_claim_events_are_pending_then_sealed_in_order(db: DatabaseEngine) -> None:
    _jobs(db, 3)
    chain_before = len(_chain(db))
    for worker in ("w1", "w2", "w3"):
        with db.session() as session:
            job = JobRepository(session).claim_next(worker, 300)
            assert job is not None
            assert job.status is JobStatus.RUNNING
    pending = _pending(db)
    assert [p.details["worker"] for p in pending] == ["w1", "w2", "w3"]
    assert len(_chain(db)) == chain_before

    assert _seal(db) == 3
    assert _pending(db) == []
    sealed = _chain(db)[chain_before:]
    assert [(e.uuid, e.created_at, e.description) for e in sealed] == [
        (p.uuid, p.created_at, p.description) for p in pending
    ]
    assert [e.job_id for e in sealed] == [p.job_id for p in pending]
    assert sealed[0].previous_hash == _chain(db)[chain_before - 1].entry_hash
    assert _verify_ok(db) == chain_before + 3
    assert _seal(db) == 0


def test_worker_transitions_record_pending_events(db: DatabaseEngine) -> None:
    _jobs(db, 2)
    with db.session() as session:
        repo = JobRepository(session)
        first = repo.claim_next("w", 300)
        second = repo.claim_next("w", 300)
        assert first is not None
        assert second is not None
        repo.complete(first, "w", memento_url="https://m/1", variance_days=0.5)
        repo.fail(second, "w", "no memento")
    descriptions = [p.description for p in _pending(db)]
    assert descriptions == [
        "job claimed by w: pending -> running",
        "job claimed by w: pending -> running",
        "job status running -> completed",
        "job status running -> failed",
    ]
    _seal(db)
    _verify_ok(db)


def test_an_append_seals_earlier_events_first(db: DatabaseEngine) -> None:
    uuids = _jobs(db, 2)
    with db.session() as session:
        assert JobRepository(session).claim_next("w", 300) is not None
    with db.session() as session:  # an ordinary, chained change: it must not overtake the claim
        repo = JobRepository(session)
        repo.cancel(repo.require(uuids[1]), "not needed")
    assert _pending(db) == []
    tail = [e.description for e in _chain(db)[-2:]]
    assert tail == ["job claimed by w: pending -> running", "job status pending -> cancelled"]
    _verify_ok(db)


def test_a_rollback_leaves_no_pending_event(db: DatabaseEngine) -> None:
    _jobs(db, 1)
    with pytest.raises(RuntimeError), db.session() as session:
        assert JobRepository(session).claim_next("w", 300) is not None
        raise RuntimeError("worker crashed before commit")
    assert _pending(db) == []
    with db.session(read_only=True) as session:
        assert JobRepository(session).count_by_status(JobStatus.PENDING) == 1


def test_a_lost_lease_refuses_the_late_write_and_records_nothing(db: DatabaseEngine) -> None:
    _jobs(db, 1)
    with db.session() as session:
        job = JobRepository(session).claim_next("slow", -1)  # already expired
        assert job is not None
    with db.session() as session:
        again = JobRepository(session).claim_next("fast", 300)
        assert again is not None
        assert again.id == job.id
        assert again.attempts == 2
    with pytest.raises(LeaseLostError), db.session() as session:
        repo = JobRepository(session)
        repo.complete(repo.require(job.uuid), "slow")
    assert [p.details["worker"] for p in _pending(db)] == ["slow", "fast"]
    assert "re-claimed after an expired lease" in _pending(db)[1].description


def test_opportunistic_seal_after_commit(db: DatabaseEngine) -> None:
    _jobs(db, 3)
    sealing.DEFAULT_POLICY.max_events = 2
    sealing._policies.clear()
    with db.session() as session:
        assert JobRepository(session).claim_next("w", 300) is not None
    assert len(_pending(db)) == 1  # not due yet
    with db.session() as session:
        assert JobRepository(session).claim_next("w", 300) is not None
    assert _pending(db) == []  # the second event made a seal due: done after the commit
    _verify_ok(db)


_REFUSE_ENTRIES = {
    "sqlite": (
        "CREATE TRIGGER test_refuse_entries BEFORE INSERT ON audit_logs "
        "BEGIN SELECT RAISE(ABORT, 'test: no entries now'); END",
    ),
    "postgresql": (
        "CREATE FUNCTION test_refuse_entries() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'test: no entries now'; END $$",
        "CREATE TRIGGER test_refuse_entries BEFORE INSERT ON audit_logs "
        "FOR EACH ROW EXECUTE FUNCTION test_refuse_entries()",
    ),
}
_ALLOW_ENTRIES = {
    "sqlite": ("DROP TRIGGER test_refuse_entries",),
    "postgresql": (
        "DROP TRIGGER test_refuse_entries ON audit_logs",
        "DROP FUNCTION test_refuse_entries()",
    ),
}


def test_a_failed_opportunistic_seal_keeps_the_claim_and_its_event(
    db: DatabaseEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """The seal after a claim's commit is best effort: when it fails, the claim stands, its
    event stays pending (and guarded), a warning says why, and a later seal links it."""
    _jobs(db, 1)
    sealing.DEFAULT_POLICY.max_events = 1
    sealing._policies.clear()
    with db.begin() as connection:
        for statement in _REFUSE_ENTRIES[db.dialect_name]:
            connection.exec_driver_sql(statement)
    with caplog.at_level("WARNING", logger="edc.db.sealing"), db.session() as session:
        job = JobRepository(session).claim_next("w", 300)
    assert job is not None
    assert "opportunistic seal failed" in caplog.text
    assert "no entries now" in caplog.text
    with db.session(read_only=True) as session:
        assert session.get(Job, job.id).status is JobStatus.RUNNING  # type: ignore[union-attr]
    assert [p.details["worker"] for p in _pending(db)] == ["w"]
    with db.begin() as connection:
        for statement in _ALLOW_ENTRIES[db.dialect_name]:
            connection.exec_driver_sql(statement)
    assert _seal(db) == 1
    assert _pending(db) == []
    assert _verify_ok(db) == 2  # the job's creation and its claim


def test_pending_events_are_guarded(db: DatabaseEngine) -> None:
    uuids = _jobs(db, 2)
    with db.session() as session:
        assert JobRepository(session).claim_next("w", 300) is not None
    with pytest.raises(DBAPIError, match="leave only by sealing"), db.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_pending SET actor = 'mallory'")
    with pytest.raises(DBAPIError, match="leave only by sealing"), db.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_pending")
    with db.session() as session:  # deleting the job unlinks its pending event, as in audit_logs
        repo = JobRepository(session)
        session.delete(repo.require(uuids[0]))
    assert [p.job_id for p in _pending(db)] == [None]
    _seal(db)
    _verify_ok(db)


def test_concurrent_claimers_sealers_and_appenders_make_one_chain(
    db: DatabaseEngine, database_url: str
) -> None:
    total, workers, appenders, per_appender = 300, 3, 1, 40
    _jobs(db, total)
    start_at = time.time() + 1.5
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers + appenders) as pool:
        claims = [
            pool.apply_async(claim_complete_sealing, (database_url, f"w{w}", 7, start_at))
            for w in range(workers)
        ]
        appended = [
            pool.apply_async(append_entries, (database_url, a, per_appender, start_at))
            for a in range(appenders)
        ]
        claimed = sorted(i for c in claims for i in c.get(timeout=300))
        assert sum(a.get(timeout=300) for a in appended) == appenders * per_appender
    with db.session(read_only=True) as session:
        assert claimed == sorted(session.scalars(select(Job.id)))
    _seal(db)
    entries = _verify_ok(db)
    assert entries == total + 2 * total + appenders * per_appender  # create, claim, complete
    with db.session(read_only=True) as session:
        per_job = dict(
            session.execute(
                select(AuditLog.job_uuid, func.count())
                .where(AuditLog.job_uuid.is_not(None))
                .group_by(AuditLog.job_uuid)
            ).all()
        )
        uuids = session.scalar(select(func.count(func.distinct(AuditLog.uuid))))
    assert set(per_job.values()) == {3}
    assert uuids == entries
