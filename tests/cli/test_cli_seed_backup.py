"""`edc db seed`, `edc db backup` and the counts in `edc db status`, through the executable."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from cli_support import run_edc
from edc.db import DatabaseEngine

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_seed_then_verify_then_tamper(
    edc: Run, engine: DatabaseEngine, tmp_path: Path, tamper: Callable[..., int]
) -> None:
    evidence = tmp_path / "evidence"
    seeded = edc("db", "seed", "--artifacts-dir", str(evidence))
    assert seeded.returncode == 0, seeded.stderr
    assert "seeded 12 jobs and 20 artifacts" in seeded.stdout
    status = json.loads(edc("db", "status", "--json").stdout)
    assert status["jobs"] == {
        "pending": 3,
        "running": 2,
        "completed": 4,
        "failed": 2,
        "cancelled": 1,
    }
    assert status["audit"]["count"] == 47
    assert edc("artifacts", "verify").returncode == 0
    assert edc("audit", "verify").returncode == 0

    again = edc("db", "seed", "--artifacts-dir", str(evidence))
    assert again.returncode == 2
    assert "already holds 12 job(s)" in again.stderr

    victim = sorted(evidence.glob("*.pdf"))[0]
    data = bytearray(victim.read_bytes())
    data[20] ^= 0x01
    victim.write_bytes(bytes(data))
    files = edc("artifacts", "verify")
    assert files.returncode == 1
    assert str(victim) in files.stdout + files.stderr

    assert tamper("UPDATE audit_logs SET description = 'nothing happened' WHERE id = 5") == 1
    chain = edc("audit", "verify")
    assert chain.returncode == 1
    assert "id 5 " in chain.stderr


def test_seed_force_adds_to_a_case(edc: Run, tmp_path: Path) -> None:
    assert edc("db", "seed", "--artifacts-dir", str(tmp_path / "a")).returncode == 0
    forced = edc("db", "seed", "--force", "--artifacts-dir", str(tmp_path / "b"))
    assert forced.returncode == 0, forced.stderr
    assert sum(json.loads(edc("db", "status", "--json").stdout)["jobs"].values()) == 24


WRITER = """
import sys, time
from edc.config import DatabaseConfig
from edc.db import DatabaseEngine
from edc.db.models import AuditAction
from edc.db.repositories import AuditLogRepository
db = DatabaseEngine(DatabaseConfig(url=sys.argv[1]))
print("ready", flush=True)
deadline = time.time() + float(sys.argv[2])
while time.time() < deadline:
    with db.session() as s:
        AuditLogRepository(s).append(AuditAction.ACCESS, "test", "background write")
"""


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_backup_is_consistent_while_writing(
    edc: Run, engine: DatabaseEngine, database_url: str, tmp_path: Path
) -> None:
    assert edc("db", "seed", "--artifacts-dir", str(tmp_path / "ev")).returncode == 0
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, database_url, "8"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        copy = tmp_path / "copy.db"
        done = edc("db", "backup", str(copy))
        assert done.returncode == 0, done.stderr
        assert "sqlite online backup" in done.stdout
    finally:
        writer.kill()
        writer.wait()
    verified = run_edc("--database-url", f"sqlite:///{copy}", "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["entries_checked"] >= 47
    exists = edc("db", "backup", str(copy))
    assert exists.returncode == 2
    assert "already exists" in exists.stderr
    assert edc("db", "backup", "--force", str(copy)).returncode == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_backup_restores_to_a_verified_chain(
    edc: Run, database_url: str, postgres_database_url: str, tmp_path: Path
) -> None:
    assert edc("db", "seed", "--artifacts-dir", str(tmp_path / "ev")).returncode == 0
    dump = tmp_path / "case.dump"
    done = edc("db", "backup", str(dump))
    assert done.returncode == 0, done.stderr
    assert "pg_dump" in done.stdout
    assert dump.stat().st_size > 0
    # restore into a second fresh database and verify the chain there

    server = make_url(os.environ["EDC_TEST_POSTGRES_URL"])
    target = f"edc_restore_{os.getpid()}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}"')
        conn.execute(f'CREATE DATABASE "{target}"')
    try:
        restored = server.set(database=target)
        url = restored.render_as_string(hide_password=False)
        restore = ["pg_restore", "--no-owner", f"--dbname={url}", str(dump)]
        subprocess.run(restore, check=True, capture_output=True)
        verified = run_edc("--database-url", url, "audit", "verify")
        assert verified.returncode == 0, verified.stderr
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_backup_without_pg_dump_says_so(
    edc: Run, engine: DatabaseEngine, tmp_path: Path
) -> None:
    bare = {"PATH": str(Path(sys.executable).parent)}  # edc, but no pg_dump
    done = edc("db", "backup", str(tmp_path / "x.dump"), env=bare)
    assert done.returncode == 2
    assert "pg_dump is not installed" in done.stderr
