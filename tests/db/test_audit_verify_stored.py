"""`verify` hashes stored rows on a fast path; on both databases it must give exactly the verdict
of the general path (`iter_entries`, a ChainEntry per row) for rows in unusual forms too."""

import hashlib
import json

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from edc.db import DatabaseEngine
from edc.db.models import AuditAction
from edc.db.repositories import AuditLogRepository
from edc.integrity.chain import ChainEntry, Problem, verify_chain
from tamper_support import strip_guards

ROWS = 6
CULPRIT = 3  # id of the row edited


def _build(db: DatabaseEngine) -> None:
    with db.session() as s:
        repo = AuditLogRepository(s)
        for i in range(ROWS):
            repo.append(
                AuditAction.ACCESS, "test", f"entry {i}", target_id=str(i),
                details={"i": i, "note": "ünïcode", "nested": {"b": [1, None, True]}},
            )  # fmt: skip


def _details(conn: Connection, text: str) -> None:
    cast = "CAST(? AS TEXT)" if conn.dialect.name == "sqlite" else "CAST(%s AS jsonb)"
    conn.exec_driver_sql(f"UPDATE audit_logs SET details = {cast} WHERE id = {CULPRIT}", (text,))


def _rehash_raw(conn: Connection, text: str) -> None:
    """An attacker hashing the stored text as it is, not its canonical form."""
    entry, _, _ = list(AuditLogRepository(Session(bind=conn)).iter_entries())[CULPRIT - 1]
    canonical = entry.canonical_bytes().decode()
    details = json.dumps(entry.details, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    forged = hashlib.sha256(canonical.replace(details, text).encode()).hexdigest()
    _details(conn, text)
    param = "?" if conn.dialect.name == "sqlite" else "%s"
    conn.exec_driver_sql(
        f"UPDATE audit_logs SET entry_hash = {param} WHERE id = {CULPRIT}", (forged,)
    )


EDITS = {
    "float": lambda conn: _details(conn, '{"i": 2.0}'),
    "huge integer": lambda conn: _details(conn, '{"i": 9007199254740993}'),
    "not an object": lambda conn: _details(conn, "[1, 2]"),
    "same value, other spacing": lambda conn: _details(
        conn, '{ "nested" : {"b":[1,null,true]}, "note":"\\u00fcn\\u00efcode", "i" : 2 }'
    ),
    "non-canonical text hashed raw": lambda conn: _rehash_raw(
        conn, '{"i": 2, "nested": {"b": [1, null, true]}, "note": "ünïcode"}'
    ),
    "unknown action": lambda conn: conn.exec_driver_sql(
        f"UPDATE audit_logs SET action = 'bogus' WHERE id = {CULPRIT}"
    ),
}


def _edit_and_verify(db: DatabaseEngine, edit: str) -> tuple[object, object]:
    with db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            strip_guards(conn)
            if edit == "unknown action" and conn.dialect.name == "postgresql":
                checks = conn.exec_driver_sql(
                    "SELECT conname FROM pg_constraint "
                    "WHERE conrelid = 'audit_logs'::regclass AND contype = 'c'"
                ).scalars()
                for name in list(checks):
                    conn.exec_driver_sql(f'ALTER TABLE audit_logs DROP CONSTRAINT "{name}"')
            EDITS[edit](conn)
            repo = AuditLogRepository(Session(bind=conn))
            fast = repo.verify()
            # SQLAlchemy refuses to load an unknown action: iter_entries cannot read the row
            general = None if edit == "unknown action" else verify_chain(repo.iter_entries())
        finally:
            transaction.rollback()
    return fast, general


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_verdict_equals_the_general_path(db: DatabaseEngine, edit: str) -> None:
    _build(db)
    fast, general = _edit_and_verify(db, edit)
    if general is not None:
        assert fast == general
    if edit == "same value, other spacing":
        assert fast.ok, fast.message  # type: ignore[attr-defined]
    else:
        assert fast.problem is Problem.CONTENT_CHANGED, fast.message  # type: ignore[attr-defined]
        assert fast.first_bad.id == CULPRIT  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", ["sqlite"])  # SQLite's text times only
def test_sqlite_times_in_other_forms_go_the_general_way(db: DatabaseEngine) -> None:
    _build(db)
    for stored in ("2024-01-01 00:00:00", "2024-02-30 00:00:00.000000", "yesterday"):
        with db.engine.connect() as conn:
            transaction = conn.begin()
            try:
                strip_guards(conn)
                conn.exec_driver_sql(
                    f"UPDATE audit_logs SET created_at = ? WHERE id = {CULPRIT}", (stored,)
                )
                repo = AuditLogRepository(Session(bind=conn))
                fast = repo.verify()
                if stored == "2024-01-01 00:00:00":  # iter_entries cannot even load the others
                    assert fast == verify_chain(repo.iter_entries())
            finally:
                transaction.rollback()
        assert fast.problem is Problem.CONTENT_CHANGED, stored
        assert fast.first_bad is not None
        assert fast.first_bad.id == CULPRIT


def test_entry_hash_is_unchanged_through_a_round_trip(db: DatabaseEngine) -> None:
    _build(db)
    with db.session(read_only=True) as s:
        repo = AuditLogRepository(s)
        entries = list(repo.iter_entries())
        result = repo.verify()
    assert result.ok, result.message
    assert result.entries_checked == ROWS
    assert all(isinstance(entry, ChainEntry) for entry, _, _ in entries)
    assert result.head.last_hash == entries[-1][1]
