"""Where a database's schema stands against this edc's migrations, and what to tell a person.

Read from one connection: the revision in `alembic_version` and which of edc's tables exist,
classified into a `SchemaState` so that callers decide with one `match`, not ad-hoc checks.
"""

from dataclasses import dataclass
from enum import StrEnum

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from edc.errors import SchemaNotReadyError

EDC_TABLES = ("jobs", "artifacts", "audit_logs", "audit_pending")


class SchemaState(StrEnum):
    """How a database's schema relates to this edc's head revision."""

    EMPTY = "empty"  # none of edc's tables and no revision: `edc db init` / `upgrade` may create
    CURRENT = "current"  # at this edc's head revision
    BEHIND = "behind"  # an older revision: `edc db upgrade` brings it forward
    UNKNOWN = "unknown"  # a revision this edc does not know: a newer edc migrated it
    UNMANAGED = "unmanaged"  # edc's tables but no revision: not made by `edc db init`/`upgrade`


@dataclass(frozen=True)
class SchemaSnapshot:
    """One reading of a database's schema state."""

    current: str | None
    head: str
    pending: tuple[str, ...]
    tables: tuple[str, ...]
    state: SchemaState


def read_schema(connection: Connection, script: ScriptDirectory) -> SchemaSnapshot:
    """Read the revision and edc's tables through `connection` and classify them."""
    current = MigrationContext.configure(connection).get_current_revision()
    existing = set(inspect(connection).get_table_names())
    return classify(current, tuple(name for name in EDC_TABLES if name in existing), script)


def classify(
    current: str | None, tables: tuple[str, ...], script: ScriptDirectory
) -> SchemaSnapshot:
    """The snapshot for a database at revision `current` holding edc's `tables`."""
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("edc ships no migrations")
    known = {rev.revision for rev in script.walk_revisions()}
    if current is None:
        state = SchemaState.UNMANAGED if tables else SchemaState.EMPTY
    elif current == head:
        state = SchemaState.CURRENT
    elif current in known:
        state = SchemaState.BEHIND
    else:
        state = SchemaState.UNKNOWN
    pending: tuple[str, ...] = ()
    if state in (SchemaState.EMPTY, SchemaState.BEHIND):
        steps = script.iterate_revisions(head, current or "base")
        pending = tuple(reversed([step.revision for step in steps]))
    return SchemaSnapshot(current, head, pending, tables, state)


def schema_error(snapshot: SchemaSnapshot, masked_url: str) -> SchemaNotReadyError:
    """The one sentence that tells a person why the schema cannot be used and what to do."""
    current, head = snapshot.current, snapshot.head
    match snapshot.state:
        case SchemaState.EMPTY:
            text = f"database {masked_url} has no edc schema; run `edc db upgrade`"
        case SchemaState.BEHIND:
            text = (
                f"database {masked_url} schema is at revision {current} but this edc needs "
                f"{head}; run `edc db upgrade`"
            )
        case SchemaState.UNKNOWN:
            text = (
                f"database {masked_url} schema is at revision {current}, which this edc "
                f"(head {head}) does not know: a newer edc migrated it; use that edc"
            )
        case SchemaState.UNMANAGED:
            text = (
                f"database {masked_url} has edc tables ({', '.join(snapshot.tables)}) but no "
                "migration history: it is not an edc-managed schema; use an empty database "
                "or move those tables aside"
            )
        case _:  # pragma: no cover - CURRENT is never an error
            text = f"database {masked_url} schema is current"
    return SchemaNotReadyError(text)
