"""The CPU half of an import: read, validate, drop duplicates, make the chained rows.

Needs no database connection: duplicate lookups go through a `check` callable, so the same
generator runs in the importing process or in a worker process beside it (edc.ingest.worker).
"""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edc.db.bulk import StoredForms
from edc.db.repositories.audit_bulk import Actor
from edc.db.repositories.job import CreationRows, JobKey, creation_rows
from edc.ingest.errors import RowError
from edc.ingest.reader import read_requests
from edc.ingest.request import CaptureRequest
from edc.ingest.seen import SeenKeys

MAX_REPORTED_ERRORS = 20
Check = Callable[[list[JobKey]], set[JobKey]]
Key = tuple[str, str, str, str]
"""A JobKey's values as a plain tuple (equal to, and hashed like, the JobKey)."""


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


@dataclass
class Plan:
    """Everything the preparing side needs, fixed when the import's transaction started."""

    path: Path
    batch_size: int
    skip_invalid: bool
    allow_duplicates: bool
    dry_run: bool
    fresh: bool
    """`jobs` was empty at the start: only keys this import may have taken are looked up."""
    forms: StoredForms
    actor: Actor
    tip: str | None
    first_id: int | None = None
    """The next job id, if it is known ahead (SQLite under this import's write lock)."""


def prepare(
    plan: Plan, report: ImportReport, check: Check, on_progress: Callable[[int], None] | None
) -> Iterator[CreationRows]:
    """Rows to write, batch by batch, in file order; `report` is filled in on the way.

    After the first invalid row of an atomic import nothing more is produced (the rest is only
    validated, to report every problem). `check` says which keys exist already in the database,
    including the rows written for the batches produced before.
    """
    tap = _ReadTap(on_progress)
    tip, next_id = plan.tip, plan.first_id
    seen = SeenKeys[Key]() if plan.fresh else None  # made here: in the worker, not copied
    for batch in _batches(read_requests(plan.path, on_bytes=tap), report, plan.batch_size):
        if report.error_count and not plan.skip_invalid:
            continue
        drafts = batch if plan.allow_duplicates else _new_only(check, batch, report, seen)
        report.created += len(drafts)
        if drafts and not plan.dry_run:
            rows = creation_rows(drafts, plan.forms, plan.actor, tip, next_id)
            tip = rows.tip
            if next_id is not None:
                next_id += len(drafts)
            yield rows
            del rows, drafts  # hold one batch at a time, not two
    report.size, report.sha256 = tap.size, tap.sha256.hexdigest()


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
) -> Iterator[list[CaptureRequest]]:
    """Group valid requests into batches; count and keep the first problems."""
    batch: list[CaptureRequest] = []
    last_bad_line = 0
    for item in items:
        if isinstance(item, CaptureRequest):
            report.valid_rows += 1
            batch.append(item)
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


def _new_only(
    check: Check,
    batch: list[CaptureRequest],
    report: ImportReport,
    seen: SeenKeys[Key] | None,
) -> list[CaptureRequest]:
    """Drop drafts equal to an existing job or to an earlier draft of the same batch.

    With `seen` (the table was empty at the start) only keys this import may already have
    taken are looked up; otherwise every key of the batch is.
    """
    keys = [(r.url, r.when, r.direction, r.mode) for r in batch]
    maybe = keys if seen is None else seen.add_all(keys)
    existing: set[Key] = set(check([JobKey(*key) for key in maybe])) if maybe else set()
    fresh: list[CaptureRequest] = []
    for key, request in zip(keys, batch, strict=True):
        if key in existing:
            report.duplicates += 1
            continue
        existing.add(key)
        fresh.append(request)
    return fresh
