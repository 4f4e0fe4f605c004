"""Alembic environment for edc: run the revisions on a given connection, a URL, or edc's config.

`edc.db.migrate` hands in a connection (`config.attributes["connection"]`) that is already in a
transaction, so a whole upgrade commits or rolls back as one. Without one, the URL comes from
`config.attributes["url"]`, else from `edc.config.load_config()`; never from alembic.ini.

SQLite note for revision authors: a batch operation that *recreates* a table drops it, and with
foreign keys on (edc always turns them on) dropping `jobs` cascades into `artifacts`. Prefer plain
ALTERs (`recreate="never"`), as 0002 does.
"""

import warnings
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL

from edc.config.schema import DatabaseConfig
from edc.db.ddl.audit_guards_v1 import GENESIS_INDEX
from edc.db.engine import DatabaseEngine
from edc.db.models import Base
from edc.db.urls import normalize_url

# Hand-written guard objects (see edc.db.ddl): the models do not describe them, so autogenerate
# must neither propose dropping them nor warn that SQLite cannot reflect them.
GUARD_INDEXES = frozenset({GENESIS_INDEX})

config = context.config
given_metadata = config.attributes.get("target_metadata")  # pytest-alembic may hand in None
target_metadata = Base.metadata if given_metadata is None else given_metadata


def include_name(
    name: str | None,
    type_: Literal[
        "schema", "table", "column", "index", "unique_constraint", "foreign_key_constraint"
    ],
    parent_names: MutableMapping[
        Literal["schema_name", "table_name", "schema_qualified_table_name"], str | None
    ],
) -> bool:
    """Leave the guard objects out of autogenerate's comparison."""
    return not (type_ in ("index", "unique_constraint") and name in GUARD_INDEXES)


def _url() -> URL:
    given = config.attributes.get("url")
    if isinstance(given, URL):
        return given
    if given is None:
        from edc.config import load_config

        given = load_config().database.url
    return normalize_url(str(given))


def _own_engine() -> Engine:
    """An engine set up as edc's own (SQLite pragmas included), for the `alembic` command."""
    url = _url().render_as_string(hide_password=False)
    return DatabaseEngine(DatabaseConfig(url=url)).engine


def _options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "include_name": include_name,
        "compare_type": True,
        "render_as_batch": dialect_name == "sqlite",
        # SQLite and PostgreSQL both have transactional DDL: an upgrade is all or nothing.
        "transactional_ddl": True,
        "process_revision_directives": config.attributes.get("process_revision_directives"),
    }


@contextmanager
def _quiet_guard_reflection() -> Iterator[None]:
    """SQLite cannot reflect the expression index of the guards; that is expected, not news."""
    with warnings.catch_warnings():
        for name in GUARD_INDEXES:
            warnings.filterwarnings(
                "ignore", message=f"Skipped unsupported reflection of expression-based index {name}"
            )
        yield


def run_migrations_offline() -> None:
    """Write the SQL for a DBA instead of running it (`edc db upgrade --sql`)."""
    url = _url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_options(url.get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name))
    with _quiet_guard_reflection(), context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run on the handed-in connection (or engine), else on a short-lived engine of our own."""
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run_on(given)
        return
    engine = given if isinstance(given, Engine) else _own_engine()
    try:
        with engine.connect() as connection:
            _run_on(connection)
    finally:
        if engine is not given:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
