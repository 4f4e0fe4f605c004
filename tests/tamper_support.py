"""Manipulations of a stored audit chain, done the way an attacker with database access would:
raw SQL with the append-only guards removed. Used by the tamper tests of both backends."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from edc.db.ddl import audit_guards_v1, audit_pending_guards_v1
from edc.db.ids import new_uuid
from edc.db.models import AuditLog
from edc.db.models.base import table_of
from edc.integrity.chain import ChainEntry, Problem

AUDIT = table_of(AuditLog)
ONE_MICROSECOND = timedelta(microseconds=1)


def strip_guards(conn: Connection) -> None:
    """Remove triggers and uniqueness so that any manipulation goes through."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_logs DISABLE TRIGGER USER")
        conn.exec_driver_sql("ALTER TABLE audit_logs DROP CONSTRAINT uq_audit_logs_previous_hash")
        conn.exec_driver_sql(f"DROP INDEX {audit_guards_v1.GENESIS_INDEX}")
        return
    audit_guards_v1.drop(conn)
    audit_pending_guards_v1.drop(conn)  # its DELETE guard names audit_logs, which is rebuilt
    # SQLite cannot drop a table constraint: rebuild the table without it, keeping the rows.
    conn.exec_driver_sql("CREATE TABLE audit_copy AS SELECT * FROM audit_logs")
    conn.exec_driver_sql("DROP TABLE audit_logs")
    conn.exec_driver_sql("ALTER TABLE audit_copy RENAME TO audit_logs")


def rows(conn: Connection) -> list[Any]:
    return list(conn.execute(select(AUDIT).order_by(AUDIT.c.id)))


def shift_ids(conn: Connection, after_id: int, by: int) -> None:
    """Renumber every entry with id > after_id by `by`, without colliding on the way."""
    conn.execute(update(AUDIT).where(AUDIT.c.id > after_id).values(id=-AUDIT.c.id))
    conn.execute(update(AUDIT).where(AUDIT.c.id < 0).values(id=-AUDIT.c.id + by))


def forge_after(conn: Connection, k: int) -> str:
    """Insert a well-formed entry (correct hash) right after entry k; return its uuid."""
    chain = rows(conn)
    base = chain[k]
    shift_ids(conn, base.id, 1)
    entry = ChainEntry(
        uuid=new_uuid(), created_at=base.created_at + timedelta(microseconds=1),
        action="delete", actor="intruder", target_type="job", target_id=None,
        description="forged", details={}, ip_address=None, user_agent=None,
        job_uuid=None, previous_hash=base.entry_hash,
    )  # fmt: skip
    conn.execute(
        insert(AUDIT).values(
            id=base.id + 1, uuid=entry.uuid, created_at=entry.created_at,
            updated_at=entry.created_at, action="delete", actor="intruder", target_type="job",
            description="forged", details={}, previous_hash=base.entry_hash,
            entry_hash=entry.compute_hash(),
        )
    )  # fmt: skip
    return entry.uuid


@dataclass(frozen=True)
class Manipulation:
    """A change to entry k of the chain and the finding it must produce (problem, whose uuid)."""

    name: str
    apply: Callable[[Connection, int], str | None]
    problem: Problem


def _set(column: str, value: Callable[[Any], Any]) -> Callable[[Connection, int], str]:
    def apply(conn: Connection, k: int) -> str:
        row = rows(conn)[k]
        conn.execute(update(AUDIT).where(AUDIT.c.id == row.id).values({column: value(row)}))
        return str(row.uuid)

    return apply


def _delete(conn: Connection, k: int) -> str:
    chain = rows(conn)
    conn.execute(delete(AUDIT).where(AUDIT.c.id == chain[k].id))
    return str(chain[k + 1].uuid)  # the entry after the gap is the first that no longer fits


def _swap(conn: Connection, k: int) -> str:
    chain = rows(conn)
    a, b = chain[k].id, chain[k + 1].id
    conn.execute(update(AUDIT).where(AUDIT.c.id == a).values(id=-1))
    conn.execute(update(AUDIT).where(AUDIT.c.id == b).values(id=a))
    conn.execute(update(AUDIT).where(AUDIT.c.id == -1).values(id=b))
    return str(chain[k + 1].uuid)  # now in position k, it links to an entry that comes later


MANIPULATIONS = [
    Manipulation("description", _set("description", lambda r: r.description + " (edited)"),
                 Problem.CONTENT_CHANGED),
    Manipulation("details", _set("details", lambda r: {**r.details, "forged": 1}),
                 Problem.CONTENT_CHANGED),
    Manipulation("timestamp", _set("created_at", lambda r: r.created_at + ONE_MICROSECOND),
                 Problem.CONTENT_CHANGED),
    Manipulation("actor", _set("actor", lambda r: "someone else"), Problem.CONTENT_CHANGED),
    Manipulation("delete", _delete, Problem.ENTRY_MISSING),
    Manipulation("swap", _swap, Problem.ORDER_CHANGED),
    Manipulation("forge", forge_after, Problem.ENTRY_INSERTED),
]  # fmt: skip
