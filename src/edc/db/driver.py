"""Working below SQLAlchemy on a hot path without changing what callers see."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.exc import DBAPIError


@contextmanager
def driver_errors(
    dialect: Dialect, statement: str | None = None, parameters: Sequence[Any] | None = None
) -> Iterator[None]:
    """Raise the driver's errors as SQLAlchemy's (OperationalError, IntegrityError, ...), as
    statements run through SQLAlchemy would, so callers handle one family of exceptions; the
    statement, when given, is named in the error as SQLAlchemy names it."""
    dbapi = dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, parameters, exc, dbapi.Error) from exc
