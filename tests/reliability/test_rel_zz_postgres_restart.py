"""Scenario 5 (PostgreSQL only): the server goes away and comes back under a working process.

One worker process keeps appending audit entries and claiming-and-completing jobs, logging
every operation. The test server is stopped (`pg_ctl -m fast stop`), left down, and started
again with the options scripts/test-postgres.sh gives it, twice. Operations during an outage
must fail with an exception within seconds (never hang); afterwards the same process carries on
(pool_pre_ping) and nothing it saw committed is missing.

This stops the server every other test uses: it is marked `serial`, so `make test` runs it alone
after the parallel part (and in a plain `pytest` run the module sorts last among the reliability
tests), and the server is restarted and checked in a `finally`, whatever happens.
"""

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from rel_support import (
    LONG,
    PostgresServer,
    Report,
    WorkerProcess,
    one_line_error,
    opened,
    write_requests,
)
from sqlalchemy import select

from cli_support import run_edc
from edc.db import migrate
from edc.db.models import AuditLog, Job, JobStatus
from edc.ingest.importer import import_file

CYCLES = 5 if LONG else 2
OUTAGE_S = 2.0
OP_LIMIT_S = 15.0
MIN_OK_BETWEEN = 10  # successful operations wanted before and after each outage
CLEAR_ERRORS = (
    "edc.errors.DatabaseUnavailableError",
    "sqlalchemy.exc.OperationalError",
    "sqlalchemy.exc.InterfaceError",
    "sqlalchemy.exc.DBAPIError",
)


def _records(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{")]


def _wait_for_ok(log: Path, since: float, worker: WorkerProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        ok = [r for r in _records(log) if r.get("ok") and r["t"] >= since]
        if len(ok) >= MIN_OK_BETWEEN:
            return
        assert worker.poll() is None, f"the worker died: {log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no progress after the restart: {_tail(log)}"
        time.sleep(0.05)


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(encoding="utf-8").splitlines()[-5:])


@pytest.mark.postgresql
@pytest.mark.serial  # stops the shared server: `make test` runs it alone, after the rest
def test_worker_survives_postgres_restarts(
    pg_server: PostgresServer, postgres_database_url: str, tmp_path: Path, report: Report
) -> None:
    url = postgres_database_url
    server_url = os.environ["EDC_TEST_POSTGRES_URL"]
    with opened(url) as db:
        migrate.init_schema(db)
        import_file(db, write_requests(tmp_path / "jobs.csv", 3_000, "restart"))
    log, stop = tmp_path / "outage.log", tmp_path / "stop"
    worker = WorkerProcess("outage", url, "outage-worker", str(stop), str(log))
    options_before = pg_server.postmaster_opts()
    outages: list[tuple[float, float]] = []
    cli_during: list[tuple[int, float, str]] = []
    try:
        _wait_for_ok(log, 0, worker)
        for cycle in range(CYCLES):
            down = time.time()
            pg_server.stop()
            if cycle == 0:  # the CLI during an outage: one clear line, a non-zero exit, quickly
                started = time.monotonic()
                listed = run_edc("--database-url", url, "jobs", "list", timeout=60)
                cli_during.append(
                    (listed.returncode, time.monotonic() - started, listed.stderr.strip())
                )
            time.sleep(max(0.0, OUTAGE_S - (time.time() - down)))
            pg_server.start()
            up = time.time()
            outages.append((down, up))
            _wait_for_ok(log, up, worker)
    finally:
        pg_server.ensure_up(server_url)
        stop.touch()
    alive_throughout = worker.poll() is None
    assert worker.wait(60) == 0, _tail(log)
    assert alive_throughout
    assert pg_server.postmaster_opts() == options_before

    records = [r for r in _records(log) if "op" in r]
    failures = [r for r in records if not r["ok"]]
    slow = [r for r in records if r["dt"] >= OP_LIMIT_S]
    unclear = [r for r in failures if r["error"] not in CLEAR_ERRORS or not r["message"]]
    assert not slow, f"operations took {OP_LIMIT_S} s or more: {slow[:3]}"
    assert not unclear, f"unexpected errors: {unclear[:3]}"
    for down, up in outages:
        during = [r for r in failures if down - 1 <= r["t"] <= up + 1]
        assert during, f"no operation failed during the outage {down}..{up}"
        after = [r for r in records if r["ok"] and r["t"] > up]
        assert after, "the worker did not carry on after the restart"
    for code, took, stderr in cli_during:
        assert code == 2, stderr
        assert took < OP_LIMIT_S
        assert one_line_error(stderr), stderr

    committed = [r for r in records if r["ok"] and "uuid" in r]
    appended = {r["uuid"] for r in committed if r["op"] == "append"}
    completed = {r["uuid"] for r in committed if r["op"] == "claim"}
    in_doubt = [r for r in failures if r["stage"] == "commit"]
    with opened(url) as db, db.session(read_only=True) as session:
        stored = set(
            session.scalars(select(AuditLog.uuid).where(AuditLog.actor == "outage-worker"))
        )
        jobs = {
            row.uuid: row
            for row in session.execute(
                select(Job.uuid, Job.status, Job.memento_url).where(
                    Job.status == JobStatus.COMPLETED
                )
            )
        }
    doubtful = {r["uuid"] for r in in_doubt if "uuid" in r}
    doubtful_kept = len(doubtful & (stored | set(jobs)))
    lost_entries = appended - stored
    lost_jobs = {u for u in completed if u not in jobs or jobs[u].memento_url != f"result-of-{u}"}
    assert not lost_entries, f"{len(lost_entries)} committed audit entries are missing"
    assert not lost_jobs, f"{len(lost_jobs)} completed jobs are not completed"
    verify = run_edc("--database-url", url, "audit", "verify")
    assert verify.returncode == 0, verify.stderr

    kinds = sorted({r["error"].rsplit(".", 1)[1] for r in failures})
    longest = max((r["dt"] for r in failures), default=0.0)
    report(
        f"postgresql: {CYCLES} stop/start cycles ({OUTAGE_S:.0f} s down each) under one "
        f"worker process (same pid throughout): {len(records)} operations, "
        f"{len(records) - len(failures)} ok, {len(failures)} failed during outages "
        f"({', '.join(kinds)}; slowest failure {longest:.3f} s, limit {OP_LIMIT_S:.0f} s), "
        f"{len(in_doubt)} in doubt (failed in COMMIT; {doubtful_kept} of them were committed); "
        f"committed {len(appended)} appends + "
        f"{len(completed)} completions, lost 0; `edc jobs list` while down: exit "
        f"{cli_during[0][0]} in {cli_during[0][1]:.1f} s; server back with the same options; "
        "audit verify exit 0"
    )
