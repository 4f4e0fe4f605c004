"""Consistent backups while writers are active: SQLite's online backup API, or pg_dump."""

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edc.config.secrets import scrub
from edc.db.engine import DatabaseEngine
from edc.db.urls import sqlite_file
from edc.errors import DatabaseUnavailableError, InputError, IntegrityFailureError

PAGES_PER_STEP = 1024


@dataclass(frozen=True)
class BackupResult:
    """Where the copy went, how big it is and how it was made."""

    destination: str
    size: int
    method: str


def backup_database(
    db: DatabaseEngine, destination: Path, *, overwrite: bool = False
) -> BackupResult:
    """Write a consistent copy of the database to `destination` (a new file by default)."""
    if destination.exists() and not overwrite:
        raise InputError(f"{destination} already exists; choose another path or pass --force")
    if not destination.parent.is_dir():
        raise InputError(f"directory {destination.parent} does not exist")
    if db.dialect_name == "sqlite":
        return _backup_sqlite(db, destination)
    return _backup_postgresql(db, destination)


def _backup_sqlite(db: DatabaseEngine, destination: Path) -> BackupResult:
    source_path = sqlite_file(db.url)
    if source_path is None:
        raise InputError("an in-memory database has nothing to back up")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=60)
    except sqlite3.Error as exc:
        raise DatabaseUnavailableError(f"cannot open {source_path} to back it up: {exc}") from None
    try:
        target = sqlite3.connect(partial)
        try:
            # Copies a consistent snapshot; pages that writers change meanwhile are recopied.
            source.backup(target, pages=PAGES_PER_STEP)
            check = target.execute("PRAGMA integrity_check").fetchone()[0]
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            target.close()
    finally:
        source.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise IntegrityFailureError(f"the backup copy failed SQLite's integrity check: {check}")
    os.replace(partial, destination)
    return BackupResult(str(destination), destination.stat().st_size, "sqlite online backup")


def _backup_postgresql(db: DatabaseEngine, destination: Path) -> BackupResult:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise InputError(
            "pg_dump is not installed; install the PostgreSQL client tools "
            "(e.g. `apt-get install postgresql-client`) to back up a PostgreSQL database"
        )
    url = db.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # never on the command line
    # The whole URL as libpq reads it (query parameters such as sslmode or a socket host
    # included), minus the password, which travels in the environment only.
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    args = [pg_dump, "--format=custom", "--no-owner", f"--file={destination}.partial", conninfo]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    partial = Path(f"{destination}.partial")
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        lines = done.stderr.strip().splitlines() or ["no output"]
        password = url.password if isinstance(url.password, str) else None
        raise DatabaseUnavailableError(
            f"pg_dump of {db.masked_url} failed: {scrub(lines[0], password)}"
        )
    os.replace(partial, destination)
    return BackupResult(str(destination), destination.stat().st_size, "pg_dump (custom format)")
