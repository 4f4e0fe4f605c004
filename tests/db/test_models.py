"""Models on both databases: defaults, enums as stored, UTC times, cascades and audit guards."""

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from edc.db import DatabaseEngine
from edc.db.models import (
    ALLOWED_TRANSITIONS,
    Artifact,
    ArtifactType,
    AuditAction,
    AuditLog,
    Job,
    JobStatus,
)


def make_audit(job: Job | None, previous: str | None, entry: str, **kw: object) -> AuditLog:
    return AuditLog(
        job=job,
        job_uuid=job.uuid if job else None,
        action=kw.pop("action", AuditAction.CREATE),
        target_type="job",
        target_id=job.uuid if job else None,
        description="created",
        previous_hash=previous,
        entry_hash=entry,
        **kw,
    )


def raw(db: DatabaseEngine, sql: str) -> list[tuple[object, ...]]:
    with db.begin(read_only=True) as conn:
        return [tuple(row) for row in conn.exec_driver_sql(sql)]


class TestJobModel:
    def test_create_job_with_defaults(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            job = Job(url="https://example.com/", when="20200101000000")
            s.add(job)
            s.flush()
            assert job.id is not None
            assert len(job.uuid) == 36
            assert (job.direction, job.mode, job.source) == ("closest", "fetch", "wayback")
            assert job.status is JobStatus.PENDING
            assert job.options == {}
            assert job.attempts == 0
            assert job.created_at.tzinfo is not None

    def test_uuids_are_generated_and_distinct(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            jobs = [Job(url=f"https://e.com/{i}", when="2020") for i in range(5)]
            s.add_all(jobs)
            s.flush()
            assert len({j.uuid for j in jobs}) == 5
            assert [j.uuid for j in jobs] == sorted(j.uuid for j in jobs)  # time-ordered

    def test_enum_values_stored_lower_case(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            job = Job(url="https://e.com", when="2020", status=JobStatus.PENDING)
            s.add(job)
            s.flush()
            s.add(Artifact(job=job, artifact_type=ArtifactType.HTML, file_path="a.html"))
            s.add(make_audit(job, None, "a" * 64))
        assert raw(db, "SELECT status FROM jobs") == [("pending",)]
        assert raw(db, "SELECT artifact_type FROM artifacts") == [("html",)]
        assert raw(db, "SELECT action FROM audit_logs") == [("create",)]

    def test_check_constraint_rejects_unknown_status(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            s.add(Job(url="https://e.com", when="2020"))
        with pytest.raises((IntegrityError, DBAPIError)), db.begin() as conn:
            conn.exec_driver_sql("UPDATE jobs SET status = 'PENDING'")
        assert raw(db, "SELECT status FROM jobs") == [("pending",)]

    def test_status_round_trip_every_value(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            s.add_all(Job(url="https://e.com", when="2020", status=st) for st in JobStatus)
        with db.session(read_only=True) as s:
            assert sorted(s.scalars(select(Job.status))) == sorted(JobStatus)

    def test_timestamps_are_aware_utc(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            s.add(Job(url="https://e.com", when="2020"))
        with db.session(read_only=True) as s:
            job = s.scalars(select(Job)).one()
            assert job.created_at.utcoffset() == timedelta(0)
            assert job.updated_at.tzinfo is not None
            assert abs(datetime.now(UTC) - job.created_at) < timedelta(minutes=1)

    def test_other_time_zone_converted_to_utc(self, db: DatabaseEngine) -> None:
        plus_two = datetime(2021, 6, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
        with db.session() as s:
            s.add(Job(url="https://e.com", when="2020", locked_until=plus_two))
        with db.session(read_only=True) as s:
            stored = s.scalars(select(Job.locked_until)).one()
        assert stored == datetime(2021, 6, 1, 10, 0, 0, 123456, tzinfo=UTC)
        assert stored is not None
        assert stored.tzinfo == UTC

    def test_naive_datetime_refused(self, db: DatabaseEngine) -> None:
        with pytest.raises(StatementError, match="naive datetime"), db.session() as s:
            s.add(Job(url="https://e.com", when="2020", locked_until=datetime(2020, 1, 1)))
            s.flush()

    def test_updated_at_moves_on_change_and_only_then(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            job = Job(url="https://e.com", when="2020")
            s.add(job)
        with db.session() as s:
            job = s.scalars(select(Job)).one()
            created, first = job.created_at, job.updated_at
            job.url = job.url  # no real change: no UPDATE
        with db.session() as s:
            job = s.scalars(select(Job)).one()
            assert job.updated_at == first
            time.sleep(0.002)
            job.error_message = "changed"
        with db.session(read_only=True) as s:
            job = s.scalars(select(Job)).one()
            assert job.updated_at > first
            assert job.created_at == created

    def test_options_json_round_trip(self, db: DatabaseEngine) -> None:
        options = {"case": "A-17", "note": 'ümlaut, "quotes"', "n": 3}
        with db.session() as s:
            s.add(Job(url="https://e.com", when="2020", options=options))
        with db.session(read_only=True) as s:
            assert s.scalars(select(Job.options)).one() == options

    def test_state_machine_table(self) -> None:
        assert JobStatus.PENDING.can_become(JobStatus.RUNNING)
        assert JobStatus.FAILED.can_become(JobStatus.PENDING)
        assert not JobStatus.COMPLETED.can_become(JobStatus.PENDING)
        assert not JobStatus.PENDING.can_become(JobStatus.COMPLETED)
        assert set(ALLOWED_TRANSITIONS) == set(JobStatus)


class TestCascades:
    def test_deleting_job_deletes_artifacts_and_nulls_audit(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            job = Job(url="https://e.com", when="2020")
            s.add(job)
            s.flush()
            s.add(Artifact(job=job, artifact_type=ArtifactType.PDF, file_path="p.pdf"))
            s.add(make_audit(job, None, "a" * 64))
            job_uuid = job.uuid
        with db.session() as s:
            s.delete(s.scalars(select(Job)).one())
        assert raw(db, "SELECT count(*) FROM artifacts") == [(0,)]
        assert raw(db, "SELECT job_id, job_uuid FROM audit_logs") == [(None, job_uuid)]

    def test_raw_delete_cascades_in_the_database(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            job = Job(url="https://e.com", when="2020")
            s.add(job)
            s.flush()
            s.add(Artifact(job=job, artifact_type=ArtifactType.RAW, file_path="r"))
            s.add(make_audit(job, None, "b" * 64))
        with db.begin() as conn:
            conn.exec_driver_sql("DELETE FROM jobs")
        assert raw(db, "SELECT count(*) FROM artifacts") == [(0,)]
        assert raw(db, "SELECT job_id FROM audit_logs") == [(None,)]

    def test_artifact_needs_existing_job(self, db: DatabaseEngine) -> None:
        with pytest.raises(IntegrityError), db.session() as s:
            s.add(Artifact(job_id=999_999, artifact_type=ArtifactType.PNG, file_path="x.png"))
            s.flush()

    def test_artifact_metadata_column_name(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            job = Job(url="https://e.com", when="2020")
            s.add(
                Artifact(
                    job=job, artifact_type=ArtifactType.WARC, file_path="w", metadata_={"k": 1}
                )
            )
        assert raw(db, "SELECT source FROM artifacts") == [("archived",)]
        with db.begin(read_only=True) as conn:
            value = conn.execute(text("SELECT metadata FROM artifacts")).scalar_one()
        assert value in ({"k": 1}, '{"k": 1}')


class TestAuditGuards:
    @pytest.fixture
    def with_entries(self, db: DatabaseEngine) -> DatabaseEngine:
        with db.session() as s:
            job = Job(url="https://e.com", when="2020")
            s.add(job)
            s.flush()
            s.add(make_audit(job, None, "a" * 64))
            s.add(make_audit(job, "a" * 64, "b" * 64))
        return db

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE audit_logs SET description = 'x'",
            "UPDATE audit_logs SET job_id = NULL",  # only ON DELETE SET NULL may do this
            "DELETE FROM audit_logs",
        ],
    )
    def test_update_and_delete_refused(self, with_entries: DatabaseEngine, statement: str) -> None:
        before = raw(with_entries, "SELECT id, description, job_id FROM audit_logs ORDER BY id")
        with pytest.raises(DBAPIError, match="append-only"), with_entries.begin() as conn:
            conn.exec_driver_sql(statement)
        after = raw(with_entries, "SELECT id, description, job_id FROM audit_logs ORDER BY id")
        assert after == before

    @pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
    def test_truncate_refused_on_postgresql(self, with_entries: DatabaseEngine) -> None:
        with pytest.raises(DBAPIError, match="append-only"), with_entries.begin() as conn:
            conn.exec_driver_sql("TRUNCATE audit_logs CASCADE")
        assert raw(with_entries, "SELECT count(*) FROM audit_logs") == [(2,)]

    def test_two_entries_with_same_predecessor_rejected(self, with_entries: DatabaseEngine) -> None:
        with pytest.raises(IntegrityError), with_entries.session() as s:
            s.add(make_audit(None, "a" * 64, "c" * 64))
            s.flush()

    def test_second_genesis_rejected(self, with_entries: DatabaseEngine) -> None:
        with pytest.raises(IntegrityError), with_entries.session() as s:
            s.add(make_audit(None, None, "d" * 64))
            s.flush()

    def test_system_event_without_job(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            s.add(make_audit(None, None, "e" * 64, action=AuditAction.VERIFY, actor="auditor"))
        assert raw(db, "SELECT job_id, actor, action FROM audit_logs") == [
            (None, "auditor", "verify")
        ]
