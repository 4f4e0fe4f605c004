"""Imports whose rows are prepared in a worker process: same result, same guarantees.

On SQLite and PostgreSQL: the worker path (forced with `in_worker=True`, small batches) creates
exactly what the in-process path creates, skips the same duplicates, rejects invalid files
atomically, reports a broken file by line, and a worker that dies leaves nothing behind.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from edc.db import DatabaseEngine
from edc.db.models import Job
from edc.db.repositories import AuditLogRepository, JobRepository
from edc.ingest import CsvFormatError, worker
from edc.ingest.importer import ImportRejectedError, import_file
from edc.integrity.chain import Checkpoint


def write(tmp_path: Path, rows: list[str], name: str = "jobs.csv") -> Path:
    path = tmp_path / name
    path.write_text("url,when,direction\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def state(db: DatabaseEngine) -> tuple[list[tuple[str, str, str]], Checkpoint]:
    with db.session(read_only=True) as s:
        jobs = [(j.url, j.when, j.direction) for j in s.scalars(select(Job).order_by(Job.id))]
        return jobs, AuditLogRepository(s).head()


ROWS = [f"https://w.example/{i},20{10 + i % 10},closest" for i in range(120)]


def test_worker_creates_what_the_in_process_path_creates(
    db: DatabaseEngine, tmp_path: Path
) -> None:
    with db.session() as s:
        JobRepository(s).create("https://w.example/7", "20170101000000")  # exists already
    rows = [*ROWS, ROWS[3], ROWS[100], "https://w.example/3,2013,before"]
    progress: list[int] = []
    path = write(tmp_path, rows)
    report = import_file(db, path, batch_size=16, in_worker=True, on_progress=progress.append)
    assert (report.created, report.duplicates, report.valid_rows) == (120, 3, 123)
    assert report.committed
    assert progress
    assert progress[-1] <= path.stat().st_size
    jobs, head = state(db)
    assert head.count == 1 + 120 + 1
    assert len(set(jobs)) == len(jobs) == 121
    again = import_file(db, path, batch_size=16, in_worker=True)
    assert (again.created, again.duplicates) == (0, 123)
    with db.session(read_only=True) as s:
        assert AuditLogRepository(s).verify().ok


def test_worker_on_an_empty_database_catches_duplicates_across_batches(
    db: DatabaseEngine, tmp_path: Path
) -> None:
    rows = [*ROWS, *ROWS[::7]]
    report = import_file(db, write(tmp_path, rows), batch_size=10, in_worker=True)
    assert (report.created, report.duplicates) == (120, len(ROWS[::7]))
    with db.session(read_only=True) as s:
        assert AuditLogRepository(s).verify().ok


def test_worker_import_of_an_invalid_file_is_atomic(db: DatabaseEngine, tmp_path: Path) -> None:
    import_file(db, write(tmp_path, ROWS[:5], "seed.csv"))
    before = state(db)
    rows = [*ROWS[5:60], "javascript:alert(1),2020,closest", *ROWS[60:]]
    with pytest.raises(ImportRejectedError, match="line 57"):
        import_file(db, write(tmp_path, rows), batch_size=10, in_worker=True)
    assert state(db) == before
    report = import_file(
        db, write(tmp_path, rows), batch_size=10, in_worker=True, skip_invalid=True
    )
    assert (report.created, report.invalid_rows) == (115, 1)


def test_worker_reports_a_broken_file_by_line(db: DatabaseEngine, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"url,when\nhttps://a.example/,2020\nhttps://b.example/\xff,2020\n")
    with pytest.raises(CsvFormatError, match="line 3"):
        import_file(db, path, in_worker=True)
    assert state(db)[0] == []


def _worker_fails_after_one_batch(monkeypatch: pytest.MonkeyPatch, fail: Any) -> None:
    """Make the worker's `prepare` call `fail()` once it has sent its first batch."""
    real = worker.prepare

    def failing(*args: Any) -> Iterator[Any]:
        for count, rows in enumerate(real(*args)):
            if count == 1:
                fail()
            yield rows

    monkeypatch.setattr(worker, "prepare", failing)


def test_a_dying_worker_leaves_nothing(
    db: DatabaseEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(db, write(tmp_path, ROWS[:5], "seed.csv"))
    before = state(db)
    _worker_fails_after_one_batch(monkeypatch, lambda: os._exit(9))  # killed midway
    with pytest.raises(worker.WorkerFailedError, match="exit code 9"):
        import_file(db, write(tmp_path, ROWS), batch_size=10, in_worker=True)
    assert state(db) == before


class _UnpicklableError(Exception):
    """An exception pickle cannot rebuild (its constructor wants two arguments)."""

    def __init__(self, what: str, where: int) -> None:
        super().__init__(f"{what} at {where}")


def test_a_worker_failure_that_cannot_travel_is_named_and_leaves_nothing(
    db: DatabaseEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(db, write(tmp_path, ROWS[:5], "seed.csv"))
    before = state(db)

    def fail() -> None:
        raise _UnpicklableError("odd failure", 7)

    _worker_fails_after_one_batch(monkeypatch, fail)
    with pytest.raises(worker.WorkerFailedError, match=r"_UnpicklableError\('odd failure at 7'\)"):
        import_file(db, write(tmp_path, ROWS), batch_size=10, in_worker=True)
    assert state(db) == before
