"""Many processes at once: one linear audit chain, and no job claimed twice."""

import multiprocessing
import time

from sqlalchemy import func, select

from concurrency_workers import append_entries, claim_all
from edc.db import DatabaseEngine
from edc.db.models import AuditLog, Job, JobStatus
from edc.db.repositories import AuditLogRepository

PROCESSES = 8


def test_parallel_appenders_make_one_chain(db: DatabaseEngine, database_url: str) -> None:
    per_process = 200
    start_at = time.time() + 1.5
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        results = pool.starmap(
            append_entries, [(database_url, w, per_process, start_at) for w in range(PROCESSES)]
        )
    assert sum(results) == PROCESSES * per_process
    with db.session(read_only=True) as s:
        result = AuditLogRepository(s).verify()
        predecessors = s.execute(
            select(AuditLog.previous_hash, func.count()).group_by(AuditLog.previous_hash)
        ).all()
    assert result.ok, result.message
    assert result.entries_checked == PROCESSES * per_process
    assert all(count == 1 for _, count in predecessors)
    print(
        f"appenders: {PROCESSES} processes x {per_process} -> one chain of {result.entries_checked}"
    )


def test_parallel_workers_claim_each_job_exactly_once(
    db: DatabaseEngine, database_url: str
) -> None:
    total, workers = 1000, 4
    with db.begin() as conn:
        conn.execute(
            Job.__table__.insert(),
            [{"uuid": f"00000000-0000-7000-8000-{i:012d}", "url": f"https://e.com/{i}",
              "when": "20200101000000"} for i in range(total)],
        )  # fmt: skip
        all_ids = sorted(conn.execute(select(Job.id)).scalars())
    start_at = time.time() + 1.5
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        results = pool.starmap(
            claim_all, [(database_url, f"worker-{w}", 300, start_at) for w in range(workers)]
        )
    claimed = sorted(job_id for ids in results for job_id in ids)
    assert claimed == all_ids
    assert all(results), "every worker should have claimed something"
    with db.session(read_only=True) as s:
        done = s.scalar(
            select(func.count()).select_from(Job).where(Job.status == JobStatus.COMPLETED)
        )
        attempts = set(s.scalars(select(Job.attempts)))
        verified = AuditLogRepository(s).verify()
    assert done == total
    assert attempts == {1}
    assert verified.ok, verified.message
    print(f"claims: {workers} workers, {total} jobs, per worker {[len(r) for r in results]}")
