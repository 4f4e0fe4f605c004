"""Fixtures for the `edc jobs`, `edc artifacts` and `edc audit` tests.

Each test runs the installed `edc` against a fresh database of each backend (`database_url`);
setting a database up and looking into it afterwards is done in-process, which is faster than
another subprocess and independent of the commands under test.
"""

import itertools
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from cli_support import run_edc
from edc.config import DatabaseConfig
from edc.db import DatabaseEngine, migrate
from edc.db.models import AuditLog, Job
from edc.db.repositories import AuditLogRepository
from edc.ingest.importer import ImportReport, import_file

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def engine(database_url: str) -> Iterator[DatabaseEngine]:
    """The test database with the edc schema at head, as `edc db init` leaves it."""
    db = DatabaseEngine(DatabaseConfig(url=database_url))
    migrate.init_schema(db)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def edc(database_url: str) -> Run:
    """`edc --database-url URL ARGS...` through the installed executable."""

    def run(
        *args: str, env: dict[str, str] | None = None, cwd: str | Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run_edc("--database-url", database_url, *args, env=env, cwd=cwd)

    return run


@pytest.fixture
def seed(engine: DatabaseEngine, tmp_path: Path) -> Callable[[int], ImportReport]:
    """Import `count` fresh jobs (https://example.org/seed/N/I) in-process, as one import."""
    batches = itertools.count(1)

    def load(count: int) -> ImportReport:
        batch = next(batches)
        path = tmp_path / f"seed-{batch}.csv"
        rows = [f"https://example.org/seed/{batch}/{i},2020010{1 + i % 9}" for i in range(count)]
        path.write_text("url,when\n" + "\n".join(rows) + "\n", encoding="utf-8")
        return import_file(engine, path)

    return load


@pytest.fixture
def job_uuids(engine: DatabaseEngine) -> Callable[[], list[str]]:
    """The uuids of all jobs, oldest first (by id)."""

    def read() -> list[str]:
        with engine.session(read_only=True) as session:
            return list(session.scalars(select(Job.uuid).order_by(Job.id)))

    return read


@pytest.fixture
def job_count(engine: DatabaseEngine) -> Callable[[], int]:
    def read() -> int:
        with engine.session(read_only=True) as session:
            return int(session.scalar(select(func.count()).select_from(Job)) or 0)

    return read


@pytest.fixture
def audit_head(engine: DatabaseEngine) -> Callable[[], str]:
    """The repository's checkpoint as JSON: what `edc audit head --json` must print."""

    def read() -> str:
        with engine.session(read_only=True) as session:
            return AuditLogRepository(session).head().to_json()

    return read


@pytest.fixture
def audit_entries(engine: DatabaseEngine) -> Callable[[], list[AuditLog]]:
    """Every audit entry in chain order."""

    def read() -> list[AuditLog]:
        with engine.session(read_only=True) as session:
            return list(session.scalars(select(AuditLog).order_by(AuditLog.id)))

    return read


@pytest.fixture
def tamper(engine: DatabaseEngine, backend: str) -> Callable[..., int]:
    """Run one SQL statement on audit_logs behind the append-only triggers; return its rowcount.

    SQLite: the triggers are dropped (and stay dropped). PostgreSQL: user triggers are disabled
    for the statement only.
    """

    def run(sql: str, **params: object) -> int:
        with engine.begin() as connection:
            if backend == "sqlite":
                connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_logs_no_update")
                connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_logs_no_delete")
            else:
                connection.exec_driver_sql("ALTER TABLE audit_logs DISABLE TRIGGER USER")
            count = connection.execute(text(sql), params).rowcount
            if backend != "sqlite":
                connection.exec_driver_sql("ALTER TABLE audit_logs ENABLE TRIGGER USER")
        return count

    return run
