"""Working below SQLAlchemy on a hot path without changing what callers see."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Dialect
from sqlalchemy.exc import DBAPIError


@contextmanager
def driver_errors(dialect: Dialect) -> Iterator[None]:
    """Raise the driver's errors as SQLAlchemy's (OperationalError, IntegrityError, ...), as
    statements run through SQLAlchemy would, so callers handle one family of exceptions."""
    dbapi = dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        raise DBAPIError.instance(None, None, exc, dbapi.Error) from exc
