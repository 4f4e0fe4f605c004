"""Importing CSV files as jobs, on SQLite and PostgreSQL: atomic, idempotent and audited."""

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from edc.db import DatabaseEngine
from edc.db.models import Job, JobStatus
from edc.db.repositories import AuditLogRepository, JobRepository
from edc.errors import InputError
from edc.ingest import CsvFormatError
from edc.ingest.importer import ImportRejectedError, import_file
from edc.integrity.chain import Checkpoint

DATA = Path(__file__).parent / "data"
BAD = json.loads((DATA / "bad" / "expected.json").read_text())
GOOD = sorted(p.stem for p in (DATA / "good").glob("*.csv"))


def state(db: DatabaseEngine) -> tuple[list[tuple[str, str]], Checkpoint]:
    with db.session(read_only=True) as s:
        jobs = [(j.url, j.when) for j in s.scalars(select(Job).order_by(Job.id))]
        return jobs, AuditLogRepository(s).head()


def write(tmp_path: Path, text: str, name: str = "jobs.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_imports_nothing(db: DatabaseEngine, tmp_path: Path, name: str) -> None:
    # something in the database first, so "unchanged" means more than "still empty"
    import_file(db, write(tmp_path, "url,when\nhttps://example.com/,2020\n", "seed.csv"))
    before = state(db)
    expected = BAD[name]
    kind = ImportRejectedError if expected["error"] == "row" else CsvFormatError
    with pytest.raises(kind) as info:
        import_file(db, DATA / "bad" / name)
    message = str(info.value)
    assert f"line {expected['line']}" in message
    assert expected["reason"] in message
    assert state(db) == before


@pytest.mark.parametrize("name", GOOD)
def test_good_file_imports_exactly_the_expected_jobs(db: DatabaseEngine, name: str) -> None:
    expected = json.loads((DATA / "good" / f"{name}.expected.json").read_text())
    path = DATA / "good" / f"{name}.csv"
    report = import_file(db, path)
    assert report.created == len(expected)
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.size == path.stat().st_size
    with db.session(read_only=True) as s:
        jobs = list(s.scalars(select(Job).order_by(Job.id)))
        got = [
            {"url": j.url, "when": j.when, "direction": j.direction, "mode": j.mode,
             "options": j.options} for j in jobs
        ]  # fmt: skip
        assert AuditLogRepository(s).verify().ok
    want = [{k: v for k, v in row.items() if k != "line"} for row in expected]
    assert got == want


def test_second_import_creates_nothing(db: DatabaseEngine, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "url,when,direction\nhttps://a.example/,2020,before\nhttps://b.example/,2021\n"
        "https://a.example/,2020,before\n",  # the same request twice in one file
    )
    first = import_file(db, path)
    assert (first.created, first.duplicates) == (2, 1)
    second = import_file(db, path)
    assert (second.created, second.duplicates, second.valid_rows) == (0, 3, 3)
    again = import_file(db, path, allow_duplicates=True)
    assert again.created == 3
    with db.session(read_only=True) as s:
        assert JobRepository(s).count_by_status(JobStatus.PENDING) == 5
        assert AuditLogRepository(s).verify().ok


def test_skip_invalid_imports_exactly_the_valid_rows(db: DatabaseEngine, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "url,when\nhttps://ok.example/1,2020\njavascript:alert(1),2020\n"
        "https://ok.example/2,20201301\nhttps://ok.example/3,2021-06-01T10:00:00+02:00\n",
    )
    with pytest.raises(ImportRejectedError, match="2 invalid row"):
        import_file(db, path)
    report = import_file(db, path, skip_invalid=True)
    assert (report.created, report.invalid_rows) == (2, 2)
    assert [e.line for e in report.errors] == [3, 4]
    assert state(db)[0] == [
        ("https://ok.example/1", "20200101000000"),
        ("https://ok.example/3", "20210601080000"),
    ]


def test_dry_run_writes_nothing(db: DatabaseEngine, tmp_path: Path) -> None:
    path = write(tmp_path, "url,when\nhttps://a.example/,2020\nhttps://b.example/,2021\n")
    before = state(db)
    report = import_file(db, path, dry_run=True)
    assert (report.created, report.committed, report.dry_run) == (2, False, True)
    assert state(db) == before


def test_import_is_audited_with_file_identity(db: DatabaseEngine, tmp_path: Path) -> None:
    path = write(tmp_path, "url,when\nhttps://a.example/,2020\n")
    progress: list[int] = []
    import_file(db, path, on_progress=progress.append)
    assert progress[-1] == path.stat().st_size
    with db.session(read_only=True) as s:
        entries = AuditLogRepository(s).list_entries()
    assert [e.target_type for e in entries] == ["job", "import"]
    details = entries[-1].details
    assert details["file_name"] == "jobs.csv"
    assert details["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert details["created"] == 1


def test_missing_file(db: DatabaseEngine, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        import_file(db, tmp_path / "absent.csv")


def test_many_batches(db: DatabaseEngine, tmp_path: Path) -> None:
    rows = "".join(f"https://e.example/{i},2020\n" for i in range(1234))
    path = write(tmp_path, "url,when\n" + rows + "https://e.example/7,2020\n")
    report = import_file(db, path, batch_size=100)
    assert (report.created, report.duplicates) == (1234, 1)
    with db.session(read_only=True) as s:
        assert AuditLogRepository(s).head().count == 1235
        assert AuditLogRepository(s).verify().ok
