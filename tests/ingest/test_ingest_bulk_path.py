"""The import's bulk path (COPY / raw executemany) stores exactly what the ORM stores.

On both databases: jobs and audit entries written by `import_file` read back through the ORM
with the same types and values as a job made by `JobRepository.create`; the stored text of
times and JSON on SQLite has the ORM's form; `edc audit verify` accepts the chain; in-file
duplicates across batches are caught on an empty database (where the per-batch database check
is skipped) and duplicates of existing jobs are caught on a non-empty one.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from cli_support import run_edc
from edc.db import DatabaseEngine
from edc.db.bulk import BulkWriter
from edc.db.models import AuditAction, AuditLog, Job, JobStatus
from edc.db.repositories import AuditDraft, AuditLogRepository, JobRepository
from edc.db.repositories.audit_bulk import Actor
from edc.db.repositories.job import (
    JobDraft,
    creation_rows,
)
from edc.errors import IntegrityFailureError
from edc.ingest.importer import import_file
from edc.integrity.canonical import canonical_json
from edc.integrity.chain import ChainEntry

SQLITE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


def write(tmp_path: Path, rows: list[str], header: str = "url,when,direction,case_id") -> Path:
    path = tmp_path / "jobs.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_imported_rows_read_back_like_orm_rows(
    db: DatabaseEngine, database_url: str, tmp_path: Path
) -> None:
    before = datetime.now(UTC)
    with db.session() as s:
        made = JobRepository(s).create("https://orm.example/x", "20200101000000")
    path = write(
        tmp_path,
        ["https://bulk.example/é?q=1,2020,before,CASE-1", "https://bulk.example/b,2021,,"],
    )
    report = import_file(db, path, batch_size=1)
    assert report.created == 2
    after = datetime.now(UTC)
    with db.session(read_only=True) as s:
        jobs = list(s.scalars(select(Job).order_by(Job.id)))
        entries = list(s.scalars(select(AuditLog).order_by(AuditLog.id)))
        assert AuditLogRepository(s).verify().ok
    orm_job, first, second = jobs
    assert orm_job.uuid == made.uuid
    assert first.url == "https://bulk.example/é?q=1"
    assert (first.when, first.direction, first.mode) == ("20200101000000", "before", "fetch")
    assert first.options == {"case_id": "CASE-1"}
    assert second.options == {}
    for job in (first, second):
        assert job.status is JobStatus.PENDING
        assert type(job.created_at) is type(orm_job.created_at)
        assert job.created_at.tzinfo is not None
        assert before - timedelta(seconds=1) <= job.created_at <= after
        assert job.updated_at == job.created_at
        assert (job.source, job.attempts, job.locked_by) == ("wayback", 0, None)
    assert [e.target_type for e in entries] == ["job", "job", "job", "import"]
    bulk_entry = entries[1]
    assert bulk_entry.action is AuditAction.CREATE
    assert (bulk_entry.job_id, bulk_entry.job_uuid, bulk_entry.target_id) == (
        first.id,
        first.uuid,
        first.uuid,
    )
    assert bulk_entry.details == {
        "url": first.url,
        "when": first.when,
        "direction": "before",
        "mode": "fetch",
        "source_line": 2,
    }
    assert bulk_entry.created_at.tzinfo is not None
    assert entries[2].previous_hash == bulk_entry.entry_hash
    verified = run_edc("--database-url", database_url, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["ok"] is True


def test_sqlite_stored_text_is_the_orm_form(sqlite_database_url: str, tmp_path: Path) -> None:
    from edc.config import DatabaseConfig
    from edc.db.migrate import init_schema

    db = DatabaseEngine(DatabaseConfig(url=sqlite_database_url))
    init_schema(db)
    try:
        with db.session() as s:
            JobRepository(s).create("https://orm.example/x", "20200101000000", options={"a": "é"})
        import_file(db, write(tmp_path, ["https://bulk.example/a,2020,,é"], "url,when,mode,a"))
        with db.engine.connect() as conn:
            jobs = conn.execute(
                text("SELECT created_at, updated_at, status, options FROM jobs ORDER BY id")
            ).all()
            entries = conn.execute(
                text("SELECT created_at, action, details FROM audit_logs ORDER BY id")
            ).all()
    finally:
        db.dispose()
    (orm_time, _, orm_status, orm_options), (bulk_time, bulk_updated, status, options) = jobs
    assert SQLITE_TIME.fullmatch(orm_time)
    assert SQLITE_TIME.fullmatch(bulk_time)
    assert bulk_updated == bulk_time
    assert (orm_status, status) == ("pending", "pending")
    assert orm_options == options == json.dumps({"a": "é"})
    for created_at, action, details in entries:
        assert SQLITE_TIME.fullmatch(created_at)
        assert action == "create"
        # the canonical text that was hashed, as every audit writer stores it
        assert details == canonical_json(json.loads(details)).decode()


def test_sqlite_times_are_stored_with_six_fraction_digits(sqlite_database_url: str) -> None:
    from edc.config import DatabaseConfig

    db = DatabaseEngine(DatabaseConfig(url=sqlite_database_url))
    try:
        with db.session(read_only=True) as s:
            writer = BulkWriter(s)
            assert writer.forms.time(datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
                "2020-01-02 03:04:05.000000"
            )
            assert writer.forms.json({"a": "é"}) == json.dumps({"a": "é"})
    finally:
        db.dispose()


def test_duplicates_across_batches_on_an_empty_database(db: DatabaseEngine, tmp_path: Path) -> None:
    rows = [f"https://d.example/{i},2020,closest," for i in range(50)]
    rows += [rows[3], rows[49], "https://d.example/3,2020,before,"]  # 2 duplicates, 1 new
    report = import_file(db, write(tmp_path, rows), batch_size=7)
    assert (report.created, report.duplicates) == (51, 2)
    again = import_file(db, write(tmp_path, rows), batch_size=7)
    assert (again.created, again.duplicates) == (0, 53)
    with db.session(read_only=True) as s:
        keys = [(j.url, j.direction) for j in s.scalars(select(Job).order_by(Job.id))]
        assert AuditLogRepository(s).verify().ok
    assert len(keys) == len(set(keys)) == 51


def test_duplicates_of_existing_jobs_are_skipped(db: DatabaseEngine, tmp_path: Path) -> None:
    with db.session() as s:
        JobRepository(s).create("https://d.example/5", "20200101000000")
    rows = [f"https://d.example/{i},2020,closest," for i in range(10)]
    dry = import_file(db, write(tmp_path, rows), batch_size=3, dry_run=True)
    assert (dry.created, dry.duplicates) == (9, 1)
    report = import_file(db, write(tmp_path, rows), batch_size=3)
    assert (report.created, report.duplicates) == (9, 1)


def test_append_many_chains_like_append(db: DatabaseEngine) -> None:
    with db.session() as s:
        audit = AuditLogRepository(s)
        audit.append(AuditAction.ACCESS, "t", "one by one", details={"n": 0})
        count = audit.append_many(
            AuditDraft(AuditAction.ACCESS, "t", f"bulk {i}", target_id=str(i), details={"n": i})
            for i in range(1, 4)
        )
        audit.append(AuditAction.ACCESS, "t", "one by one again")
    assert count == 3
    with db.session(read_only=True) as s:
        entries = list(s.scalars(select(AuditLog).order_by(AuditLog.id)))
        assert AuditLogRepository(s).verify().ok
    previous = None
    for entry in entries:
        rebuilt = ChainEntry(
            entry.uuid, entry.created_at, entry.action.value, entry.actor, entry.target_type,
            entry.target_id, entry.description, entry.details, entry.ip_address,
            entry.user_agent, entry.job_uuid, previous,
        )  # fmt: skip
        assert entry.previous_hash == previous
        assert entry.entry_hash == rebuilt.compute_hash()
        previous = entry.entry_hash
    assert [e.details.get("n") for e in entries] == [0, 1, 2, 3, None]


def test_rows_prepared_from_a_stale_tip_or_id_are_refused(db: DatabaseEngine) -> None:
    with db.session() as s:
        jobs = JobRepository(s)
        forms = BulkWriter(s).forms
        actor = Actor("system", None, None)
        stale = creation_rows([JobDraft("https://a.example/", "2020")], forms, actor, None)
        jobs.create("https://b.example/", "20200101000000")
        with pytest.raises(IntegrityFailureError, match="another tip"):
            jobs.write_creations(stale)
    with db.session() as s:
        jobs = JobRepository(s)
        tip = jobs.audit.chain_tip()
        numbered = creation_rows([JobDraft("https://c.example/", "2020")], forms, actor, tip, 99)
        with pytest.raises(IntegrityFailureError, match="numbered from 99"):
            jobs.write_creations(numbered)
    with db.session(read_only=True) as s:
        assert [j.url for j in s.scalars(select(Job))] == ["https://b.example/"]
