"""Migration 0003 (audit_pending): up, down, and a downgrade that would lose unsealed events."""

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from edc.config import DatabaseConfig
from edc.db import DatabaseEngine, migrate
from edc.db.repositories import AuditLogRepository, JobRepository
from edc.errors import InputError


@pytest.fixture
def db(database_url: str) -> Iterator[DatabaseEngine]:
    """An empty database (no schema): the test migrates it."""
    engine = DatabaseEngine(DatabaseConfig(url=database_url))
    yield engine
    engine.dispose()


def _tables(db: DatabaseEngine) -> set[str]:
    with db.begin(read_only=True) as connection:
        return set(inspect(connection).get_table_names())


def _claim_one(db: DatabaseEngine) -> None:
    with db.session() as session:
        repo = JobRepository(session)
        repo.create("https://example.org/", "2020")
        assert repo.claim_next("w", 300) is not None


def test_upgrade_adds_audit_pending_with_its_guards(db: DatabaseEngine) -> None:
    migrate.upgrade(db, "0002")
    assert "audit_pending" not in _tables(db)
    migrate.upgrade(db)
    assert "audit_pending" in _tables(db)
    _claim_one(db)
    with pytest.raises(DBAPIError, match="leave only by sealing"), db.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_pending")
    assert migrate.row_counts(db)["audit_pending"] == 1


def test_downgrade_refuses_while_events_are_unsealed(db: DatabaseEngine) -> None:
    migrate.upgrade(db)
    _claim_one(db)
    with pytest.raises(InputError, match="1 audit event"):
        migrate.downgrade(db, "0002")
    assert migrate.current_revision(db) == "0003"
    with db.session() as session:
        assert AuditLogRepository(session).seal() == 1
    assert migrate.downgrade(db, "0002") == migrate.RevisionChange("0003", "0002")
    assert "audit_pending" not in _tables(db)
    assert migrate.row_counts(db)["audit_logs"] == 2
    migrate.upgrade(db)
    assert migrate.row_counts(db)["audit_pending"] == 0
