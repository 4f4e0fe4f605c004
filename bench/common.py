"""What every benchmark shares: options, databases, raw-driver connections, data and results.

Every figure is a ratio between edc and a baseline that the same script runs in the same
process tree, on the same machine, against the same schema (`edc.db.migrate.init_schema`),
with the same durability settings:

- SQLite: a raw `sqlite3` connection gets exactly the pragmas edc's engine sets (WAL,
  synchronous=FULL, cache_size, busy_timeout, foreign_keys);
- PostgreSQL: both sides use the same server, whose settings are printed at the top of a run.

Databases are scratch ones: SQLite files in a temporary directory, PostgreSQL databases created
next to `--pg-url` (the caller must be allowed to CREATE DATABASE there) and dropped afterwards.
Without `--pg-url` a private server with PostgreSQL's default settings is started through
`scripts/test-postgres.sh` with `EDC_PG_DURABLE=1` (durability on) and stopped at the end.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url

from edc.config import DatabaseConfig
from edc.db import DatabaseEngine
from edc.db.engine import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB
from edc.db.ids import new_uuid
from edc.db.migrate import init_schema
from edc.db.models import AuditAction, AuditLog, Job, JobStatus
from edc.db.repositories import JobDraft
from edc.db.repositories.job import TARGET as JOB_TARGET
from edc.db.repositories.job import _created, _creation_details
from edc.ingest.importer import BATCH_SIZE
from edc.integrity.chain import ChainEntry

ROOT = Path(__file__).resolve().parent.parent
SERVER_SCRIPT = ROOT / "scripts" / "test-postgres.sh"
EDC_BIN = Path(sys.executable).with_name("edc")
KINDS = ("sqlite", "postgresql")
MB = 1_000_000
MIB = 1 << 20

# --------------------------------------------------------------------------------------------
# Options and results


def parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes; scripts add their sizes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("EDC_BENCH_POSTGRES_URL"),
        help="a PostgreSQL database URL; scratch databases are created beside it "
        "(default: $EDC_BENCH_POSTGRES_URL, else a private server with default settings)",
    )
    p.add_argument("--workdir", help="where SQLite files and data go (default: a temp dir)")
    p.add_argument("--record", help="append one JSON line per figure to this file")
    p.add_argument("--quiet", action="store_true", help="print only settings and results")
    return p


def kinds(args: argparse.Namespace) -> list[str]:
    return list(KINDS) if args.db == "both" else [args.db]


@dataclass
class Result:
    """One figure: edc's rate, the baseline's, their ratio and whether it meets the target."""

    figure: str
    db: str
    edc: float
    baseline: float | None
    unit: str
    ratio: float | None
    target: str
    passed: bool
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        base = "-" if self.baseline is None else f"{_num(self.baseline)} {self.unit}"
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}"
        text = (
            f"FIGURE {self.figure:<17} {self.db:<10} edc {_num(self.edc)} {self.unit} | "
            f"baseline {base} | ratio {ratio} | target {self.target} | "
            f"{'PASS' if self.passed else 'FAIL'}"
        )
        return text + (f"  ({self.note})" if self.note else "")


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


class Reporter:
    def __init__(self, args: argparse.Namespace, script: str) -> None:
        self.args = args
        self.script = script
        self.results: list[Result] = []

    def add(self, result: Result) -> None:
        self.results.append(result)
        print(result.line(), flush=True)
        if self.args.record:
            record = {
                "script": self.script,
                "figure": result.figure,
                "db": result.db,
                "edc": result.edc,
                "baseline": result.baseline,
                "unit": result.unit,
                "ratio": result.ratio,
                "target": result.target,
                "passed": result.passed,
                "note": result.note,
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
                **result.extra,
            }
            with open(self.args.record, "a", encoding="utf-8") as stream:
                stream.write(json.dumps(record) + "\n")

    def info(self, text: str) -> None:
        if not self.args.quiet:
            print(f"  {text}", flush=True)


def read_records(path: str | None) -> list[dict[str, Any]]:
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def at_least(ratio: float, target: float) -> tuple[str, bool]:
    return f">= {target:g}", ratio >= target


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


# --------------------------------------------------------------------------------------------
# Work directory and databases


class Workspace:
    """A work directory (removed at exit unless the caller gave it) and database sites."""

    def __init__(self, args: argparse.Namespace) -> None:
        if args.workdir:
            self.dir = Path(args.workdir)
            self.dir.mkdir(parents=True, exist_ok=True)
            self._own_dir = False
        else:
            self.dir = Path(tempfile.mkdtemp(prefix="edc-bench."))
            self._own_dir = True
        self.args = args
        self._server: PrivateServer | None = None
        self._sites: dict[str, Site] = {}
        atexit.register(self.close)

    def site(self, kind: str) -> Site:
        if kind not in self._sites:
            if kind == "sqlite":
                self._sites[kind] = SqliteSite(self.dir)
            else:
                url = self.args.pg_url
                if not url:
                    self._server = PrivateServer()
                    url = self._server.url
                self._sites[kind] = PostgresSite(url)
        return self._sites[kind]

    def close(self) -> None:
        for site in self._sites.values():
            site.close()
        self._sites.clear()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._own_dir and self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)


class PrivateServer:
    """A throwaway PostgreSQL with default (durable) settings: scripts/test-postgres.sh with
    EDC_PG_DURABLE=1."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="edc-benchpg.")
        env = {**os.environ, "EDC_PG_DURABLE": "1"}
        out = subprocess.run(
            [str(SERVER_SCRIPT), "start", self.dir],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        self.url = out.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run([str(SERVER_SCRIPT), "stop", self.dir], check=False)


@dataclass
class Database:
    """One scratch database: its SQLAlchemy URL, and how to reach it without SQLAlchemy."""

    kind: str
    url: str
    path: Path | None = None  # SQLite file

    def engine(self) -> DatabaseEngine:
        return DatabaseEngine(DatabaseConfig(url=self.url))

    def raw(self) -> Any:
        """A raw driver connection with the same settings as edc's engine uses."""
        if self.kind == "sqlite":
            return raw_sqlite(self.path)
        return psycopg.connect(libpq(self.url))

    def init_schema(self) -> None:
        engine = self.engine()
        try:
            init_schema(engine)
        finally:
            engine.dispose()


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def raw_sqlite(path: Path | None) -> sqlite3.Connection:
    """stdlib sqlite3 with edc's pragmas; autocommit mode, transactions issued explicitly."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    return conn


class Site:
    kind: str

    def fresh(self, name: str) -> Database:
        """An empty database with edc's schema."""
        raise NotImplementedError

    def existing(self, name: str) -> Database:
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def drop(self, db: Database) -> None:
        raise NotImplementedError

    def settings(self) -> list[str]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SqliteSite(Site):
    kind = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def _db(self, name: str) -> Database:
        path = self.dir / f"{name}.db"
        return Database("sqlite", f"sqlite:///{path}", path)

    def fresh(self, name: str) -> Database:
        db = self._db(name)
        self.drop(db)
        db.init_schema()
        return db

    def existing(self, name: str) -> Database:
        return self._db(name)

    def exists(self, name: str) -> bool:
        return (self.dir / f"{name}.db").exists()

    def drop(self, db: Database) -> None:
        assert db.path is not None
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{db.path}{suffix}")

    def settings(self) -> list[str]:
        probe = self._db("settings-probe")
        engine = probe.engine()
        try:
            with engine.engine.connect() as conn:
                edc = _sqlite_pragmas(conn.connection.dbapi_connection)
        finally:
            engine.dispose()
        raw = raw_sqlite(probe.path)
        try:
            base = _sqlite_pragmas(raw)
        finally:
            raw.close()
        self.drop(probe)
        return [
            f"sqlite {sqlite3.sqlite_version}, files in {self.dir}",
            f"edc engine pragmas:  {edc}",
            f"raw sqlite3 pragmas: {base}" + ("  (same)" if base == edc else "  (DIFFERENT!)"),
        ]


def _sqlite_pragmas(conn: Any) -> str:
    names = ("journal_mode", "synchronous", "cache_size", "busy_timeout", "foreign_keys")
    values = {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names}
    sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(values["synchronous"])
    values["synchronous"] = f"{values['synchronous']} ({sync})"
    return ", ".join(f"{k}={v}" for k, v in values.items())


class PostgresSite(Site):
    kind = "postgresql"

    def __init__(self, url: str) -> None:
        self.base = make_url(url)
        if self.base.drivername in ("postgresql", "postgres"):
            self.base = self.base.set(drivername="postgresql+psycopg")
        # Scratch names start with the given database's name: predictable for the next script
        # (--reuse), distinct for every test database the suite hands out.
        self.prefix = f"{self.base.database or 'edc'}_bench_"
        self.created: set[str] = set()

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            libpq(self.base.render_as_string(hide_password=False)), autocommit=True
        )

    def _db(self, name: str) -> Database:
        url = self.base.set(database=self.prefix + name).render_as_string(hide_password=False)
        return Database("postgresql", url)

    def fresh(self, name: str) -> Database:
        db = self._db(name)
        dbname = make_url(db.url).database
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{dbname}"')
            # Start each side with no dirty pages left by the previous one.
            with contextlib.suppress(psycopg.Error):
                conn.execute("CHECKPOINT")
        self.created.add(dbname)
        db.init_schema()
        return db

    def existing(self, name: str) -> Database:
        return self._db(name)

    def exists(self, name: str) -> bool:
        with self._admin() as conn:
            row = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.prefix + name,)
            ).fetchone()
        return row is not None

    def drop(self, db: Database) -> None:
        dbname = make_url(db.url).database
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        self.created.discard(dbname)

    def keep(self, db: Database) -> None:
        """Do not drop `db` at exit (it is handed to the next script)."""
        self.created.discard(make_url(db.url).database)

    def settings(self) -> list[str]:
        names = (
            "server_version",
            "fsync",
            "synchronous_commit",
            "full_page_writes",
            "shared_buffers",
            "wal_level",
            "max_wal_size",
            "checkpoint_timeout",
            "work_mem",
            "max_connections",
        )
        with self._admin() as conn:
            values = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}
        return [
            "postgresql " + self.base.render_as_string(hide_password=True),
            ", ".join(f"{k}={v}" for k, v in values.items()),
            "edc engine: psycopg 3 " + psycopg.__version__ + ", pool_size=5, pre-ping; "
            "raw baseline: psycopg 3 connection, same server",
        ]

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error), self._admin() as conn:
            for dbname in list(self.created):
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        self.created.clear()


def print_settings(ws: Workspace, kind: str, script: str) -> None:
    print(f"# {script} on {kind}, {datetime.now(UTC).isoformat(timespec='seconds')}")
    for line in ws.site(kind).settings():
        print(f"#   {line}")
    print(f"#   python {sys.version.split()[0]}, {os.cpu_count()} cpu(s)", flush=True)


# --------------------------------------------------------------------------------------------
# Subprocesses with peak RSS


@dataclass
class Run:
    seconds: float
    max_rss: int  # bytes: the largest single process's peak RSS
    returncode: int
    stdout: str
    stderr: str
    tree_pss: int = 0  # bytes: peak of the summed PSS of the command and its helper processes
    sum_of_peaks: int = 0  # bytes: every process's own peak RSS added up (an upper bound)
    processes: int = 1

    @property
    def memory(self) -> int:
        """The command's memory: its process tree's peak PSS, or its peak RSS if larger
        (a short run may end between two samples)."""
        return max(self.tree_pss, self.max_rss)


def run_measured(argv: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Run `argv`; its wall time and its peak memory (with any processes it forks).

    Measured by bench/_child_rss.py, a small parent: this process may hold hundreds of MB, and
    Linux would report that as the child's peak (the peak survives fork and exec).
    """
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats.json"
        out, err = Path(tmp) / "out", Path(tmp) / "err"
        with open(out, "wb") as out_stream, open(err, "wb") as err_stream:
            subprocess.run(
                [
                    sys.executable,
                    "-S",
                    str(ROOT / "bench" / "_child_rss.py"),
                    str(stats),
                    "--",
                    *argv,
                ],
                stdout=out_stream,
                stderr=err_stream,
                env=env,
                check=True,
            )
        data = json.loads(stats.read_text())
        return Run(
            data["seconds"],
            int(data["max_rss"]),
            int(data["returncode"]),
            out.read_text("utf-8", "replace"),
            err.read_text("utf-8", "replace"),
            int(data["tree_pss"]),
            int(data["sum_of_peaks"]),
            int(data["processes"]),
        )


def edc_env() -> dict[str, str]:
    """The environment for the `edc` executable: no developer EDC_* settings leak in."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("EDC_")}
    env["COLUMNS"] = "200"
    return env


# --------------------------------------------------------------------------------------------
# Data: CSV files, validated drafts, precomputed rows


CSV_HEADER = "url,when,direction,mode,case_id\n"
_DIRECTIONS = ("closest", "before", "after")


def csv_line(i: int) -> str:
    """Row `i` of a capture-request file: unique url, `when` in the three accepted forms."""
    year = 2000 + i % 24
    month = 1 + i % 12
    day = 1 + i % 28
    hour, minute, second = i % 24, i % 60, (i * 7) % 60
    form = i % 3
    if form == 0:
        when = f"{year}{month:02d}{day:02d}{hour:02d}{minute:02d}{second:02d}"
    elif form == 1:
        when = f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
    else:
        when = f"{year}-{month:02d}-{day:02d}"
    url = f"https://www.example{i % 97}.com/news/{i:08d}/article-{(i * 7919) % 100_003}.html"
    return f"{url},{when},{_DIRECTIONS[i % 3]},fetch,CASE-2026-{i % 50:03d}\n"


def write_csv(path: Path, rows: int) -> int:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        stream.write(CSV_HEADER)
        for start in range(0, rows, 10_000):
            stream.write("".join(csv_line(i) for i in range(start, min(rows, start + 10_000))))
    return path.stat().st_size


def read_drafts(path: Path) -> list[JobDraft]:
    """The file's rows validated exactly as the importer validates them."""
    from edc.ingest.reader import read_requests
    from edc.ingest.request import CaptureRequest

    drafts = []
    for item in read_requests(path):
        assert isinstance(item, CaptureRequest), item
        drafts.append(
            JobDraft(item.url, item.when, item.direction, item.mode, item.options, item.line)
        )
    return drafts


def synthetic_drafts(count: int, start: int = 0) -> Iterator[JobDraft]:
    """Drafts like the CSV's, without a file (for populating databases)."""
    from edc.ingest.timestamps import normalize_when

    for i in range(start, start + count):
        url, when, direction, mode, case = csv_line(i).rstrip("\n").split(",")
        yield JobDraft(url, normalize_when(when), direction, mode, {"case_id": case}, i + 2)


JOB_COLUMNS = (
    "id",
    "uuid",
    "created_at",
    "updated_at",
    "url",
    "when",
    "direction",
    "mode",
    "status",
    "source",
    "options",
    "attempts",
)
AUDIT_COLUMNS = (
    "uuid",
    "created_at",
    "updated_at",
    "job_id",
    "job_uuid",
    "action",
    "actor",
    "target_type",
    "target_id",
    "description",
    "details",
    "ip_address",
    "user_agent",
    "previous_hash",
    "entry_hash",
)


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def insert_sql(table: str, columns: Sequence[str], style: str) -> str:
    marks = ", ".join("?" if style == "qmark" else "%s" for _ in columns)
    return f"INSERT INTO {table} ({_quoted(columns)}) VALUES ({marks})"


def copy_sql(table: str, columns: Sequence[str]) -> str:
    return f"COPY {table} ({_quoted(columns)}) FROM STDIN"


class RowMaker:
    """Rows as edc stores them, ready for the raw driver of `kind` (`details` as the JSON type
    serialises it; edc stores the canonical text it hashed, the same data within a few bytes).

    SQLite values go through SQLAlchemy's own bind processors (so dates and JSON are the very
    text edc writes); PostgreSQL values are COPY text (ISO times, JSON text).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "sqlite":
            dialect = sqlite_dialect.dialect()
            self.job_procs = [_processor(Job.__table__.c[c], dialect) for c in JOB_COLUMNS]
            self.audit_procs = [_processor(AuditLog.__table__.c[c], dialect) for c in AUDIT_COLUMNS]

    def _convert(self, values: tuple[Any, ...], procs: list[Any]) -> tuple[Any, ...]:
        if self.kind == "sqlite":
            return tuple(p(v) if p is not None else v for p, v in zip(procs, values, strict=True))
        return tuple(_pg_text(v) for v in values)

    def job(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        return self._convert(values, getattr(self, "job_procs", []))

    def audit(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        return self._convert(values, getattr(self, "audit_procs", []))


def _processor(column: Any, dialect: Any) -> Any:
    return column.type._cached_bind_processor(dialect)


def _pg_text(value: Any) -> Any:
    if value is None or isinstance(value, int | str):
        return value.value if isinstance(value, JobStatus | AuditAction) else value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


@dataclass
class Batch:
    jobs: list[tuple[Any, ...]]
    audits: list[tuple[Any, ...]]


def precompute_import(
    kind: str,
    drafts: Iterable[JobDraft],
    *,
    batch_size: int = BATCH_SIZE,
    with_audit: bool = True,
    first_id: int = 1,
    tip: str | None = None,
) -> list[Batch]:
    """The jobs and audit rows `JobRepository.create_many` would write for `drafts`, in the
    importer's batches: ids from 1, uuid7s, one timestamp per batch, the chain from `tip`."""
    maker = RowMaker(kind)
    batches: list[Batch] = []
    job_id = first_id
    chunk: list[JobDraft] = []

    def flush() -> None:
        nonlocal job_id, tip
        now = datetime.now(UTC)
        jobs, audits = [], []
        for draft in chunk:
            job_uuid = new_uuid()
            jobs.append(
                maker.job(
                    (
                        job_id,
                        job_uuid,
                        now,
                        now,
                        draft.url,
                        draft.when,
                        draft.direction,
                        draft.mode,
                        JobStatus.PENDING,
                        "wayback",
                        draft.options,
                        0,
                    )
                )
            )
            if with_audit:
                entry = ChainEntry(
                    uuid=new_uuid(),
                    created_at=now,
                    action=AuditAction.CREATE.value,
                    actor="system",
                    target_type=JOB_TARGET,
                    target_id=job_uuid,
                    description=_created(draft.url, draft.when, draft.direction, draft.mode),
                    details=_creation_details(draft),
                    ip_address=None,
                    user_agent=None,
                    job_uuid=job_uuid,
                    previous_hash=tip,
                )
                tip = entry.compute_hash()
                audits.append(
                    maker.audit(
                        (
                            entry.uuid,
                            now,
                            now,
                            job_id,
                            job_uuid,
                            AuditAction.CREATE,
                            "system",
                            JOB_TARGET,
                            job_uuid,
                            entry.description,
                            entry.details,
                            None,
                            None,
                            entry.previous_hash,
                            tip,
                        )
                    )
                )
            job_id += 1
        batches.append(Batch(jobs, audits))
        chunk.clear()

    for draft in drafts:
        chunk.append(draft)
        if len(chunk) >= batch_size:
            flush()
    if chunk:
        flush()
    return batches


def precompute_entries(kind: str, count: int, *, tip: str | None = None) -> list[tuple[Any, ...]]:
    """`count` stand-alone audit rows (no job), chained from `tip`, as the raw driver takes them."""
    maker = RowMaker(kind)
    rows = []
    for i in range(count):
        now = datetime.now(UTC)
        entry = ChainEntry(
            uuid=new_uuid(),
            created_at=now,
            action=AuditAction.ACCESS.value,
            actor="bench",
            target_type="bench",
            target_id=str(i),
            description=f"benchmark entry {i}",
            details={"n": i, "note": "benchmark append"},
            ip_address=None,
            user_agent=None,
            job_uuid=None,
            previous_hash=tip,
        )
        tip = entry.compute_hash()
        rows.append(
            maker.audit(
                (
                    entry.uuid,
                    now,
                    now,
                    None,
                    None,
                    AuditAction.ACCESS,
                    "bench",
                    "bench",
                    str(i),
                    entry.description,
                    entry.details,
                    None,
                    None,
                    entry.previous_hash,
                    tip,
                )
            )
        )
    return rows


def raw_load(db: Database, batches: list[Batch], *, commit_every_batch: bool = False) -> None:
    """Insert precomputed rows with the raw driver: sqlite3 executemany / psycopg COPY."""
    conn = db.raw()
    try:
        if db.kind == "sqlite":
            jobs_sql = insert_sql("jobs", JOB_COLUMNS, "qmark")
            audit_sql = insert_sql("audit_logs", AUDIT_COLUMNS, "qmark")
            conn.execute("BEGIN IMMEDIATE")
            for batch in batches:
                conn.executemany(jobs_sql, batch.jobs)
                if batch.audits:
                    conn.executemany(audit_sql, batch.audits)
                if commit_every_batch:
                    conn.execute("COMMIT")
                    conn.execute("BEGIN IMMEDIATE")
            conn.execute("COMMIT")
        else:
            with conn.cursor() as cur:
                for batch in batches:
                    with cur.copy(copy_sql("jobs", JOB_COLUMNS)) as copy:
                        for row in batch.jobs:
                            copy.write_row(row)
                    if batch.audits:
                        with cur.copy(copy_sql("audit_logs", AUDIT_COLUMNS)) as copy:
                            for row in batch.audits:
                                copy.write_row(row)
                    if commit_every_batch:
                        conn.commit()
            conn.commit()
    finally:
        conn.close()


def fix_sequences(db: Database) -> None:
    """After explicit ids were copied in, move PostgreSQL's sequence past them."""
    if db.kind != "postgresql":
        return
    with psycopg.connect(libpq(db.url), autocommit=True) as conn:
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('jobs', 'id'), "
            "(SELECT coalesce(max(id), 0) + 1 FROM jobs), false)"
        )


def analyze(db: Database) -> None:
    """Fresh planner statistics (autovacuum would get there soon; a benchmark cannot wait)."""
    if db.kind == "sqlite":
        conn = db.raw()
        try:
            conn.execute("ANALYZE")
        finally:
            conn.close()
    else:
        with psycopg.connect(libpq(db.url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")


def populate(db: Database, rows: int, *, with_audit: bool = True) -> None:
    """Fill an empty database fast with `rows` pending jobs (and their creation entries)."""
    for start in range(0, rows, 100_000):
        drafts = synthetic_drafts(min(100_000, rows - start), start)
        batches = precompute_import(
            db.kind,
            drafts,
            with_audit=with_audit,
            first_id=start + 1,
            tip=_tip(db) if with_audit and start else None,
        )
        raw_load(db, batches)
    fix_sequences(db)
    analyze(db)


def _tip(db: Database) -> str | None:
    conn = db.raw()
    try:
        row = conn.execute("SELECT entry_hash FROM audit_logs ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else row[0]
    finally:
        conn.close()


def count_rows(db: Database, table: str, where: str = "") -> int:
    conn = db.raw()
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0])
    finally:
        conn.close()


def human_bytes(n: float) -> str:
    return f"{n / MB:,.1f} MB"


def run_main(
    main: Callable[[argparse.Namespace, Workspace, Reporter], None],
    args: argparse.Namespace,
    script: str,
) -> int:
    ws = Workspace(args)
    reporter = Reporter(args, script)
    try:
        main(args, ws, reporter)
    finally:
        ws.close()
    return 0


KEPT_NAME = "imported"  # the database import_rate.py --keep leaves for the next scripts


def jobs_database(
    ws: Workspace, kind: str, rows: int, *, reuse: bool, with_audit: bool, name: str
) -> tuple[Database, bool]:
    """A database holding at least `rows` jobs: the import's kept one when `reuse` finds it,
    else a fresh one filled by the raw loader. Returns (database, whether it was reused)."""
    site = ws.site(kind)
    if reuse and site.exists(KEPT_NAME):
        db = site.existing(KEPT_NAME)
        have = count_rows(db, "jobs")
        if have >= rows:
            return db, True
        print(f"  (kept database has {have:,} jobs, fewer than {rows:,}: populating a new one)")
    db = site.fresh(name)
    populate(db, rows, with_audit=with_audit)
    return db, False
