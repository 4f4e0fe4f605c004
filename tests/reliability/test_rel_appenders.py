"""Scenario 3: eight processes append to the audit log at once, through the repository.

Each process connects first, then all start together (a go-file) and append 300 entries, one
transaction each. The result must be one chain of 8 x 300 entries that verifies, where no two
entries share a predecessor and every process's entries appear in the order it wrote them.
"""

import itertools
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

from rel_support import LONG, Report, WorkerProcess, opened
from sqlalchemy import func, select

from cli_support import run_edc
from edc.db import migrate
from edc.db.models import AuditLog

PROCESSES = 8
PER_PROCESS = 1_000 if LONG else 300


def test_concurrent_appenders_make_one_chain(
    backend: str, database_url: str, tmp_path: Path, report: Report
) -> None:
    with opened(database_url) as db:
        migrate.init_schema(db)
    go = tmp_path / "go"
    workers = []
    for number in range(PROCESSES):
        ready = tmp_path / f"ready-{number}"
        log = tmp_path / f"appender-{number}.log"
        process = WorkerProcess(
            "append", database_url, f"appender-{number}", str(PER_PROCESS), str(ready), str(go),
            str(log),
        )  # fmt: skip
        workers.append((ready, log, process))
    try:
        deadline = time.monotonic() + 120
        while not all(ready.exists() for ready, _, _ in workers):
            assert all(p.poll() is None for _, _, p in workers), "an appender died starting"
            assert time.monotonic() < deadline, "appenders did not start"
            time.sleep(0.01)
        started = time.monotonic()
        go.touch()
        for _, log, process in workers:
            assert process.wait(timeout=300) == 0, log.read_text()
        elapsed = time.monotonic() - started
    finally:
        for _, _, process in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
    claimed = sum(json.loads(log.read_text().splitlines()[-1])["appended"] for _, log, _ in workers)

    with opened(database_url) as db, db.session(read_only=True) as session:
        entries = session.execute(
            select(AuditLog.actor, AuditLog.description, AuditLog.previous_hash).order_by(
                AuditLog.id
            )
        ).all()
        shared = session.execute(
            select(AuditLog.previous_hash, func.count())
            .group_by(AuditLog.previous_hash)
            .having(func.count() > 1)
        ).all()
    total = PROCESSES * PER_PROCESS
    assert claimed == total
    assert len(entries) == total
    assert not shared, f"{len(shared)} predecessors are shared (a fork): {shared[:3]}"
    assert sum(1 for entry in entries if entry.previous_hash is None) == 1
    order: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        order[entry.actor].append(int(entry.description.split(" ")[1]))
    assert all(numbers == list(range(PER_PROCESS)) for numbers in order.values()), (
        "some process's entries are missing or out of its order"
    )
    interleaved = sum(1 for a, b in itertools.pairwise(entries) if a.actor != b.actor)
    verify = run_edc("--database-url", database_url, "audit", "verify", "--json")
    assert verify.returncode == 0, verify.stderr
    checked = json.loads(verify.stdout)["entries_checked"]
    assert checked == total
    per_process = Counter(entry.actor for entry in entries)
    report(
        f"{backend}: {PROCESSES} processes x {PER_PROCESS} appends in {elapsed:.1f} s -> one "
        f"chain of {checked} entries (edc audit verify exit 0), 0 shared predecessors, "
        f"{interleaved} switches between writers, per process {sorted(set(per_process.values()))}"
    )
