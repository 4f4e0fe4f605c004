"""Schema migrations from Python: upgrade, downgrade, stamp, status and the startup check.

Used by the `edc db` commands and by tests; works from any directory and from an installed wheel
(alembic.ini and the revisions are package resources). Every change runs in one transaction on a
connection handed to Alembic, serialized against other edc processes: SQLite's `BEGIN IMMEDIATE`
write lock, PostgreSQL's transaction-scoped advisory lock.
"""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from typing import Any, NamedTuple, TextIO

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import Connection, func, select, table, text
from sqlalchemy.exc import InterfaceError, OperationalError

from edc.db.engine import DatabaseEngine
from edc.db.schema_state import SchemaSnapshot, SchemaState, read_schema, schema_error
from edc.errors import InputError

# pg_advisory_xact_lock key ("edc-sche" in ASCII) that serializes schema changes on PostgreSQL.
SCHEMA_LOCK_KEY = 0x6564_632D_7363_6865


class RevisionChange(NamedTuple):
    """The revision before and after an upgrade or downgrade (None: no revision, no schema)."""

    before: str | None
    after: str | None


class DataLossRefusedError(InputError):
    """A downgrade was refused because edc's tables hold rows it may drop."""


def alembic_config(
    db: DatabaseEngine, connection: Connection | None = None, output: TextIO | None = None
) -> Config:
    """The packaged Alembic configuration, pointed at `db` (and at `connection` when given)."""
    config = _packaged_config(output)
    config.attributes["url"] = db.url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _packaged_config(output: TextIO | None = None) -> Config:
    ini = resources.files("edc.db") / "migrations" / "alembic.ini"
    with resources.as_file(ini) as path:
        config = Config(path, output_buffer=output, stdout=output or sys.stdout)
        config.file_config  # noqa: B018 - read it now: `path` may be a temporary copy
    return config


@cache
def script_directory() -> ScriptDirectory:
    """The packaged revisions (parsed once per process)."""
    return ScriptDirectory.from_config(_packaged_config())


def head_revision() -> str:
    """The newest revision this edc knows."""
    head = script_directory().get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("edc ships no migrations")
    return head


def read_state(db: DatabaseEngine) -> SchemaSnapshot:
    """Read where the database's schema stands, from one consistent snapshot.

    SQLite's read transaction is one snapshot already; PostgreSQL's default (READ COMMITTED)
    would let a schema committed between two catalog queries look half made.
    """
    with _connected(db, read_only=True) as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return read_schema(connection, script_directory())


def current_revision(db: DatabaseEngine) -> str | None:
    """The database's revision, or None when it has none."""
    return read_state(db).current


def pending_revisions(db: DatabaseEngine) -> list[str]:
    """Revisions an upgrade to head would apply, oldest first."""
    return list(read_state(db).pending)


def upgrade(
    db: DatabaseEngine, revision: str = "head", sql: bool = False, output: TextIO | None = None
) -> RevisionChange:
    """Upgrade to `revision`; with `sql`, write the SQL to `output` (stdout) and touch nothing."""
    if sql:
        _alembic(command.upgrade, alembic_config(db, output=output or sys.stdout), revision, True)
        return RevisionChange(None, None)
    with _schema_lock(db) as connection:
        before = _usable(db, connection).current
        _alembic(command.upgrade, alembic_config(db, connection), revision)
        return RevisionChange(before, read_schema(connection, script_directory()).current)


def downgrade(
    db: DatabaseEngine,
    revision: str = "-1",
    sql: bool = False,
    output: TextIO | None = None,
    *,
    refuse_if_rows: bool = False,
) -> RevisionChange:
    """Downgrade to `revision` (default one step); `refuse_if_rows` protects existing data.

    With `sql`, `revision` must be a range `FROM:TO` and the SQL goes to `output` (stdout).
    """
    if sql:
        _alembic(command.downgrade, alembic_config(db, output=output or sys.stdout), revision, True)
        return RevisionChange(None, None)
    with _schema_lock(db) as connection:
        snapshot = _usable(db, connection)
        if snapshot.current is None:
            raise InputError(f"database {db.masked_url} has no edc schema: nothing to downgrade")
        if refuse_if_rows:
            _refuse_if_rows(db, connection, snapshot, revision)
        _alembic(command.downgrade, alembic_config(db, connection), revision)
        return RevisionChange(snapshot.current, read_schema(connection, script_directory()).current)


def stamp(db: DatabaseEngine, revision: str) -> None:
    """Record `revision` as the database's revision without running any migration."""
    with _schema_lock(db) as connection:
        _alembic(command.stamp, alembic_config(db, connection), revision)


def init_schema(db: DatabaseEngine) -> bool:
    """Create every table and guard from the models and stamp head; False if already current.

    A later `upgrade` is then a no-op. Other states (behind, unmanaged, ...) are errors.
    """
    with _schema_lock(db) as connection:
        snapshot = read_schema(connection, script_directory())
        if snapshot.state is SchemaState.CURRENT:
            return False
        if snapshot.state is not SchemaState.EMPTY:
            raise schema_error(snapshot, db.masked_url)
        _create_and_stamp(db, connection)
        return True


def ensure_schema(db: DatabaseEngine, create_tables: bool) -> None:
    """Make sure the schema is at head before a command uses it.

    An empty database gets the schema when `create_tables` is true (as `edc db init` would);
    anything else that is not current is a SchemaNotReadyError saying what to run. Safe when many
    processes start at once: the check is repeated under the schema lock before creating.
    """
    snapshot = read_state(db)
    if snapshot.state is SchemaState.CURRENT:
        return
    if snapshot.state is not SchemaState.EMPTY or not create_tables:
        raise schema_error(snapshot, db.masked_url)
    init_schema(db)


def row_counts(db: DatabaseEngine) -> dict[str, int]:
    """Rows in each of edc's tables that exist."""
    with _connected(db, read_only=True) as connection:
        return _row_counts(connection, read_schema(connection, script_directory()).tables)


def _row_counts(connection: Connection, tables: tuple[str, ...]) -> dict[str, int]:
    return {
        name: int(connection.execute(select(func.count()).select_from(table(name))).scalar_one())
        for name in tables
    }


def _refuse_if_rows(
    db: DatabaseEngine, connection: Connection, snapshot: SchemaSnapshot, target: str
) -> None:
    counts = {n: c for n, c in _row_counts(connection, snapshot.tables).items() if c}
    if counts:
        held = ", ".join(f"{name} holds {count} row(s)" for name, count in counts.items())
        raise DataLossRefusedError(
            f"refusing to downgrade database {db.masked_url} from revision {snapshot.current} "
            f"(to {target}): {held}, and a downgrade may drop tables or columns; "
            "back the database up, then pass --yes"
        )


def _create_and_stamp(db: DatabaseEngine, connection: Connection) -> None:
    from edc.db.models import Base

    Base.metadata.create_all(connection)
    _alembic(command.stamp, alembic_config(db, connection), "head")


def _usable(db: DatabaseEngine, connection: Connection) -> SchemaSnapshot:
    """The schema state, unless Alembic cannot work on it (unmanaged tables, unknown revision)."""
    snapshot = read_schema(connection, script_directory())
    if snapshot.state in (SchemaState.UNMANAGED, SchemaState.UNKNOWN):
        raise schema_error(snapshot, db.masked_url)
    return snapshot


def _alembic(operation: Callable[..., Any], config: Config, *args: Any) -> None:
    """Run an Alembic command; a bad revision name becomes one sentence for a person."""
    try:
        operation(config, *args)
    except (CommandError, RevisionError) as exc:
        raise InputError(f"cannot migrate: {exc}") from None


@contextmanager
def _connected(db: DatabaseEngine, *, read_only: bool = False) -> Iterator[Connection]:
    """A transaction on `db`; a connection lost or refused midway is DatabaseUnavailableError."""
    try:
        with db.begin(read_only=read_only) as connection:
            yield connection
    except (OperationalError, InterfaceError) as exc:
        raise db.unavailable(exc) from None


@contextmanager
def _schema_lock(db: DatabaseEngine) -> Iterator[Connection]:
    """A write transaction that no other edc process can be changing the schema beside."""
    with _connected(db) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        yield connection
