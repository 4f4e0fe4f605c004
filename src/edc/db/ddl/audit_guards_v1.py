"""Version 1 of the audit-log guards: append-only triggers and the single-genesis index.

- UPDATE and DELETE on `audit_logs` are refused (TRUNCATE too on PostgreSQL), except the one
  update that `ON DELETE SET NULL` makes when a job is deleted: `job_id` becomes NULL, the job
  it named no longer exists, and nothing else changes.
- At most one entry may claim to be the first (`previous_hash IS NULL`); the unique constraint
  on `previous_hash` covers every other entry.
"""

from sqlalchemy import Connection

APPEND_ONLY_MESSAGE = "audit_logs is append-only"
GENESIS_INDEX = "uq_audit_logs_genesis"

# The columns that must stay unchanged when ON DELETE SET NULL touches a row.
_FROZEN_COLUMNS = (
    "id", "uuid", "created_at", "updated_at", "job_uuid", "action", "actor", "target_type",
    "target_id", "description", "details", "ip_address", "user_agent", "previous_hash",
    "entry_hash",
)  # fmt: skip

_SQLITE_UNCHANGED = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _FROZEN_COLUMNS)

SQLITE_CREATE = (
    f"CREATE UNIQUE INDEX {GENESIS_INDEX} ON audit_logs ((previous_hash IS NULL)) "
    "WHERE previous_hash IS NULL",
    "CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs "
    "WHEN NOT (OLD.job_id IS NOT NULL AND NEW.job_id IS NULL "
    f"AND NOT EXISTS (SELECT 1 FROM jobs WHERE id = OLD.job_id) AND {_SQLITE_UNCHANGED}) "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: UPDATE refused'); END",
    "CREATE TRIGGER audit_logs_no_delete BEFORE DELETE ON audit_logs "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: DELETE refused'); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS audit_logs_no_delete",
    "DROP TRIGGER IF EXISTS audit_logs_no_update",
    f"DROP INDEX IF EXISTS {GENESIS_INDEX}",
)

POSTGRESQL_CREATE = (
    f"CREATE UNIQUE INDEX {GENESIS_INDEX} ON audit_logs ((previous_hash IS NULL)) "
    "WHERE previous_hash IS NULL",
    f"""CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.job_id IS NOT NULL AND NEW.job_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM jobs WHERE id = OLD.job_id)
           AND (to_jsonb(NEW) - 'job_id') = (to_jsonb(OLD) - 'job_id') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION USING MESSAGE = '{APPEND_ONLY_MESSAGE}: ' || TG_OP || ' refused',
        ERRCODE = 'integrity_constraint_violation';
END
$$""",
    "CREATE TRIGGER audit_logs_no_update_delete BEFORE UPDATE OR DELETE ON audit_logs "
    "FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only()",
    "CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS audit_logs_no_truncate ON audit_logs",
    "DROP TRIGGER IF EXISTS audit_logs_no_update_delete ON audit_logs",
    "DROP FUNCTION IF EXISTS audit_logs_append_only()",
    f"DROP INDEX IF EXISTS {GENESIS_INDEX}",
)


def _statements(connection: Connection, create: bool) -> tuple[str, ...]:
    name = connection.dialect.name
    if name == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    if name == "postgresql":
        return POSTGRESQL_CREATE if create else POSTGRESQL_DROP
    raise NotImplementedError(f"audit-log guards are not written for {name}")


def create(connection: Connection) -> None:
    """Install the guards on a connection whose `audit_logs` table exists."""
    for statement in _statements(connection, create=True):
        connection.exec_driver_sql(statement)


def drop(connection: Connection) -> None:
    """Remove the guards (before dropping `audit_logs`, or to downgrade)."""
    for statement in _statements(connection, create=False):
        connection.exec_driver_sql(statement)
