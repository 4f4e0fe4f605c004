"""Helpers shared by the reliability scenarios: real `edc` processes, CSV files, raw checks of a
database, and control of the throwaway PostgreSQL server that `make test` started."""

import contextlib
import multiprocessing
import os
import shutil
import socket
import sqlite3
import subprocess
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import rel_workers
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from cli_support import EDC_EXECUTABLE
from edc.config import DatabaseConfig
from edc.db import DatabaseEngine
from edc.db.models import Job
from edc.db.repositories import AuditLogRepository
from edc.integrity.chain import VerifyResult

LONG = os.environ.get("EDC_RELIABILITY_LONG") == "1"
SERVER_USER = "edc-pgtest"
TRACEBACK = "Traceback (most recent call last)"

Report = Callable[[str], None]
"""The `report` fixture: print a line of counts and keep it for the end-of-run summary."""


def edc_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment `run_edc` gives the executable: no EDC_* settings, plain output."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("EDC_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    env.update(extra or {})
    return env


def discard_coverage_of(pid: int) -> None:
    """Remove the coverage data of a process killed on purpose: a SIGKILL can land while it
    writes that file, and `coverage combine` would then warn about a file it cannot read."""
    data_file = os.environ.get("COVERAGE_FILE")
    if data_file:
        for path in Path(data_file).parent.glob(f"{Path(data_file).name}.*.pid{pid}.*"):
            path.unlink(missing_ok=True)


def popen_edc(
    *args: str,
    stdout: int | None = subprocess.PIPE,
    stderr: int | None = subprocess.PIPE,
    env: Mapping[str, str] | None = None,
    **kwargs: object,
) -> "subprocess.Popen[str]":
    """Start `edc ARGS...` (the installed executable) without waiting for it."""
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [EDC_EXECUTABLE, *args],
        stdout=stdout,
        stderr=stderr,
        text=True,
        env=edc_env(env),
        **kwargs,
    )


class WorkerProcess:
    """A worker forked from the test process: it starts in milliseconds, since everything is
    imported already, and runs one function of rel_workers in a process of its own."""

    def __init__(self, mode: str, *args: str) -> None:
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=_run_worker, args=(mode, *args), daemon=False)
        self._process.start()

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    def poll(self) -> int | None:
        """The exit code (negative: killed by that signal), or None while it runs."""
        return self._process.exitcode

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, no goodbye (waits for the end, drops its coverage)."""
        self._process.kill()
        self._process.join()
        discard_coverage_of(self.pid)

    def wait(self, timeout: float | None = None) -> int | None:
        self._process.join(timeout)
        return self._process.exitcode


def _run_worker(mode: str, *args: str) -> None:
    try:
        rel_workers.run(mode, *args)
    except BaseException:
        with open(args[-1], "a", encoding="utf-8") as log:
            log.write(traceback.format_exc())
        raise


def write_requests(path: Path, count: int, prefix: str, *, header: bool = True) -> Path:
    """A valid capture-request CSV of `count` distinct rows whose URLs start with `prefix`."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        if header:
            out.write("url,when,direction,mode\n")
        out.writelines(
            f"https://example.org/{prefix}/{i},2020{1 + i % 12:02d}{1 + i % 28:02d},closest,fetch\n"
            for i in range(count)
        )
    return path


# -- looking into a database --------------------------------------------------------------


def engine_for(url: str) -> DatabaseEngine:
    return DatabaseEngine(DatabaseConfig(url=url))


@contextlib.contextmanager
def opened(url: str) -> Iterator[DatabaseEngine]:
    db = engine_for(url)
    try:
        yield db
    finally:
        db.dispose()


def count_jobs(url: str, url_prefix: str | None = None) -> int:
    """Jobs in the database, or those whose URL starts with `url_prefix`."""
    with opened(url) as db, db.session(read_only=True) as session:
        statement = select(func.count()).select_from(Job)
        if url_prefix is not None:
            statement = statement.where(Job.url.startswith(url_prefix, autoescape=True))
        return int(session.scalar(statement) or 0)


def verify_in_process(url: str) -> VerifyResult:
    with opened(url) as db, db.session(read_only=True) as session:
        return AuditLogRepository(session).verify()


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    assert database, url
    return Path(database)


def sqlite_integrity(path: Path) -> str:
    """`PRAGMA integrity_check` through the sqlite3 module, independent of edc's engine."""
    connection = sqlite3.connect(path, timeout=60)
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()
    return "; ".join(str(row[0]) for row in rows)


def sqlite_writer_active(path: Path) -> bool:
    """Whether another connection holds SQLite's write lock right now (a write transaction)."""
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    else:
        connection.execute("ROLLBACK")
        return False
    finally:
        connection.close()


def admin_conninfo(url: str, database: str | None = None) -> str:
    """A libpq URL (no driver suffix) for psycopg.connect, optionally for another database."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def postgres_writer_active(url: str) -> bool:
    """Whether some session of this database is inside a transaction that has written."""
    name = make_url(url).database
    with psycopg.connect(admin_conninfo(url, "postgres"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    return bool(row and row[0])


def copy_postgres_database(url: str, template: str, name: str) -> str:
    """CREATE DATABASE name TEMPLATE template on the server of `url`; return its URL."""
    with psycopg.connect(admin_conninfo(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str, name: str) -> None:
    with psycopg.connect(admin_conninfo(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Copies:
    """Fresh copies of a prepared database, made cheaply: a file copy on SQLite, CREATE DATABASE
    ... TEMPLATE on PostgreSQL (dropped again by `drop_all`)."""

    def __init__(self, backend: str, template_url: str, tmp_path: Path) -> None:
        self.backend = backend
        self.template_url = template_url
        self.tmp_path = tmp_path
        self.made: list[str] = []

    def new(self, name: str) -> str:
        if self.backend == "sqlite":
            target = self.tmp_path / f"{name}.db"
            shutil.copyfile(sqlite_path(self.template_url), target)
            return f"sqlite:///{target}"
        template = self.template_url.rsplit("/", 1)[1]
        url = copy_postgres_database(self.template_url, template, f"{template}_{name}")
        self.made.append(f"{template}_{name}")
        return url

    def drop_all(self) -> None:
        for name in self.made:
            drop_postgres_database(self.template_url, name)


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_line_error(stderr: str) -> bool:
    """edc's error convention: exactly one non-empty line, `edc: error: ...`, no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    return len(lines) == 1 and lines[0].startswith("edc: error: ") and TRACEBACK not in stderr


# -- the throwaway PostgreSQL server of scripts/test-postgres.sh ------------------------------


@dataclass(frozen=True)
class PostgresServer:
    """The cluster directory `scripts/test-postgres.sh start DIR` made (files bin, port, ...)."""

    root: Path

    @property
    def bin(self) -> Path:
        return Path((self.root / "bin").read_text().strip())

    @property
    def port(self) -> int:
        return int((self.root / "port").read_text().strip())

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def options(self) -> str:
        """The server options test-postgres.sh starts it with (keep the two in step)."""
        return (
            f"-p {self.port} -k {self.root}/sock -c listen_addresses=127.0.0.1 "
            "-c max_connections=300 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off"
        )

    def postmaster_opts(self) -> str:
        """The command line the running (or last) server was started with, as PostgreSQL saw it."""
        return (self.data / "postmaster.opts").read_text().strip()

    def _pg_ctl(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        command: Sequence[str] = [str(self.bin / "pg_ctl"), "-D", str(self.data), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        # Output to a file, not a pipe: the server must not inherit a pipe we wait on.
        with open(self.root / "pg_ctl.reliability.log", "a") as log:
            return subprocess.run(
                command, stdout=log, stderr=log, text=True, timeout=timeout, check=False
            )

    def running(self) -> bool:
        return self._pg_ctl("status").returncode == 0

    def stop(self) -> None:
        result = self._pg_ctl("-m", "fast", "-w", "-t", "60", "stop")
        assert result.returncode == 0, f"pg_ctl stop failed: {self._log_tail()}"

    def start(self) -> None:
        result = self._pg_ctl(
            "-l", str(self.root / "server.log"), "-w", "-t", "60", "-o", self.options, "start"
        )
        assert result.returncode == 0, f"pg_ctl start failed: {self._log_tail()}"

    def ensure_up(self, url: str, timeout: float = 60) -> None:
        """Start the server if it is down, then wait until it accepts a query."""
        if not self.running():
            self.start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(admin_conninfo(url, "postgres"), connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _log_tail(self) -> str:
        text = ""
        for name in ("pg_ctl.reliability.log", "server.log"):
            with contextlib.suppress(OSError):
                text += (self.root / name).read_text()[-2000:]
        return text


def require_postgres_url() -> str:
    """The test server's URL; skip without one, or fail when PostgreSQL tests are required
    (the rule of tests/conftest.py)."""
    url = os.environ.get("EDC_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("EDC_TEST_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true":
        pytest.fail("EDC_TEST_POSTGRES_URL is not set but PostgreSQL tests are required")
    pytest.skip("EDC_TEST_POSTGRES_URL not set; run `make test` for PostgreSQL")


def postgres_server() -> PostgresServer | None:
    root = os.environ.get("EDC_TEST_POSTGRES_DIR")
    if not root or not (Path(root) / "bin").is_file():
        return None
    return PostgresServer(Path(root))
