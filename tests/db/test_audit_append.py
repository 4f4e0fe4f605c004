"""`AuditLogRepository.append` queues its rows and writes them together: on both databases the
entries are visible to every later query of the transaction, land in chain order (id order),
get their ids, and go with a rollback."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from edc.db import DatabaseEngine
from edc.db.models import AuditAction, AuditLog, Job, JobStatus
from edc.db.repositories import AuditLogRepository


def _append(repo: AuditLogRepository, n: int) -> None:
    repo.append(AuditAction.ACCESS, "test", f"entry {n}", target_id=str(n), details={"n": n})


def _stored_count(db: DatabaseEngine) -> int:
    with db.session(read_only=True) as s:
        return int(s.scalar(select(func.count()).select_from(AuditLog)) or 0)


def test_queries_after_an_append_see_it(db: DatabaseEngine) -> None:
    with db.session() as s:
        repo = AuditLogRepository(s)
        _append(repo, 0)
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 1  # ORM autoflush
        _append(repo, 1)
        assert s.execute(text("SELECT count(*) FROM audit_logs")).scalar() == 2  # any statement
        _append(repo, 2)
        s.flush()  # nothing else to flush: the queued row is written all the same
        raw = s.connection().exec_driver_sql("SELECT count(*) FROM audit_logs").scalar()
        assert raw == 3
        assert repo.head().count == 3
        assert repo.verify().ok


def test_ids_are_given_and_ascend_in_chain_order(db: DatabaseEngine) -> None:
    with db.session() as s:
        repo = AuditLogRepository(s)
        appended = [
            repo.append(AuditAction.ACCESS, "test", f"entry {i}", details={"i": i})
            for i in range(5)
        ]
    ids = [entry.id for entry in appended]
    assert all(isinstance(entry_id, int) for entry_id in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == 5
    with db.session(read_only=True) as s:
        rows = s.execute(select(AuditLog.id, AuditLog.uuid, AuditLog.previous_hash)).all()
        assert [(row.id, row.uuid) for row in sorted(rows)] == [(e.id, e.uuid) for e in appended]
        assert [row.previous_hash for row in sorted(rows)][1:] == [
            e.entry_hash for e in appended[:-1]
        ]
        assert AuditLogRepository(s).verify().ok


def test_a_rollback_drops_queued_entries(db: DatabaseEngine) -> None:
    with db.session() as s:
        _append(AuditLogRepository(s), 0)
    session = db.session()
    try:
        with session as s:
            repo = AuditLogRepository(s)
            _append(repo, 1)
            _append(repo, 2)
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert _stored_count(db) == 1
    with db.session() as s:
        _append(AuditLogRepository(s), 3)  # links to entry 0, not to a dropped one
    with db.session(read_only=True) as s:
        assert AuditLogRepository(s).verify().ok
        assert AuditLogRepository(s).head().count == 2


def test_a_rolled_back_savepoint_keeps_what_came_before_it(db: DatabaseEngine) -> None:
    with db.session() as s:
        repo = AuditLogRepository(s)
        _append(repo, 0)
        savepoint = s.begin_nested()
        _append(repo, 1)
        savepoint.rollback()
        _append(repo, 2)
        savepoint = s.begin_nested()
        _append(repo, 3)
        savepoint.commit()
    with db.session(read_only=True) as s:
        descriptions = list(s.scalars(select(AuditLog.description).order_by(AuditLog.id)))
        assert descriptions == ["entry 0", "entry 2", "entry 3"]
        assert AuditLogRepository(s).verify().ok


def test_an_entry_for_a_job_not_yet_flushed_names_it(db: DatabaseEngine) -> None:
    with db.session() as s:
        job = Job(url="https://example.org/", when="2024", status=JobStatus.PENDING)
        s.add(job)
        appended = AuditLogRepository(s).append(
            AuditAction.CREATE, "job", "job created", target_id=job.uuid, job=job
        )
        job_id = job.id
    assert job_id is not None
    assert appended.id is not None
    with db.session(read_only=True) as s:
        stored = s.get(AuditLog, appended.id)
        assert stored is not None
        assert stored.job_id == job_id
        assert AuditLogRepository(s).verify().ok


def test_entries_are_written_once_however_many_flush_points(db: DatabaseEngine) -> None:
    with db.session() as s:
        repo = AuditLogRepository(s)
        for i in range(3):
            _append(repo, i)
            s.flush()
            s.flush()
            assert s.new == set() or all(not isinstance(o, AuditLog) for o in s.new)
        for i in range(3, 2003):
            _append(repo, i)
    assert _stored_count(db) == 2003
    with db.session(read_only=True) as s:
        assert AuditLogRepository(s).verify().ok


def test_a_failing_write_is_a_database_error_and_writes_nothing(db: DatabaseEngine) -> None:
    with db.session() as s:
        _append(AuditLogRepository(s), 0)
    with pytest.raises(IntegrityError), db.session() as s:
        appended = AuditLogRepository(s).append(AuditAction.ACCESS, "test", "queued")
        # Behind the queue's back (no flush): a row taking the link the queued entry needs.
        s.connection().exec_driver_sql(
            "INSERT INTO audit_logs (uuid, created_at, updated_at, action, actor, target_type, "
            "description, details, entry_hash, previous_hash) VALUES ('x', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'access', 'a', 't', 'd', '{}', 'h', "
            f"'{appended.previous_hash}')"
        )
    assert _stored_count(db) == 1
    with db.session(read_only=True) as s:
        assert AuditLogRepository(s).verify().ok


@pytest.mark.postgresql
def test_entries_not_given_consecutive_ids_are_refused(postgres_database_url: str) -> None:
    """The queue learns its rows' ids from the last one drawn, so it checks they are consecutive;
    a sequence changed behind edc's back (here: stepping by 2) is refused, nothing written."""
    from edc.config import DatabaseConfig
    from edc.db.migrate import init_schema
    from edc.errors import IntegrityFailureError

    db = DatabaseEngine(DatabaseConfig(url=postgres_database_url))
    init_schema(db)
    try:
        with db.session() as s:
            _append(AuditLogRepository(s), 0)
        with db.begin() as connection:
            connection.exec_driver_sql("ALTER SEQUENCE audit_logs_id_seq INCREMENT BY 2")
        with pytest.raises(IntegrityFailureError, match="consecutive ids"), db.session() as s:
            repo = AuditLogRepository(s)
            for n in range(1, 4):
                _append(repo, n)
        assert _stored_count(db) == 1
        with db.session(read_only=True) as s:
            assert AuditLogRepository(s).verify().ok
    finally:
        db.dispose()
