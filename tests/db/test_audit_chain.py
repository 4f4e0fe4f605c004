"""The audit chain as stored, on SQLite and PostgreSQL: golden hashes, and every manipulation
done with raw SQL (guards removed) is found and named."""

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from edc.db import DatabaseEngine
from edc.db.models import AuditAction
from edc.db.repositories import AuditLogRepository
from edc.integrity.chain import ChainEntry, Problem
from tamper_support import AUDIT, MANIPULATIONS, Manipulation, rows, strip_guards

CHAIN_LENGTH = 12

# Golden vector: a fixed entry and the hash it must have, on every database, forever.
GOLDEN = ChainEntry(
    uuid="0190f3a2-7b4c-7d5e-8f60-1a2b3c4d5e6f",
    created_at=datetime(2025, 3, 14, 15, 9, 26, 535897, tzinfo=UTC),
    action="verify",
    actor="auditor@example.org",
    target_type="audit_log",
    target_id=None,
    description="Prüfung der Kette — 12 Einträge",
    details={"entries": 12, "ok": True, "checkpoint": {"count": 12, "last_id": 12}},
    ip_address="198.51.100.7",
    user_agent="edc/0.1.0",
    job_uuid=None,
    previous_hash=None,
)
# Computed independently: sha256 of json.dumps(fields, sort_keys=True, ensure_ascii=False,
# separators=(",", ":")), which equals RFC 8785 for these ASCII member names.
GOLDEN_HASH = "66b7808973ee12baa00e75e4defdfeae91c91836f363b4675663eba67a19883b"


def build_chain(db: DatabaseEngine, length: int = CHAIN_LENGTH) -> None:
    for i in range(length):
        with db.session() as s:
            AuditLogRepository(s).append(
                AuditAction.ACCESS, "test", f"entry {i}", target_id=str(i), details={"i": i}
            )


def test_golden_entry_hashes_the_same_after_a_round_trip(db: DatabaseEngine) -> None:
    assert GOLDEN.compute_hash() == GOLDEN_HASH
    with db.begin() as conn:
        conn.execute(
            insert(AUDIT).values(
                uuid=GOLDEN.uuid, created_at=GOLDEN.created_at, updated_at=GOLDEN.created_at,
                action=AuditAction.VERIFY, actor=GOLDEN.actor, target_type=GOLDEN.target_type,
                description=GOLDEN.description, details=GOLDEN.details,
                ip_address=GOLDEN.ip_address, user_agent=GOLDEN.user_agent,
                previous_hash=None, entry_hash=GOLDEN_HASH,
            )
        )  # fmt: skip
    with db.session(read_only=True) as s:
        ((entry, stored, _ref),) = list(AuditLogRepository(s).iter_entries())
        result = AuditLogRepository(s).verify()
    assert entry == GOLDEN
    assert stored == GOLDEN_HASH
    assert result.ok, result.message
    assert result.head.last_hash == GOLDEN_HASH


@pytest.mark.parametrize("manipulation", MANIPULATIONS, ids=lambda m: m.name)
def test_manipulation_is_named(db: DatabaseEngine, manipulation: Manipulation) -> None:
    build_chain(db)
    check_manipulation(db, manipulation, 5)


def check_manipulation(db: DatabaseEngine, manipulation: Manipulation, k: int) -> None:
    """Apply inside a transaction, verify through the repository, then roll it all back."""
    with db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            strip_guards(conn)
            culprit = manipulation.apply(conn, k)
            result = AuditLogRepository(Session(bind=conn)).verify()
        finally:
            transaction.rollback()
    assert not result.ok, f"{manipulation.name} at {k} went undetected"
    assert result.problem is manipulation.problem, result.message
    assert result.first_bad is not None
    assert result.first_bad.uuid == culprit, result.message
    assert culprit in result.message


def test_truncated_tail_found_against_checkpoint(db: DatabaseEngine) -> None:
    build_chain(db)
    with db.session(read_only=True) as s:
        checkpoint = AuditLogRepository(s).head()
    with db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            strip_guards(conn)
            chain = rows(conn)
            conn.execute(delete(AUDIT).where(AUDIT.c.id >= chain[-3].id))
            repo = AuditLogRepository(Session(bind=conn))
            without = repo.verify()
            against = repo.verify(checkpoint)
        finally:
            transaction.rollback()
    assert without.ok  # a cut tail is invisible to the chain alone ...
    assert not against.ok  # ... but not to a checkpoint kept elsewhere
    assert against.problem is Problem.TAIL_MISSING
    assert against.first_bad is not None
    assert against.first_bad.uuid == chain[-4].uuid


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_generated_manipulations_never_go_undetected(
    db: DatabaseEngine, data: st.DataObject
) -> None:
    with db.session(read_only=True) as s:
        empty = AuditLogRepository(s).head().count == 0
    if empty:
        build_chain(db)
    manipulation = data.draw(st.sampled_from(MANIPULATIONS), label="manipulation")
    k = data.draw(st.integers(min_value=1, max_value=CHAIN_LENGTH - 3), label="entry")
    check_manipulation(db, manipulation, k)
