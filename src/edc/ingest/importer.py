"""Importing a capture-request CSV file as jobs: atomic, idempotent, audited, streamed.

One pass over the file inside one transaction: valid rows are inserted in batches as they are
read, so memory stays bounded however large the file. Atomic by default: if any row is invalid
the transaction is rolled back and nothing is imported (every problem is still reported).
A row equal to an existing job (url, when, direction, mode) is skipped unless duplicates are
allowed; rows inserted earlier in the same file count as existing.
"""

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edc.db.engine import DatabaseEngine
from edc.db.models import AuditAction, Job
from edc.db.repositories import SYSTEM, AuditContext, AuditLogRepository, JobDraft, JobRepository
from edc.db.repositories.audit import lock_chain
from edc.db.repositories.job import JobKey
from edc.errors import InputError
from edc.ingest.errors import RowError
from edc.ingest.reader import read_requests
from edc.ingest.request import CaptureRequest
from edc.ingest.seen import SeenKeys

BATCH_SIZE = 5_000
MAX_REPORTED_ERRORS = 20
IMPORT_TARGET = "import"


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a rejected file, would have done)."""

    path: str
    size: int
    sha256: str
    valid_rows: int = 0
    created: int = 0
    duplicates: int = 0
    invalid_rows: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    committed: bool = False

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary, with the first problems as text."""
        return {
            "file": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "valid_rows": self.valid_rows,
            "created": self.created,
            "duplicates": self.duplicates,
            "invalid_rows": self.invalid_rows,
            "error_count": self.error_count,
            "errors": [str(error) for error in self.errors],
            "dry_run": self.dry_run,
            "committed": self.committed,
        }


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
) -> ImportReport:
    """Import `path` as pending jobs; see the module docstring for the rules.

    Raises ImportRejectedError (nothing imported) when a row is invalid and `skip_invalid` is
    false, CsvFormatError when the file as a whole cannot be read. The recorded size and sha256
    are those of the bytes actually read, so the audit names exactly what was imported.
    `on_progress` receives the number of bytes read so far.
    """
    file_path = Path(path)
    if not file_path.is_file():
        raise InputError(f"{file_path} does not exist or is not a file")
    report = ImportReport(str(file_path), 0, "", dry_run=dry_run)
    tap = _ReadTap(on_progress)
    requests = read_requests(file_path, on_bytes=tap)
    with db.session(read_only=dry_run) as session:
        jobs = JobRepository(session, context)
        seen = None if allow_duplicates else _fresh_start(session, dry_run)
        for batch in _batches(requests, report, batch_size):
            # After the first invalid row an atomic import only validates (to report it all).
            if report.error_count and not skip_invalid:
                continue
            drafts = batch if allow_duplicates else _new_only(jobs, batch, report, seen)
            if not dry_run:
                jobs.create_many(drafts)
            report.created += len(drafts)
        report.size, report.sha256 = tap.size, tap.sha256.hexdigest()
        if report.error_count and not skip_invalid:
            report.created = 0
            session.rollback()
            raise ImportRejectedError(report)
        if not dry_run:
            _audit_import(AuditLogRepository(session, context), report, skip_invalid)
            report.committed = True
    return report


class _ReadTap:
    """Hashes and counts exactly the bytes the reader consumed; reports progress in bytes."""

    def __init__(self, on_progress: Callable[[int], None] | None) -> None:
        self.sha256 = hashlib.sha256()
        self.size = 0
        self._on_progress = on_progress

    def __call__(self, chunk: memoryview) -> None:
        self.sha256.update(chunk)
        self.size += len(chunk)
        if self._on_progress is not None:
            self._on_progress(self.size)


def _batches(
    items: Iterator[CaptureRequest | RowError], report: ImportReport, size: int
) -> Iterator[list[JobDraft]]:
    """Group valid requests into batches of drafts; count and keep the first problems."""
    batch: list[JobDraft] = []
    last_bad_line = 0
    for item in items:
        if isinstance(item, CaptureRequest):
            report.valid_rows += 1
            batch.append(
                JobDraft(item.url, item.when, item.direction, item.mode, item.options, item.line)
            )
            if len(batch) >= size:
                yield batch
                batch = []
            continue
        report.error_count += 1
        if item.line != last_bad_line:
            report.invalid_rows += 1
            last_bad_line = item.line
        if len(report.errors) < MAX_REPORTED_ERRORS:
            report.errors.append(item)
    if batch:
        yield batch


def _fresh_start(session: Session, dry_run: bool) -> SeenKeys[JobKey] | None:
    """A filter of this import's own keys when `jobs` is empty, else None (check every batch).

    Checked under the chain lock (PostgreSQL; SQLite's write lock is held from BEGIN): every
    transaction that creates jobs also appends their audit entries, so no other one can commit
    jobs until this import commits, and "empty" stays true for the whole import.
    """
    if not dry_run:
        lock_chain(session.connection())
    if session.execute(select(Job.id).limit(1)).first() is not None:
        return None
    return SeenKeys[JobKey]()


def _new_only(
    jobs: JobRepository,
    batch: list[JobDraft],
    report: ImportReport,
    seen: SeenKeys[JobKey] | None,
) -> list[JobDraft]:
    """Drop drafts equal to an existing job or to an earlier draft of the same batch.

    With `seen` (the table was empty at the start) only keys this import may already have
    taken are looked up; otherwise every key of the batch is.
    """
    if seen is None:
        existing = jobs.existing_keys(draft.key for draft in batch)
    else:
        maybe = seen.add_all(draft.key for draft in batch)
        existing = jobs.existing_keys(maybe) if maybe else set()
    fresh: list[JobDraft] = []
    for draft in batch:
        key = draft.key
        if key in existing:
            report.duplicates += 1
            continue
        existing.add(key)
        fresh.append(draft)
    return fresh


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
