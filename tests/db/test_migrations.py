"""Migrations: the revisions against the models, upgrade/downgrade, the startup check, concurrency.

Every test runs on SQLite and PostgreSQL. `create_tables()` + stamp and `upgrade head` must give
the same schema, triggers and guard index included, and `downgrade base` must leave nothing.
"""

import io
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_alembic import tests as alembic_tests
from pytest_alembic.config import Config as PytestAlembicConfig
from pytest_alembic.runner import MigrationContext, runner
from sqlalchemy import Connection, inspect
from sqlalchemy.exc import DBAPIError

from edc.cli.context import AppContext
from edc.config import DatabaseConfig
from edc.db import DatabaseEngine, migrate
from edc.db.ddl import audit_guards_v1
from edc.db.models import Artifact, ArtifactType, AuditAction, AuditLog, Job
from edc.db.schema_state import SchemaState
from edc.errors import DatabaseUnavailableError, InputError, SchemaNotReadyError

HEAD = "0003"
ALL_REVISIONS = ["0001", "0002", "0003"]


@pytest.fixture
def db(database_url: str) -> Iterator[DatabaseEngine]:
    """An empty database: no tables, no revision (unlike conftest's `db`, made by create_tables)."""
    engine = DatabaseEngine(DatabaseConfig(url=database_url))
    yield engine
    engine.dispose()


@pytest.fixture
def alembic_runner(db: DatabaseEngine) -> Iterator[MigrationContext]:
    """pytest-alembic's runner on the packaged configuration, driven through edc's own engine."""
    config = PytestAlembicConfig(alembic_config=migrate.alembic_config(db))
    with runner(config, db.engine) as context:
        yield context


# --- pytest-alembic's standard checks -------------------------------------------------------


def test_single_head_revision(alembic_runner: MigrationContext) -> None:
    alembic_tests.test_single_head_revision(alembic_runner)
    assert alembic_runner.heads == [HEAD]


def test_upgrade(alembic_runner: MigrationContext) -> None:
    alembic_tests.test_upgrade(alembic_runner)
    assert alembic_runner.current == HEAD


def test_model_definitions_match_ddl(alembic_runner: MigrationContext) -> None:
    alembic_tests.test_model_definitions_match_ddl(alembic_runner)


def test_up_down_consistency(alembic_runner: MigrationContext) -> None:
    alembic_tests.test_up_down_consistency(alembic_runner)


# --- the schema itself ----------------------------------------------------------------------


def _schema(connection: Connection) -> dict[str, Any]:
    """Everything about the schema that matters, in a form that compares with `==`."""
    inspector = inspect(connection)
    tables: dict[str, Any] = {}
    with warnings.catch_warnings():  # SQLite cannot reflect the genesis (expression) index
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        for name in sorted(inspector.get_table_names()):
            tables[name] = {
                "columns": {
                    c["name"]: (str(c["type"]), c["nullable"], c.get("default"))
                    for c in inspector.get_columns(name)
                },
                "pk": inspector.get_pk_constraint(name),
                "fks": sorted(
                    (fk["name"], fk["constrained_columns"], fk["referred_table"], fk["options"])
                    for fk in inspector.get_foreign_keys(name)
                ),
                "unique": sorted(
                    (u["name"], u["column_names"]) for u in inspector.get_unique_constraints(name)
                ),
                "indexes": sorted(
                    (
                        i["name"],
                        i["column_names"],
                        i["unique"],
                        {k: str(v) for k, v in i.get("dialect_options", {}).items()},
                    )
                    for i in inspector.get_indexes(name)
                ),
                "checks": sorted(
                    (c["name"], c["sqltext"]) for c in inspector.get_check_constraints(name)
                ),
            }
    return {"tables": tables, "objects": _catalog(connection)}


def _catalog(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Triggers, indexes, functions and constraints as the database itself spells them."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE type IN ('index', 'trigger') ORDER BY type, name"
        )
        return {"sqlite_master": [tuple(row) for row in rows]}
    queries = {
        "triggers": "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE NOT tgisinternal ORDER BY tgname",
        "indexes": "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = 'public' ORDER BY indexname",
        "functions": "SELECT proname, pg_get_functiondef(oid) FROM pg_proc "
        "WHERE pronamespace = 'public'::regnamespace ORDER BY proname",
        "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
        "sequences": "SELECT sequence_name FROM information_schema.sequences "
        "WHERE sequence_schema = 'public' ORDER BY 1",
    }
    return {
        key: [tuple(row) for row in connection.exec_driver_sql(sql)] for key, sql in queries.items()
    }


def _read_schema(db: DatabaseEngine) -> dict[str, Any]:
    with db.begin(read_only=True) as connection:
        return _schema(connection)


def test_create_tables_and_upgrade_give_the_same_schema(db: DatabaseEngine) -> None:
    migrate.upgrade(db)
    migrated = _read_schema(db)
    migrate.downgrade(db, "base")
    assert migrate.init_schema(db) is True
    created = _read_schema(db)

    assert migrated == created
    assert migrate.current_revision(db) == HEAD
    # The comparison must have seen the guards, not two empty lists.
    objects = str(created["objects"])
    assert audit_guards_v1.GENESIS_INDEX in objects
    assert "audit_logs_no_update" in objects
    assert "ix_jobs_pending_id" in objects


def _guard_objects_left(connection: Connection) -> list[tuple[Any, ...]]:
    if connection.dialect.name == "sqlite":
        return [
            tuple(row)
            for row in connection.exec_driver_sql(
                "SELECT type, name FROM sqlite_master "
                "WHERE type IN ('index', 'trigger') AND tbl_name != 'alembic_version'"
            )
        ]
    catalog = _catalog(connection)
    return [
        *catalog["triggers"],
        *catalog["functions"],
        *catalog["sequences"],
        *[row for row in catalog["indexes"] if row[0] != "alembic_version_pkc"],
    ]


def test_downgrade_to_base_removes_everything(db: DatabaseEngine) -> None:
    migrate.upgrade(db)
    change = migrate.downgrade(db, "base")
    assert change == migrate.RevisionChange(HEAD, None)
    with db.begin(read_only=True) as connection:
        assert inspect(connection).get_table_names() == ["alembic_version"]
        assert _guard_objects_left(connection) == []
    assert migrate.read_state(db).state is SchemaState.EMPTY

    assert migrate.upgrade(db) == migrate.RevisionChange(None, HEAD)
    assert migrate.pending_revisions(db) == []


def _add_evidence(db: DatabaseEngine) -> None:
    with db.session() as session:
        job = Job(url="https://example.org/", when="2020-01-01")
        session.add(job)
        session.flush()
        session.add(Artifact(job_id=job.id, artifact_type=ArtifactType.HTML, file_path="a.html"))
        session.add(
            AuditLog(
                job_id=job.id,
                job_uuid=job.uuid,
                action=AuditAction.CREATE,
                target_type="job",
                description="created",
                entry_hash="0" * 64,
            )
        )


def _counts(db: DatabaseEngine) -> dict[str, int]:
    return migrate.row_counts(db)


def test_queue_downgrade_keeps_rows_and_guards(db: DatabaseEngine) -> None:
    """0002 -> 0001 drops three columns only: no cascade into artifacts, no lost audit link."""
    migrate.upgrade(db)
    _add_evidence(db)
    migrate.downgrade(db, "0001")
    assert migrate.current_revision(db) == "0001"
    assert _counts(db) == {"jobs": 1, "artifacts": 1, "audit_logs": 1}
    with db.begin(read_only=True) as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("jobs")}
        assert not columns & {"locked_by", "locked_until", "attempts"}
        assert connection.exec_driver_sql("SELECT job_id FROM audit_logs").scalar() is not None
    migrate.upgrade(db)
    with db.begin(read_only=True) as connection:
        assert connection.exec_driver_sql("SELECT attempts FROM jobs").scalar() == 0
    with pytest.raises(DBAPIError, match="append-only"), db.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_logs SET actor = 'mallory'")


def test_refuses_downgrade_when_rows_exist(db: DatabaseEngine) -> None:
    migrate.upgrade(db)
    _add_evidence(db)
    with pytest.raises(migrate.DataLossRefusedError, match=r"jobs holds 1 row\(s\)"):
        migrate.downgrade(db, refuse_if_rows=True)
    assert migrate.current_revision(db) == HEAD
    assert migrate.downgrade(db) == migrate.RevisionChange(HEAD, "0002")


def test_guards_work_after_upgrade(db: DatabaseEngine) -> None:
    migrate.upgrade(db)
    _add_evidence(db)
    with pytest.raises(DBAPIError), db.session() as session:  # a second genesis entry
        session.add(
            AuditLog(
                action=AuditAction.CREATE,
                target_type="job",
                description="forged",
                entry_hash="1" * 64,
                created_at=datetime.now(UTC),
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), db.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_logs")


def test_offline_sql_touches_nothing(db: DatabaseEngine, backend: str) -> None:
    out = io.StringIO()
    migrate.upgrade(db, sql=True, output=out)
    sql = out.getvalue()
    assert "CREATE TABLE jobs" in sql
    assert "CREATE TRIGGER" in sql
    assert "CREATE UNIQUE INDEX uq_audit_logs_genesis" in sql
    assert "UPDATE alembic_version SET version_num='0003'" in sql
    assert "CREATE TRIGGER audit_pending_no_" in sql
    if backend == "postgresql":
        assert "CREATE FUNCTION audit_logs_append_only()" in sql
        assert "%%" not in sql  # nothing is escaped for a DBAPI that never sees it
    down = io.StringIO()
    migrate.downgrade(db, "0002:0001", sql=True, output=down)
    assert "DROP COLUMN attempts" in down.getvalue()
    assert migrate.read_state(db).state is SchemaState.EMPTY
    with db.begin(read_only=True) as connection:
        assert inspect(connection).get_table_names() == []


# --- where a database stands, and the startup check -----------------------------------------


def test_state_empty_then_current(db: DatabaseEngine) -> None:
    state = migrate.read_state(db)
    assert (state.state, state.current, state.pending) == (
        SchemaState.EMPTY,
        None,
        ("0001", "0002", "0003"),
    )
    assert migrate.head_revision() == HEAD
    migrate.upgrade(db, "0001")
    assert migrate.pending_revisions(db) == ["0002", "0003"]
    assert migrate.read_state(db).state is SchemaState.BEHIND


def test_ensure_schema_without_create_tables_refuses_empty(db: DatabaseEngine) -> None:
    with pytest.raises(SchemaNotReadyError, match=r"has no edc schema; run `edc db upgrade`"):
        migrate.ensure_schema(db, create_tables=False)
    with db.begin(read_only=True) as connection:
        assert inspect(connection).get_table_names() == []


def test_ensure_schema_creates_empty_when_allowed(db: DatabaseEngine) -> None:
    migrate.ensure_schema(db, create_tables=True)
    assert migrate.current_revision(db) == HEAD
    migrate.ensure_schema(db, create_tables=False)  # at head: nothing to do
    assert migrate.init_schema(db) is False


@pytest.mark.parametrize("create_tables", [True, False])
def test_ensure_schema_behind_head(db: DatabaseEngine, create_tables: bool) -> None:
    migrate.upgrade(db, "0001")
    message = r"at revision 0001 but this edc needs 0003; run `edc db upgrade`"
    with pytest.raises(SchemaNotReadyError, match=message):
        migrate.ensure_schema(db, create_tables=create_tables)
    with pytest.raises(SchemaNotReadyError, match=message):
        migrate.init_schema(db)


def test_unknown_newer_revision(db: DatabaseEngine) -> None:
    migrate.upgrade(db)
    with db.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    assert migrate.read_state(db).state is SchemaState.UNKNOWN
    with pytest.raises(SchemaNotReadyError, match="revision 9999, which this edc"):
        migrate.ensure_schema(db, create_tables=True)
    with pytest.raises(SchemaNotReadyError, match="newer edc"):
        migrate.upgrade(db)


def test_tables_without_history_are_not_managed(db: DatabaseEngine) -> None:
    db.create_tables()
    with pytest.raises(SchemaNotReadyError, match="not an edc-managed schema"):
        migrate.ensure_schema(db, create_tables=True)
    with pytest.raises(SchemaNotReadyError, match="not an edc-managed schema"):
        migrate.upgrade(db)
    with pytest.raises(SchemaNotReadyError, match="not an edc-managed schema"):
        migrate.init_schema(db)


def test_stamp_adopts_tables_made_by_create_tables(db: DatabaseEngine) -> None:
    db.create_tables()
    migrate.stamp(db, "head")
    assert migrate.read_state(db).state is SchemaState.CURRENT
    assert migrate.downgrade(db, "base") == migrate.RevisionChange(HEAD, None)


def test_bad_revisions_are_input_errors(db: DatabaseEngine) -> None:
    with pytest.raises(InputError, match="Can't locate revision"):
        migrate.upgrade(db, "nope")
    with pytest.raises(InputError, match="nothing to downgrade"):
        migrate.downgrade(db)
    migrate.upgrade(db)
    with pytest.raises(InputError, match="cannot migrate"):
        migrate.downgrade(db, "-5")
    assert migrate.current_revision(db) == HEAD


def test_app_context_ready_database(database_url: str) -> None:
    strict = AppContext(overrides={"database": {"url": database_url, "create_tables": False}})
    try:
        with pytest.raises(SchemaNotReadyError, match=r"run `edc db upgrade`"):
            strict.ready_database()
        assert strict.database() is strict.database()
    finally:
        strict.close()

    relaxed = AppContext(overrides={"database": {"url": database_url}})
    try:
        db = relaxed.ready_database()
        assert migrate.current_revision(db) == HEAD
    finally:
        relaxed.close()

    behind = AppContext(overrides={"database": {"url": database_url}})
    try:
        migrate.downgrade(behind.database())
        with pytest.raises(SchemaNotReadyError, match="at revision 0002"):
            behind.ready_database()
    finally:
        behind.close()


def test_unreachable_database_is_one_clear_error() -> None:
    db = DatabaseEngine(DatabaseConfig(url="postgresql://u:S3ntinel-pw@127.0.0.1:1/x"))
    for call in (migrate.read_state, migrate.upgrade, lambda d: migrate.ensure_schema(d, True)):
        with pytest.raises(DatabaseUnavailableError) as info:
            call(db)
        assert "S3ntinel-pw" not in str(info.value)
        assert "postgresql+psycopg://u:***@127.0.0.1:1/x" in str(info.value)


# --- many processes at once -----------------------------------------------------------------

_ENSURE = textwrap.dedent(
    """
    import sys, time
    from edc.config import DatabaseConfig
    from edc.db import DatabaseEngine, migrate
    db = DatabaseEngine(DatabaseConfig(url=sys.argv[1]))
    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
    migrate.ensure_schema(db, create_tables=True)
    db.dispose()
    """
)


def test_concurrent_ensure_schema_creates_once(db: DatabaseEngine, database_url: str) -> None:
    start_at = time.time() + 3
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _ENSURE, database_url, str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in processes]
    assert [r[0] for r in results] == [0] * 8, results
    with db.begin(read_only=True) as connection:
        versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        assert [tuple(v) for v in versions] == [(HEAD,)]
    assert migrate.read_state(db).tables == ("jobs", "artifacts", "audit_logs", "audit_pending")
