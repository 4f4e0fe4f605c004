"""Version 1 of the audit_pending guards: events wait here unchanged until sealed into the chain.

- UPDATE on `audit_pending` is refused, except the `job_id` -> NULL that `ON DELETE SET NULL`
  makes when a job is deleted (the same exception as `audit_logs`).
- DELETE is refused unless the event is already in `audit_logs` (same uuid): only sealing,
  which inserts the chained entry first in the same transaction, can remove a pending event.
- TRUNCATE is refused on PostgreSQL.
"""

from sqlalchemy import Connection

PENDING_GUARD_MESSAGE = "audit_pending events leave only by sealing"

# The columns that must stay unchanged when ON DELETE SET NULL touches a row.
_FROZEN_COLUMNS = (
    "id", "uuid", "created_at", "job_uuid", "action", "actor", "target_type", "target_id",
    "description", "details", "ip_address", "user_agent",
)  # fmt: skip

_SQLITE_UNCHANGED = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _FROZEN_COLUMNS)

SQLITE_CREATE = (
    "CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending "
    "WHEN NOT (OLD.job_id IS NOT NULL AND NEW.job_id IS NULL "
    f"AND NOT EXISTS (SELECT 1 FROM jobs WHERE id = OLD.job_id) AND {_SQLITE_UNCHANGED}) "
    f"BEGIN SELECT RAISE(ABORT, '{PENDING_GUARD_MESSAGE}: UPDATE refused'); END",
    "CREATE TRIGGER audit_pending_no_delete BEFORE DELETE ON audit_pending "
    "WHEN NOT EXISTS (SELECT 1 FROM audit_logs WHERE uuid = OLD.uuid) "
    f"BEGIN SELECT RAISE(ABORT, '{PENDING_GUARD_MESSAGE}: DELETE of an unsealed event refused'); "
    "END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS audit_pending_no_delete",
    "DROP TRIGGER IF EXISTS audit_pending_no_update",
)

POSTGRESQL_CREATE = (
    f"""CREATE FUNCTION audit_pending_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.job_id IS NOT NULL AND NEW.job_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM jobs WHERE id = OLD.job_id)
           AND (to_jsonb(NEW) - 'job_id') = (to_jsonb(OLD) - 'job_id') THEN
            RETURN NEW;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM audit_logs WHERE uuid = OLD.uuid) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION USING
            MESSAGE = '{PENDING_GUARD_MESSAGE}: DELETE of an unsealed event refused',
            ERRCODE = 'integrity_constraint_violation';
    END IF;
    RAISE EXCEPTION USING MESSAGE = '{PENDING_GUARD_MESSAGE}: ' || TG_OP || ' refused',
        ERRCODE = 'integrity_constraint_violation';
END
$$""",
    "CREATE TRIGGER audit_pending_no_update_delete BEFORE UPDATE OR DELETE ON audit_pending "
    "FOR EACH ROW EXECUTE FUNCTION audit_pending_guard()",
    "CREATE TRIGGER audit_pending_no_truncate BEFORE TRUNCATE ON audit_pending "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_pending_guard()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS audit_pending_no_truncate ON audit_pending",
    "DROP TRIGGER IF EXISTS audit_pending_no_update_delete ON audit_pending",
    "DROP FUNCTION IF EXISTS audit_pending_guard()",
)


def statements(dialect: str, create: bool) -> tuple[str, ...]:
    """The DDL that installs (or removes) the guards on `dialect`."""
    if dialect == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    if dialect == "postgresql":
        return POSTGRESQL_CREATE if create else POSTGRESQL_DROP
    raise NotImplementedError(f"audit_pending guards are not written for {dialect}")


def create(connection: Connection) -> None:
    """Install the guards on a connection whose `audit_pending` table exists."""
    for statement in statements(connection.dialect.name, create=True):
        connection.exec_driver_sql(statement)


def drop(connection: Connection) -> None:
    """Remove the guards (before dropping `audit_pending`)."""
    for statement in statements(connection.dialect.name, create=False):
        connection.exec_driver_sql(statement)
