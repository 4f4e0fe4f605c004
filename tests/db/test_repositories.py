"""Repositories through their public API on SQLite and PostgreSQL: the spec's behaviours, the
state machine, keyset pagination, the queue, artifacts, and an audit entry for every change."""

import hashlib
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from edc.db import DatabaseEngine
from edc.db.models import ArtifactType, AuditAction, AuditLog, Job, JobStatus
from edc.db.repositories import (
    ArtifactRepository,
    AuditContext,
    AuditLogRepository,
    FileProblemKind,
    JobRepository,
)
from edc.errors import InputError, InvalidTransitionError, LeaseLostError, NotFoundError


def audit_count(db: DatabaseEngine) -> int:
    with db.session(read_only=True) as s:
        return int(s.scalar(select(func.count()).select_from(AuditLog)) or 0)


def make_jobs(db: DatabaseEngine, n: int, status: JobStatus = JobStatus.PENDING) -> list[str]:
    with db.session() as s:
        repo = JobRepository(s)
        jobs = [repo.create(f"https://example.com/{i}", "20200101000000") for i in range(n)]
        if status is not JobStatus.PENDING:
            for job in jobs:
                job.status = status  # setup shortcut; the state machine is tested below
        return [job.uuid for job in jobs]


class TestJobRepository:
    def test_create_and_get(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            repo = JobRepository(s)
            job = repo.create("https://example.com/a", "20200101000000", "before", "fetch",
                              options={"case": "7"})  # fmt: skip
            job_id, job_uuid = job.id, job.uuid
        with db.session(read_only=True) as s:
            repo = JobRepository(s)
            by_id = repo.get_by_id(job_id)
            by_uuid = repo.get_by_uuid(job_uuid)
            assert by_id is by_uuid
            assert by_id is not None
            assert (by_id.url, by_id.when, by_id.direction, by_id.mode) == (
                "https://example.com/a", "20200101000000", "before", "fetch",
            )  # fmt: skip
            assert by_id.options == {"case": "7"}
            assert by_id.status is JobStatus.PENDING
            assert repo.get_by_id(10**9) is None
            assert repo.get_by_uuid("nope") is None
            with pytest.raises(NotFoundError, match="nope"):
                repo.require("nope")

    def test_list_by_status_offset_pagination(self, db: DatabaseEngine) -> None:
        uuids = make_jobs(db, 7)
        with db.session(read_only=True) as s:
            repo = JobRepository(s)
            first = repo.list_by_status(JobStatus.PENDING, limit=3)
            second = repo.list_by_status(JobStatus.PENDING, limit=3, offset=3)
            third = repo.list_by_status(JobStatus.PENDING, limit=3, offset=6)
            assert repo.list_by_status(JobStatus.FAILED) == []
        pages = [j.uuid for j in first + second + third]
        assert pages == list(reversed(uuids))  # newest first

    def test_keyset_pages_walk_every_row_once_in_order(self, db: DatabaseEngine) -> None:
        uuids = make_jobs(db, 23)
        seen: list[str] = []
        after = None
        with db.session(read_only=True) as s:
            repo = JobRepository(s)
            while True:
                page = repo.list_by_status(JobStatus.PENDING, limit=5, after=after)
                if not page:
                    break
                seen += [j.uuid for j in page]
                after = page[-1].uuid
            all_statuses = repo.list_by_status(None, limit=100)
            with pytest.raises(NotFoundError):
                repo.list_by_status(JobStatus.PENDING, after="missing")
        assert seen == list(reversed(uuids))
        assert [j.uuid for j in all_statuses] == seen

    def test_count_by_status(self, db: DatabaseEngine) -> None:
        make_jobs(db, 4)
        make_jobs(db, 2, JobStatus.FAILED)
        with db.session(read_only=True) as s:
            repo = JobRepository(s)
            assert repo.count_by_status(JobStatus.PENDING) == 4
            assert repo.count_by_status(JobStatus.FAILED) == 2
            assert repo.count_by_status(JobStatus.RUNNING) == 0
            assert repo.counts()[JobStatus.PENDING] == 4
            assert repo.counts()[JobStatus.CANCELLED] == 0

    def test_update_status_with_result_fields(self, db: DatabaseEngine) -> None:
        (uuid,) = make_jobs(db, 1)
        with db.session() as s:
            repo = JobRepository(s)
            job = repo.require(uuid)
            repo.update_status(job, JobStatus.RUNNING)
            repo.update_status(
                job,
                JobStatus.COMPLETED,
                memento_url="https://web.archive.org/web/20200101000000/https://example.com/0",
                variance_days=0.25,
            )
        with db.session(read_only=True) as s:
            job = JobRepository(s).require(uuid)
            assert job.status is JobStatus.COMPLETED
            assert job.memento_url is not None
            assert job.memento_url.startswith("https://web.archive.org/")
            assert job.variance_days == 0.25
            trail = AuditLogRepository(s).entries_for_job_uuid(uuid)
            assert [e.details.get("to") for e in trail] == [None, "running", "completed"]

    @pytest.mark.parametrize(
        ("path", "illegal"),
        [
            ([], JobStatus.COMPLETED),
            ([], JobStatus.FAILED),
            ([JobStatus.RUNNING, JobStatus.COMPLETED], JobStatus.PENDING),
            ([JobStatus.CANCELLED], JobStatus.RUNNING),
            ([JobStatus.RUNNING, JobStatus.FAILED], JobStatus.COMPLETED),
            ([JobStatus.RUNNING], JobStatus.RUNNING),
        ],
    )
    def test_illegal_transitions_raise_naming_both_states(
        self, db: DatabaseEngine, path: list[JobStatus], illegal: JobStatus
    ) -> None:
        (uuid,) = make_jobs(db, 1)
        with db.session() as s:
            repo = JobRepository(s)
            job = repo.require(uuid)
            for status in path:
                repo.update_status(job, status)
            current = job.status
            with pytest.raises(InvalidTransitionError) as info:
                repo.update_status(job, illegal)
        assert f"from {current.value} to {illegal.value}" in str(info.value)

    def test_retry_and_cancel(self, db: DatabaseEngine) -> None:
        a, b = make_jobs(db, 2)
        with db.session() as s:
            repo = JobRepository(s)
            job = repo.require(a)
            repo.update_status(job, JobStatus.RUNNING)
            repo.update_status(job, JobStatus.FAILED, error_message="timeout")
            repo.retry(job)
            assert job.status is JobStatus.PENDING
            repo.cancel(repo.require(b), reason="withdrawn by client")
        with db.session(read_only=True) as s:
            assert JobRepository(s).require(b).status is JobStatus.CANCELLED
            assert JobRepository(s).require(b).error_message == "withdrawn by client"

    def test_concurrent_change_is_refused(self, db: DatabaseEngine) -> None:
        (uuid,) = make_jobs(db, 1)
        with db.session() as s:
            repo = JobRepository(s)
            job = repo.require(uuid)
            job_id = job.id
            # another transaction's write, simulated on the same row behind the ORM's back
            s.execute(
                Job.__table__.update()
                .where(Job.__table__.c.id == job_id)
                .values(status="cancelled")
            )
            with pytest.raises(InvalidTransitionError, match="changed concurrently"):
                repo.update_status(job, JobStatus.RUNNING)

    def test_delete_keeps_audit_trail(self, db: DatabaseEngine, tmp_path: Path) -> None:
        (uuid,) = make_jobs(db, 1)
        evidence = tmp_path / "page.html"
        evidence.write_text("<html>x</html>")
        with db.session() as s:
            job = JobRepository(s).require(uuid)
            ArtifactRepository(s).register_file(job, evidence, ArtifactType.HTML)
        with db.session() as s:
            repo = JobRepository(s)
            repo.delete(repo.require(uuid))
        with db.session(read_only=True) as s:
            assert JobRepository(s).get_by_uuid(uuid) is None
            assert ArtifactRepository(s).count() == 0
            trail = AuditLogRepository(s).entries_for_job_uuid(uuid)
            assert [e.action for e in trail] == [
                AuditAction.CREATE, AuditAction.CREATE, AuditAction.DELETE,
            ]  # fmt: skip
            assert all(e.job_id is None for e in trail)
            assert AuditLogRepository(s).verify().ok


class TestQueue:
    def test_claim_oldest_first_and_mark_running(self, db: DatabaseEngine) -> None:
        uuids = make_jobs(db, 3)
        with db.session() as s:
            job = JobRepository(s).claim_next("worker-1", lease_seconds=60)
            assert job is not None
            assert job.uuid == uuids[0]
            assert job.status is JobStatus.RUNNING
            assert job.locked_by == "worker-1"
            assert job.attempts == 1
            assert job.locked_until is not None

    def test_nothing_to_claim(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            assert JobRepository(s).claim_next("w", 60) is None

    def test_expired_lease_is_claimed_again_and_late_completion_refused(
        self, db: DatabaseEngine
    ) -> None:
        (uuid,) = make_jobs(db, 1)
        with db.session() as s:
            first = JobRepository(s).claim_next("worker-A", lease_seconds=1.0)
            assert first is not None
        with db.session() as s:
            assert JobRepository(s).claim_next("worker-B", 60) is None  # lease still valid
        time.sleep(1.2)  # generous: a loaded machine must not expire the lease early
        with db.session() as s:
            second = JobRepository(s).claim_next("worker-B", lease_seconds=60)
            assert second is not None
            assert second.uuid == uuid
            assert second.attempts == 2
            assert second.locked_by == "worker-B"
        with db.session() as s:
            repo = JobRepository(s)
            with pytest.raises(LeaseLostError, match="worker-A"):
                repo.complete(repo.require(uuid), "worker-A", memento_url="late")
            with pytest.raises(LeaseLostError):
                repo.heartbeat(repo.require(uuid), "worker-A", 60)
        with db.session() as s:
            repo = JobRepository(s)
            repo.complete(
                repo.require(uuid), "worker-B", memento_url="https://m", variance_days=1.5
            )
        with db.session() as s:
            repo = JobRepository(s)
            job = repo.require(uuid)
            assert (job.status, job.memento_url, job.locked_by) == (
                JobStatus.COMPLETED, "https://m", None,
            )  # fmt: skip
            with pytest.raises(LeaseLostError):
                repo.fail(job, "worker-A", "late failure")

    def test_heartbeat_extends_lease(self, db: DatabaseEngine) -> None:
        make_jobs(db, 1)
        with db.session() as s:
            repo = JobRepository(s)
            job = repo.claim_next("w", lease_seconds=1)
            assert job is not None
            before = job.locked_until
            assert before is not None
            until = repo.heartbeat(job, "w", lease_seconds=120)
            assert job.locked_until == until
            assert until > before

    def test_fail_records_error(self, db: DatabaseEngine) -> None:
        make_jobs(db, 1)
        with db.session() as s:
            repo = JobRepository(s)
            job = repo.claim_next("w", 60)
            assert job is not None
            repo.fail(job, "w", "archive unreachable")
            assert (job.status, job.error_message) == (JobStatus.FAILED, "archive unreachable")


class TestArtifactRepository:
    @pytest.fixture
    def job_id(self, db: DatabaseEngine) -> int:
        (uuid,) = make_jobs(db, 1)
        with db.session(read_only=True) as s:
            return JobRepository(s).require(uuid).id

    def test_create_with_hashes_and_type_filter(self, db: DatabaseEngine, job_id: int) -> None:
        with db.session() as s:
            repo = ArtifactRepository(s)
            html = repo.create(
                job_id, ArtifactType.HTML, "/e/a.html", 10, "a" * 32, "b" * 40, "c" * 64
            )
            repo.create(job_id, ArtifactType.PNG, "/e/a.png", mime_type="image/png")
            html_id = html.id
        with db.session(read_only=True) as s:
            repo = ArtifactRepository(s)
            assert len(repo.get_by_job(job_id)) == 2
            (only,) = repo.get_by_job(job_id, ArtifactType.HTML)
            assert (only.md5, only.sha1, only.sha256, only.file_size) == (
                "a" * 32,
                "b" * 40,
                "c" * 64,
                10,
            )
            assert repo.get_by_job(job_id, ArtifactType.WARC) == []
            assert repo.verify_hash(html_id, "c" * 64) is True
            assert repo.verify_hash(html_id, "C" * 64) is True
            assert repo.verify_hash(html_id, "d" * 64) is False
            assert repo.verify_hash(10**9, "c" * 64) is False

    def test_create_for_missing_job(self, db: DatabaseEngine) -> None:
        with db.session() as s, pytest.raises(InputError, match="no job"):
            ArtifactRepository(s).create(10**9, ArtifactType.RAW, "/x")

    def test_create_bulk(self, db: DatabaseEngine, job_id: int) -> None:
        rows = [
            {
                "job_id": job_id,
                "artifact_type": ArtifactType.RAW,
                "file_path": f"/e/{i}",
                "sha256": "f" * 64,
            }
            for i in range(5)
        ]
        before = audit_count(db)
        with db.session() as s:
            created = ArtifactRepository(s).create_bulk(rows)
            assert len({a.uuid for a in created}) == 5
        with db.session(read_only=True) as s:
            assert ArtifactRepository(s).count() == 5
        assert audit_count(db) == before + 5
        with db.session() as s, pytest.raises(InputError):
            ArtifactRepository(s).create_bulk([{**rows[0], "job_id": 10**9}])

    def test_register_and_verify_files(
        self, db: DatabaseEngine, tmp_path: Path, job_id: int
    ) -> None:
        files = {name: tmp_path / name for name in ("page.html", "shot.png", "gone.warc")}
        for i, path in enumerate(files.values()):
            path.write_bytes(b"evidence %d " % i * 1000)
        with db.session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            repo = ArtifactRepository(s)
            html = repo.register_file(job, files["page.html"], ArtifactType.HTML)
            repo.register_file(job, files["shot.png"], ArtifactType.PNG)
            repo.register_file(job, files["gone.warc"], ArtifactType.WARC)
            data = files["page.html"].read_bytes()
            assert html.sha256 == hashlib.sha256(data).hexdigest()
            assert html.md5 == hashlib.md5(data).hexdigest()
            assert html.sha1 == hashlib.sha1(data).hexdigest()
            assert html.file_size == len(data)
            with pytest.raises(InputError, match="does not exist"):
                repo.register_file(job, tmp_path / "absent", ArtifactType.RAW)
        with db.session(read_only=True) as s:
            assert ArtifactRepository(s).verify_files().ok
        changed = bytearray(files["shot.png"].read_bytes())
        changed[10] ^= 1
        files["shot.png"].write_bytes(bytes(changed))
        files["gone.warc"].unlink()
        seen: list[str] = []
        with db.session(read_only=True) as s:
            report = ArtifactRepository(s).verify_files(on_file=lambda a: seen.append(a.file_path))
        assert report.checked == 3
        assert len(seen) == 3
        problems = {Path(p.path).name: p.kind for p in report.problems}
        assert problems == {
            "shot.png": FileProblemKind.CHANGED,
            "gone.warc": FileProblemKind.MISSING,
        }
        assert "md5, sha1, sha256 differ" in str(report.problems[0])


class TestAudit:
    def test_every_change_is_audited_with_context(self, db: DatabaseEngine, tmp_path: Path) -> None:
        context = AuditContext(
            actor="analyst@firm", ip_address="203.0.113.5", user_agent="edc-test"
        )
        evidence = tmp_path / "a.raw"
        evidence.write_bytes(b"raw")
        with db.session() as s:
            jobs = JobRepository(s, context)
            job = jobs.create("https://example.com/", "2020")
            jobs.update_status(job, JobStatus.RUNNING)
            ArtifactRepository(s, context).register_file(job, evidence, ArtifactType.RAW)
            jobs.cancel(job)
        with db.session(read_only=True) as s:
            entries = AuditLogRepository(s).list_entries(limit=10)
        assert [(e.action, e.target_type) for e in entries] == [
            (AuditAction.CREATE, "job"),
            (AuditAction.UPDATE, "job"),
            (AuditAction.CREATE, "artifact"),
            (AuditAction.UPDATE, "job"),
        ]
        assert {(e.actor, e.ip_address, e.user_agent) for e in entries} == {
            ("analyst@firm", "203.0.113.5", "edc-test")
        }

    def test_rolled_back_change_leaves_no_entry(self, db: DatabaseEngine) -> None:
        make_jobs(db, 1)
        before = audit_count(db)
        with pytest.raises(RuntimeError), db.session() as s:
            JobRepository(s).create("https://example.com/x", "2020")
            raise RuntimeError("abort")
        assert audit_count(db) == before
        make_jobs(db, 1)  # the chain tip was not kept from the rolled-back transaction
        with db.session(read_only=True) as s:
            assert AuditLogRepository(s).verify().ok

    def test_head_list_and_export(self, db: DatabaseEngine) -> None:
        with db.session(read_only=True) as s:
            empty = AuditLogRepository(s).head()
        assert (empty.count, empty.last_id, empty.last_hash) == (0, None, None)
        uuids = make_jobs(db, 3)
        with db.session(read_only=True) as s:
            repo = AuditLogRepository(s)
            head = repo.head()
            entries = repo.list_entries(limit=2)
            rest = repo.list_entries(after_id=entries[-1].id)
            job = JobRepository(s).require(uuids[1])
            for_job = repo.list_entries(job=job)
            import io

            out = io.StringIO()
            exported = repo.export(out)
        assert head.count == 3
        assert head.last_hash == rest[-1].entry_hash
        assert len(entries) + len(rest) == 3
        assert [e.job_uuid for e in for_job] == [uuids[1]]
        assert exported == head
        assert len(out.getvalue().splitlines()) == 3


class TestBulk:
    def test_create_many_audits_each_job_and_chains(self, db: DatabaseEngine) -> None:
        from edc.db.repositories import JobDraft, JobKey

        make_jobs(db, 2)  # something already in the chain and the table
        drafts = [
            JobDraft(
                f"https://example.org/{i}",
                "20210101000000",
                "after",
                "fetch",
                {"row": str(i)},
                line=i + 2,
            )
            for i in range(50)
        ]
        with db.session() as s:
            created = JobRepository(s).create_many(drafts)
            assert JobRepository(s).create_many([]) == []
        assert len(created) == 50
        assert [job_id for job_id, _ in created] == sorted(job_id for job_id, _ in created)
        with db.session(read_only=True) as s:
            repo = JobRepository(s)
            job = repo.require(created[7][1])
            assert (job.url, job.direction, job.options, job.status) == (
                "https://example.org/7", "after", {"row": "7"}, JobStatus.PENDING,
            )  # fmt: skip
            (entry,) = AuditLogRepository(s).entries_for_job_uuid(job.uuid)
            assert entry.job_id == job.id
            assert entry.details["source_line"] == 9
            assert AuditLogRepository(s).verify().ok
            assert AuditLogRepository(s).head().count == 52
            keys = {d.key for d in drafts[:3]} | {
                JobKey("https://nope", "2020", "closest", "fetch")
            }
            assert repo.existing_keys(keys) == {d.key for d in drafts[:3]}
            assert repo.existing_keys([]) == set()
        with db.session() as s:  # ids continue after a bulk insert, on both databases
            later = JobRepository(s).create("https://example.org/later", "2022")
            assert later.id > created[-1][0]


class TestClaimOne:
    def test_claim_a_particular_job(self, db: DatabaseEngine) -> None:
        first, second = make_jobs(db, 2)
        with db.session() as s:
            repo = JobRepository(s)
            job = repo.claim(repo.require(second), "w1", lease_seconds=60)
            assert (job.uuid, job.locked_by, job.attempts) == (second, "w1", 1)
            with pytest.raises(LeaseLostError, match="held by w1"):
                repo.claim(repo.require(second), "w2", lease_seconds=60)
            nxt = repo.claim_next("w2", 60)
            assert nxt is not None
            assert nxt.uuid == first


def test_next_id_is_sqlite_only(db: DatabaseEngine) -> None:
    """SQLite: the id the next job gets, under the write lock; PostgreSQL's ids come from a
    sequence, so asking is a mistake and says so."""
    with db.session() as s:
        repo = JobRepository(s)
        if db.dialect_name == "postgresql":
            with pytest.raises(ValueError, match="sequence"):
                repo.next_id()
            return
        first = repo.next_id()
        created = repo.create("https://example.org/next", "2020")
        assert created.id == first
        assert repo.next_id() == first + 1
