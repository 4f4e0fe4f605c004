"""DatabaseEngine: one engine per configuration, sessions as units of work, SQLite set up right.

SQLite connections get foreign keys (cascades depend on them), WAL, a busy timeout and
`BEGIN IMMEDIATE` for write transactions: pysqlite's deferred BEGIN turns read-then-write races
into instant "database is locked" errors that no busy timeout can help. PostgreSQL connections
come from a pre-pinged, recycled pool and use psycopg 3.
"""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from edc.config.schema import DatabaseConfig, EDCConfig
from edc.config.secrets import scrub
from edc.db.driver import driver_errors
from edc.db.urls import is_sqlite_memory, normalize_url
from edc.errors import DatabaseUnavailableError

SQLITE_BUSY_TIMEOUT_MS = 60_000
SQLITE_CACHE_KIB = 65_536
POSTGRES_CONNECT_TIMEOUT_S = 10
READ_ONLY_OPTION = "edc_read_only"


def _enable_wal(cursor: Any) -> None:
    """Switch a file database to WAL, retrying while another process does the same.

    On a brand-new file the switch needs an exclusive lock and SQLite does not apply the busy
    timeout to it, so several processes opening the file at once would fail at once.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "readonly" in str(exc):
                return  # read-only media: keep the file's journal mode; reading still works
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


class DatabaseEngine:
    """Database engine manager with connection pooling."""

    def __init__(self, config: EDCConfig | DatabaseConfig) -> None:
        self.config = config.database if isinstance(config, EDCConfig) else config
        self.url: URL = normalize_url(self.config.url)
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._read_sessions: sessionmaker[Session] | None = None

    @property
    def masked_url(self) -> str:
        """The URL with its password replaced by `***`, safe for any output."""
        return self.url.render_as_string(hide_password=True)

    @property
    def dialect_name(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.url.get_backend_name()

    @property
    def engine(self) -> Engine:
        """Lazy-initialize database engine."""
        if self._engine is None:
            self._engine = self._create_engine()
        return self._engine

    def _create_engine(self) -> Engine:
        if self.dialect_name == "sqlite":
            return self._create_sqlite_engine()
        return create_engine(
            self.url,
            echo=self.config.echo,
            pool_size=self.config.pool_size,
            pool_recycle=self.config.pool_recycle,
            pool_pre_ping=True,
            connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
        )

    def _create_sqlite_engine(self) -> Engine:
        memory = is_sqlite_memory(self.url)
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if memory:
            kwargs["poolclass"] = StaticPool  # one shared connection: one shared database
        engine = create_engine(self.url, echo=self.config.echo, **kwargs)

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # edc issues BEGIN itself, below
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                _enable_wal(cursor)
            # FULL: a committed audit entry survives power loss, not only a killed process.
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
            # straight to the driver: statement execution through SQLAlchemy costs more than
            # the BEGIN itself, once per transaction
            with driver_errors(connection.dialect):
                connection.connection.driver_connection.execute(  # type: ignore[union-attr]
                    "BEGIN" if read_only else "BEGIN IMMEDIATE"
                )

        return engine

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A unit of work: commit on success, rollback on any exception.

        Write sessions take SQLite's write lock at the start; `read_only=True` sessions do not
        block writers (and are meant for listings and verification). Objects stay readable
        after the block as a snapshot of what was committed (no expiry on commit).
        """
        if self._sessions is None or self._read_sessions is None:
            self._sessions = sessionmaker(bind=self.engine, autoflush=False, expire_on_commit=False)
            read_engine = self.engine.execution_options(**{READ_ONLY_OPTION: True})
            self._read_sessions = sessionmaker(
                bind=read_engine, autoflush=False, expire_on_commit=False
            )
        session = (self._read_sessions if read_only else self._sessions)()
        try:
            self._translate_connect_errors(session.connection)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def begin(self, *, read_only: bool = False) -> Iterator[Connection]:
        """A Core connection in a transaction, for bulk paths that skip the ORM."""
        engine = self.engine
        if read_only:
            engine = engine.execution_options(**{READ_ONLY_OPTION: True})
        connection = self._translate_connect_errors(engine.connect)
        try:
            self._translate_connect_errors(connection.begin)
            yield connection
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()

    def ping(self) -> None:
        """Connect once, or raise DatabaseUnavailableError with one clear sentence."""
        with self.begin(read_only=True) as connection:
            connection.exec_driver_sql("SELECT 1")

    def _translate_connect_errors(self, opener: Any) -> Any:
        try:
            return opener()
        except (OperationalError, DBAPIError) as exc:
            raise self.unavailable(exc) from None

    def unavailable(self, exc: BaseException) -> DatabaseUnavailableError:
        """The error to show when the database could not be opened or locked."""
        original = getattr(exc, "orig", exc)
        reason = (
            str(original).strip().splitlines()[0]
            if str(original).strip()
            else type(original).__name__
        )
        reason = scrub(reason, self.url.password if isinstance(self.url.password, str) else None)
        return DatabaseUnavailableError(f"cannot use database {self.masked_url}: {reason}")

    def create_tables(self) -> None:
        """Create all tables, indexes and guards (development use; see `edc.db.migrate`)."""
        from edc.db.models import Base

        with self.begin() as connection:
            Base.metadata.create_all(connection)

    def dispose(self) -> None:
        """Dispose of engine and connection pool."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._sessions = None
            self._read_sessions = None
