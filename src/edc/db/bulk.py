"""Bulk inserts below SQLAlchemy's per-row parameter processing, in the session's transaction.

PostgreSQL: `COPY table (columns) FROM STDIN` through the session's own psycopg connection;
SQLite: the sqlite3 cursor's `executemany`. Both run inside the transaction the session already
holds (its write lock, its chain lock), so a bulk write commits or rolls back with everything
else. Rows are given in their stored form, made by the writer's `time` and `json` so that they
equal what the ORM writes: SQLite times in SQLAlchemy's own DATETIME text, JSON as the JSON
type serialises it; enums as their lower-case values. Driver errors come out as SQLAlchemy's
DBAPIError, like any other statement's.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.orm import Session

from edc.db.driver import driver_errors
from edc.db.types import UTCDateTime, json_type

Row = Sequence[Any]


class StoredForms:
    """How one dialect stores times and JSON, so bulk rows equal what the ORM writes."""

    def __init__(self, dialect: Dialect) -> None:
        self.postgresql = dialect.name == "postgresql"
        time_processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        assert time_processor is not None
        self._time: Callable[[datetime], Any] = time_processor
        if self.postgresql:
            # COPY takes JSON text; the server parses it into JSONB exactly as an INSERT would.
            serializer = getattr(dialect, "_json_serializer", None)
            self._json: Callable[[Any], Any] = serializer or json.dumps
        else:
            processor = json_type().dialect_impl(dialect).bind_processor(dialect)
            assert processor is not None
            self._json = processor

    def time(self, moment: datetime) -> Any:
        """A timezone-aware datetime in the form this database stores (naive ones refused)."""
        return self._time(moment)

    def json(self, value: Any) -> Any:
        """A JSON column value in the form this database stores."""
        return self._json(value)


class BulkWriter:
    """Writes many rows of one table at a time through the session's DBAPI connection."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.dialect = connection.dialect
        self.postgresql = self.dialect.name == "postgresql"
        self._dbapi: Any = connection.connection.driver_connection

    @cached_property
    def forms(self) -> StoredForms:
        """This dialect's stored forms, made when first needed (writers of preformatted rows,
        such as the audit queue at every flush, never need them)."""
        return StoredForms(self.dialect)

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
        """Insert `rows` (values in `columns` order, stored forms) into `table`."""
        names = ", ".join(f'"{name}"' for name in columns)
        if self.postgresql:
            statement = f"COPY {table} ({names}) FROM STDIN"
        else:
            marks = ", ".join("?" for _ in columns)
            statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        with driver_errors(self.dialect, statement):
            if self.postgresql:
                with self._dbapi.cursor() as cursor, cursor.copy(statement) as copy:
                    write = copy.write_row
                    for row in rows:
                        write(row)
            else:
                cursor = self._dbapi.cursor()
                try:
                    cursor.executemany(statement, rows)
                finally:
                    cursor.close()

    def rows(self, statement: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Every row of a query in the driver's own paramstyle, as tuples."""
        cursor = self._dbapi.cursor()
        try:
            with driver_errors(self.dialect, statement, parameters):
                cursor.execute(statement, parameters)
                return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()
