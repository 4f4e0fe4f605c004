"""Stream the audit log for verification with the driver's own cursor, in bounded memory.

Each row becomes a `StoredEntry` that hashes its stored values directly (see
edc.integrity.stored). The database's forms are brought to the hashed ones first, and only
when that is exact: SQLite's `YYYY-MM-DD HH:MM:SS.ffffff` text when it is a valid instant,
PostgreSQL's `timestamptz` formatted by the server in UTC, `details` read as JSON text, the
action only if it is a known value. Any other row is handed to `general`, which reads it as
`export` does (a ChainEntry, or a stand-in that reports the row as changed content).
"""

import re
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from edc.db.models import AuditAction
from edc.integrity.chain import ChainEntry, RecordRef
from edc.integrity.stored import TIME_PATTERN, stored_entry_hash

__all__ = ["BATCH", "General", "StoredEntry", "read_stored"]

BATCH = 10_000
General = Callable[[tuple[Any, ...]], ChainEntry]
"""The general path: the entry (or unreadable stand-in) of a row the fast path leaves."""
_ACTIONS = frozenset(action.value for action in AuditAction)
_SQLITE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", re.ASCII)
_COLUMNS = (
    "id, uuid, {time}, action, actor, target_type, target_id, description, {details}, "
    "ip_address, user_agent, job_uuid, previous_hash, entry_hash"
)
_SQLITE_SELECT = (
    f"SELECT {_COLUMNS.format(time='created_at', details='details')} FROM audit_logs ORDER BY id"
)
_PG_TIME = """to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
_PG_SELECT = (
    f"SELECT {_COLUMNS.format(time=_PG_TIME, details='details::text')} FROM audit_logs ORDER BY id"
)


class StoredEntry:
    """One stored row as verify_chain sees it: its link now, its hash when asked."""

    __slots__ = ("_general", "_row", "_time", "previous_hash")

    def __init__(
        self,
        row: tuple[Any, ...],
        time_text: str | None,
        general: General,
    ) -> None:
        self._row = row
        self._time = time_text
        self._general = general
        link = row[12]
        # what the general path's entry (or its stand-in) holds: a non-text link reads as null
        self.previous_hash: str | None = link if link is None or type(link) is str else None

    def compute_hash(self) -> str:
        """The hash of the stored values, by the fast path when the row allows it."""
        row, time_text = self._row, self._time
        if time_text is not None and row[3] in _ACTIONS:
            fast = stored_entry_hash(
                row[1], time_text, row[3], row[4], row[5], row[6], row[7], row[8], row[9],
                row[10], row[11], row[12],
            )  # fmt: skip
            if fast is not None:
                return fast
        return self._general(row).compute_hash()

    @property
    def created_at(self) -> datetime:
        """The stored time (only the time-order check asks)."""
        if self._time is not None:
            return datetime.fromisoformat(self._time[:-1]).replace(tzinfo=UTC)
        return self._general(self._row).created_at


def read_stored(
    session: Session,
    general: General,
    on_entry: Callable[[], object] | None = None,
) -> Iterator[tuple[StoredEntry, str, RecordRef]]:
    """Every row in id order as (entry, stored entry_hash, row), BATCH rows at a time."""
    connection = session.connection()
    driver: Any = connection.connection.dbapi_connection
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        cursor = driver.cursor()
        cursor.execute(_SQLITE_SELECT)
    else:
        cursor = driver.cursor(name="edc_audit_verify")
        cursor.itersize = BATCH
        cursor.execute(_PG_SELECT)
    time_of = _sqlite_time if sqlite else _pg_time
    try:
        while rows := cursor.fetchmany(BATCH):
            for row in rows:
                stored = row[13]
                if on_entry is not None:
                    on_entry()
                yield (
                    StoredEntry(row, time_of(row[2]), general),
                    stored if type(stored) is str else str(stored),
                    RecordRef(row[0], str(row[1])),
                )
    finally:
        with suppress(Exception):  # after an error the connection may be gone already
            cursor.close()


def _sqlite_time(stored: Any) -> str | None:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ` if `stored` is SQLAlchemy's text of a valid instant."""
    if type(stored) is not str or not _SQLITE_TIME.fullmatch(stored):
        return None
    try:
        datetime.fromisoformat(stored)  # a real date and time, as the general path demands
    except ValueError:
        return None
    return f"{stored[:10]}T{stored[11:]}Z"


def _pg_time(stored: Any) -> str | None:
    """The server's UTC text of a `timestamptz`, if it has the hashed form (years 1-9999)."""
    return stored if type(stored) is str and TIME_PATTERN.fullmatch(stored) else None
