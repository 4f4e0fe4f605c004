"""Functions run in separate processes by the concurrency tests (importable by spawn children)."""

import time

from edc.config import DatabaseConfig
from edc.db import DatabaseEngine
from edc.db.models import AuditAction
from edc.db.repositories import AuditContext, AuditLogRepository, JobRepository


def _wait_until(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def append_entries(url: str, worker: int, count: int, start_at: float) -> int:
    """Append `count` audit entries, one transaction each, as fast as possible."""
    db = DatabaseEngine(DatabaseConfig(url=url))
    _wait_until(start_at)
    try:
        for i in range(count):
            with db.session() as session:
                AuditLogRepository(session, AuditContext(actor=f"worker-{worker}")).append(
                    AuditAction.ACCESS, "test", f"entry {i} of worker {worker}", target_id=str(i)
                )
    finally:
        db.dispose()
    return count


def claim_all(url: str, worker_id: str, lease_seconds: float, start_at: float) -> list[int]:
    """Claim and complete jobs until none is left; return the ids this worker claimed."""
    db = DatabaseEngine(DatabaseConfig(url=url))
    _wait_until(start_at)
    claimed: list[int] = []
    try:
        while True:
            with db.session() as session:
                repo = JobRepository(session)
                job = repo.claim_next(worker_id, lease_seconds)
                if job is None:
                    break
                claimed.append(job.id)
                repo.complete(job, worker_id, memento_url=f"https://m/{job.id}")
    finally:
        db.dispose()
    return claimed


def claim_complete_sealing(url: str, worker_id: str, seal_every: int, start_at: float) -> list[int]:
    """`claim_all`, sealing after every `seal_every` events this worker records."""
    from edc.db import sealing

    sealing.DEFAULT_POLICY.max_events = seal_every
    return claim_all(url, worker_id, 300, start_at)
