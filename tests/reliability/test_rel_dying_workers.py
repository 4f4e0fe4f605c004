"""Scenario 4: workers claim 1,000 jobs with a short lease while a supervisor SIGKILLs one every
second and starts a replacement.

Each worker claims a job (committed), logs "claimed ID UUID ATTEMPT", works briefly and
completes it with memento_url `result-of-UUID`. In the end every job is completed exactly once
with its own result; every job a killed worker held was claimed again only after its lease had
expired (attempts > 1, a "re-claimed after an expired lease" audit entry); and a killed worker's
late write, replayed with its worker id, is refused with LeaseLostError.
"""

import itertools
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rel_support import LONG, Report, WorkerProcess, opened, write_requests
from sqlalchemy import select

from cli_support import run_edc
from edc.db import migrate
from edc.db.models import AuditLog, Job, JobStatus
from edc.db.repositories import AuditLogRepository, JobRepository
from edc.errors import LeaseLostError
from edc.ingest.importer import import_file

JOBS = 5_000 if LONG else 1_000
WORKERS = 4
LEASE_S = 2.0
WORK_S = 0.005
KILL_EVERY_S = 1.0
SEED = 4_242
CLAIMED = ("job claimed by ", "job re-claimed after an expired lease by ")
COMPLETED = "job status running -> completed"


@dataclass
class Worker:
    name: str
    log: Path
    process: WorkerProcess
    killed_at: float | None = None

    def lines(self) -> list[str]:
        """The worker's log; none if it was killed before it opened it (then it did nothing:
        on a slow machine a replacement can be killed while Python is still starting)."""
        return self.log.read_text().splitlines() if self.log.exists() else []

    def tail(self) -> str:
        """The end of the worker's log, for a failure message."""
        return "\n".join(self.lines())[-3000:]

    def lost_leases(self) -> set[int]:
        """Jobs this worker was refused completing (LeaseLostError): it was too slow."""
        return {int(line.split(" ")[1]) for line in self.lines() if line.startswith("lease-lost ")}

    def held_at_death(self) -> tuple[int, str] | None:
        """The job this worker had claimed and not completed according to its own log."""
        held: dict[int, str] = {}
        for line in self.lines():
            kind, *rest = line.split(" ")
            if kind == "claimed":
                held[int(rest[0])] = rest[1]
            elif kind in ("completed", "lease-lost"):
                held.pop(int(rest[0]), None)
        assert len(held) <= 1, f"{self.name} held {held}"
        return next(iter(held.items()), None)


@dataclass
class Claim:
    worker: str
    attempt: int
    at: datetime
    lease_until: datetime
    reclaim: bool


@dataclass
class Trail:
    claims: list[Claim] = field(default_factory=list)
    completions: list[str] = field(default_factory=list)  # workers that completed it


def _trails(session: Any) -> dict[str, Trail]:
    trails: dict[str, Trail] = defaultdict(Trail)
    entries = session.execute(
        select(AuditLog.job_uuid, AuditLog.description, AuditLog.details, AuditLog.created_at)
        .where(AuditLog.target_type == "job")
        .order_by(AuditLog.id)
    )
    for job_uuid, description, details, created_at in entries:
        if description.startswith(CLAIMED):
            trails[job_uuid].claims.append(
                Claim(
                    worker=details["worker"],
                    attempt=details["attempt"],
                    at=created_at,
                    lease_until=datetime.fromisoformat(details["lease_until"]),
                    reclaim=description.startswith(CLAIMED[1]),
                )
            )
        elif description == COMPLETED:
            trails[job_uuid].completions.append(details["worker"])
    return trails


def test_killed_workers_lose_nothing_and_do_nothing_twice(
    backend: str, database_url: str, tmp_path: Path, report: Report
) -> None:
    with opened(database_url) as db:
        migrate.init_schema(db)
        import_file(db, write_requests(tmp_path / "jobs.csv", JOBS, "work"))
    rng = random.Random(f"{SEED}-{backend}")
    workers: list[Worker] = []

    def start() -> None:
        name = f"worker-{len(workers) + 1:02d}"
        log = tmp_path / f"{name}.log"
        process = WorkerProcess("claim", database_url, name, str(LEASE_S), str(WORK_S), str(log))
        workers.append(Worker(name, log, process))

    for _ in range(WORKERS):
        start()
    started = time.monotonic()
    deadline = started + (600 if LONG else 240)
    next_kill = started + KILL_EVERY_S
    try:
        while any(w.process.poll() is None for w in workers):
            assert time.monotonic() < deadline, "the workers did not finish the queue in time"
            crashed = [
                w for w in workers if w.killed_at is None and w.process.poll() not in (None, 0)
            ]
            assert not crashed, f"{crashed[0].name} failed: {crashed[0].tail()}"
            if time.monotonic() >= next_kill:
                alive = [w for w in workers if w.process.poll() is None]
                victim = rng.choice(alive)
                victim.process.kill()
                victim.process.wait()
                victim.killed_at = time.monotonic() - started
                start()
                next_kill += KILL_EVERY_S
            time.sleep(0.02)
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()
    elapsed = time.monotonic() - started
    killed = {w.name: w for w in workers if w.killed_at is not None}
    assert killed, "no worker was killed"
    for worker in workers:
        if worker.name not in killed:
            assert worker.process.poll() == 0, worker.tail()

    with opened(database_url) as db:
        with db.session() as session:  # the workers' events still pending join the chain first
            AuditLogRepository(session).seal()
        with db.session(read_only=True) as session:
            jobs = session.execute(
                select(Job.id, Job.uuid, Job.status, Job.memento_url, Job.attempts)
            ).all()
            trails = _trails(session)
    lost = [j.uuid for j in jobs if j.status is not JobStatus.COMPLETED]
    wrong_result = [j.uuid for j in jobs if j.memento_url != f"result-of-{j.uuid}"]
    duplicated = [uuid for uuid, t in trails.items() if len(t.completions) > 1]
    # A live worker held up longer than its lease (CPU or lock starvation) loses the job like a
    # dead one; its late complete() must then have been refused, which its log records.
    slow = {w.name: w.lost_leases() for w in workers}
    unexpected: list[str] = []
    reclaimed: list[str] = []
    for job in jobs:
        trail = trails[job.uuid]
        claims = trail.claims
        if len(claims) != job.attempts or [c.attempt for c in claims] != list(
            range(1, job.attempts + 1)
        ):
            unexpected.append(f"{job.uuid}: {job.attempts} attempts, claims {claims}")
            continue
        if trail.completions and trail.completions[-1] != claims[-1].worker:
            unexpected.append(f"{job.uuid}: completed by {trail.completions} not its last holder")
        for before, after in itertools.pairwise(claims):
            gone = before.worker in killed or job.id in slow.get(before.worker, set())
            if not gone or not after.reclaim or after.at < before.lease_until:
                unexpected.append(f"{job.uuid}: re-claimed from {before} by {after}")
        if len(claims) > 1:
            reclaimed.append(job.uuid)
    assert not lost, f"{len(lost)} jobs not completed, e.g. {lost[:3]}"
    assert not wrong_result, f"{len(wrong_result)} jobs with a wrong result: {wrong_result[:3]}"
    assert not duplicated, f"{len(duplicated)} jobs completed twice: {duplicated[:3]}"
    assert not unexpected, f"{len(unexpected)} unexpected: {unexpected[:3]}"
    assert len(jobs) == JOBS
    assert reclaimed, "no job held by a killed worker was claimed again"

    # A killed worker's late write: replay complete() with its id for a job it held.
    held = [(w, job) for w in killed.values() if (job := w.held_at_death()) is not None]
    replayable = [(w, job) for w, job in held if trails[job[1]].claims[-1].worker != w.name]
    assert replayable, f"no killed worker held a job that was taken over ({len(held)} held)"
    dead, (job_id, job_uuid) = replayable[0]
    with opened(database_url) as db:
        with pytest.raises(LeaseLostError, match=dead.name), db.session() as session:
            jobs_repo = JobRepository(session)
            record = jobs_repo.get_by_id(job_id)
            assert record is not None
            jobs_repo.complete(record, dead.name, memento_url="late write of a dead worker")
        with db.session(read_only=True) as session:
            after = JobRepository(session).get_by_id(job_id)
            assert after is not None
            assert after.memento_url == f"result-of-{job_uuid}"
    verify = run_edc("--database-url", database_url, "audit", "verify")
    assert verify.returncode == 0, verify.stderr

    max_attempts = max(j.attempts for j in jobs)
    report(
        f"{backend}: {JOBS} jobs, {len(workers)} worker processes ({len(killed)} SIGKILLed, one "
        f"a second), lease {LEASE_S} s, {elapsed:.1f} s; completed {len(jobs) - len(lost)}, "
        f"lost {len(lost)}, duplicated {len(duplicated)}, unexpected {len(unexpected)}; "
        f"{len(held)} held by a killed worker, {len(reclaimed)} re-claimed after lease expiry "
        f"(max attempts {max_attempts}); {sum(map(len, slow.values()))} leases lost by slow live "
        f"workers, their late writes refused; late write of {dead.name} for job {job_uuid} refused "
        "(LeaseLostError); audit verify exit 0"
    )
