"""Importing a capture-request CSV file as jobs: atomic, idempotent, audited, streamed.

One pass over the file inside one transaction: valid rows are inserted in batches as they are
read, so memory stays bounded however large the file. Atomic by default: if any row is invalid
the transaction is rolled back and nothing is imported (every problem is still reported).
A row equal to an existing job (url, when, direction, mode) is skipped unless duplicates are
allowed; rows inserted earlier in the same file count as existing.
"""

import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from edc.db.bulk import BulkWriter
from edc.db.engine import DatabaseEngine
from edc.db.models import AuditAction, Job
from edc.db.repositories import SYSTEM, AuditContext, AuditLogRepository, JobRepository
from edc.db.repositories.audit_bulk import Actor
from edc.db.sealing import lock_chain
from edc.errors import InputError
from edc.ingest import worker
from edc.ingest.prepare import MAX_REPORTED_ERRORS, ImportReport, Plan, prepare

__all__ = ["MAX_REPORTED_ERRORS", "ImportRejectedError", "ImportReport", "import_file"]

BATCH_SIZE = 2_000
"""Rows per batch: two batches are in flight with a worker; 2,000 keeps the two processes'
proportional memory at 1,000,000 rows under 200 MB (SQLite: about 175 MB) at the speed of 5,000."""
IMPORT_TARGET = "import"
WORKER_MIN_BYTES = 1 << 20
"""Files from this size on are prepared in a worker process (smaller: not worth a fork)."""


class ImportRejectedError(InputError):
    """The file has invalid rows and the import was atomic: nothing was imported."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        shown = "; ".join(str(error) for error in report.errors[:3])
        more = report.error_count - min(3, len(report.errors))
        tail = f"; and {more} more" if more > 0 else ""
        super().__init__(
            f"{report.path}: {report.invalid_rows} invalid row(s), nothing imported: {shown}{tail}"
        )


def import_file(
    db: DatabaseEngine,
    path: str | os.PathLike[str],
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    allow_duplicates: bool = False,
    context: AuditContext = SYSTEM,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
    in_worker: bool | None = None,
) -> ImportReport:
    """Import `path` as pending jobs; see the module docstring for the rules.

    Raises ImportRejectedError (nothing imported) when a row is invalid and `skip_invalid` is
    false, CsvFormatError when the file as a whole cannot be read. The recorded size and sha256
    are those of the bytes actually read, so the audit names exactly what was imported.
    `on_progress` receives the number of bytes read so far. `in_worker` prepares the rows
    in a worker process (edc.ingest.worker); by default files of WORKER_MIN_BYTES and more are.
    """
    file_path = Path(path)
    if not file_path.is_file():
        raise InputError(f"{file_path} does not exist or is not a file")
    report = ImportReport(str(file_path), 0, "", dry_run=dry_run)
    with db.session(read_only=dry_run) as session:
        jobs = JobRepository(session, context)
        fresh = not allow_duplicates and _fresh_start(session, dry_run)
        writer = BulkWriter(session)
        plan = Plan(
            file_path,
            batch_size,
            skip_invalid,
            allow_duplicates,
            dry_run,
            fresh,
            writer.forms,
            Actor(context.actor, context.ip_address, context.user_agent),
            None if dry_run else jobs.audit.chain_tip(),
            None if dry_run or writer.postgresql else jobs.next_id(),
        )
        if in_worker is None:
            big = file_path.stat().st_size >= WORKER_MIN_BYTES
            in_worker = not dry_run and worker.available() and big
        run = worker.prepare_in_worker if in_worker else prepare
        for rows in run(plan, report, jobs.existing_keys, on_progress):
            jobs.write_creations(rows)
            del rows  # written: free it before the next batch arrives
        if report.error_count and not skip_invalid:
            report.created = 0
            session.rollback()
            raise ImportRejectedError(report)
        if not dry_run:
            _audit_import(AuditLogRepository(session, context), report, skip_invalid)
            report.committed = True
    return report


def _fresh_start(session: Session, dry_run: bool) -> bool:
    """Whether `jobs` is empty (then only this import's own keys can be duplicates).

    Checked under the chain lock (PostgreSQL; SQLite's write lock is held from BEGIN): every
    transaction that creates jobs also appends their audit entries, so no other one can commit
    jobs until this import commits, and "empty" stays true for the whole import.
    """
    if not dry_run:
        lock_chain(session.connection())
    return session.execute(select(Job.id).limit(1)).first() is None


def _audit_import(audit: AuditLogRepository, report: ImportReport, skip_invalid: bool) -> None:
    name = Path(report.path).name
    audit.append(
        AuditAction.CREATE,
        IMPORT_TARGET,
        f"imported {report.created} job(s) from {name}",
        target_id=report.sha256[:64],
        details={
            "file_name": name,
            "file_path": str(Path(report.path).resolve()),
            "file_size": report.size,
            "file_sha256": report.sha256,
            "valid_rows": report.valid_rows,
            "created": report.created,
            "duplicates": report.duplicates,
            "invalid_rows": report.invalid_rows,
            "skip_invalid": skip_invalid,
        },
    )
