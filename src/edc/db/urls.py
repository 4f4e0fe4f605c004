"""Database URLs: driver selection and the in-memory SQLite case."""

from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from edc.config.secrets import mask_url
from edc.errors import InputError

SUPPORTED = ("sqlite", "postgresql")


def normalize_url(raw: str) -> URL:
    """Parse a configured URL; plain `postgresql://` (or `postgres://`) means psycopg 3."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise InputError(f"database URL {mask_url(raw)!r} is not a valid URL") from None
    backend = url.get_backend_name()
    if backend == "postgres" or url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    elif backend not in SUPPORTED:
        raise InputError(
            f"database URL {mask_url(raw)!r} is not supported: use sqlite:/// or postgresql://"
        )
    return url


def is_sqlite_memory(url: URL) -> bool:
    """True for `sqlite://` and `sqlite:///:memory:` (one database per connection)."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def sqlite_file(url: URL) -> Path | None:
    """The file of an SQLite URL, also in SQLite's URI form (`sqlite:///file:PATH?mode=ro&uri=true`);
    None for in-memory databases and other backends."""
    if url.get_backend_name() != "sqlite" or is_sqlite_memory(url):
        return None
    database = url.database or ""
    if url.query.get("uri") == "true" and database.startswith("file:"):
        return Path(unquote(urlsplit(database).path))
    return Path(database)
