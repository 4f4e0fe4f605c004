"""Worker processes for the reliability scenarios: each function is the whole life of one
process, started with `rel_support.start_process` (forked, so that starting one costs
milliseconds, not a fresh interpreter's imports) or as `python rel_workers.py MODE ARGS...`.

They use edc's public repositories the way a real worker would, each in its own process (so a
test can SIGKILL one), and log what they did line by line, flushed at once, so that the log
survives a kill:

- `append URL NAME COUNT READY GO LOG`: append COUNT audit entries, one transaction each,
  starting when the file GO exists (after creating READY, so all processes start together).
- `claim URL WORKER LEASE WORK LOG`: claim jobs with a lease, "work" WORK seconds, complete each
  with memento_url `result-of-<uuid>`; exit when every job is completed.
- `outage URL NAME STOP LOG`: until the file STOP exists, alternately append an audit entry and
  claim-and-complete a job, logging each operation's outcome and duration as a JSON line.
"""

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select

from edc.config import DatabaseConfig
from edc.db import DatabaseEngine
from edc.db.models import AuditAction, Job, JobStatus
from edc.db.repositories import AuditContext, AuditLogRepository, JobRepository
from edc.errors import LeaseLostError


def _wait_for(path: Path, poll: float = 0.002) -> None:
    while not path.exists():
        time.sleep(poll)


def append(url: str, name: str, count: int, ready: Path, go: Path, log: TextIO) -> None:
    db = DatabaseEngine(DatabaseConfig(url=url))
    context = AuditContext(actor=name)
    with db.session(read_only=True) as session:  # connect (and import everything) before GO
        AuditLogRepository(session).head()
    ready.touch()
    _wait_for(go)
    for i in range(count):
        with db.session() as session:
            AuditLogRepository(session, context).append(
                AuditAction.ACCESS, "reliability", f"entry {i} of {name}", target_id=str(i)
            )
    db.dispose()
    log.write(json.dumps({"name": name, "appended": count}) + "\n")


def _unfinished(db: DatabaseEngine) -> int:
    with db.session(read_only=True) as session:
        statement = select(func.count()).select_from(Job).where(Job.status != JobStatus.COMPLETED)
        return int(session.scalar(statement) or 0)


def claim(url: str, worker: str, lease: float, work: float, log: TextIO) -> None:
    db = DatabaseEngine(DatabaseConfig(url=url))
    context = AuditContext(actor=worker)
    while True:
        with db.session() as session:
            job = JobRepository(session, context).claim_next(worker, lease)
            held = (job.id, job.uuid, job.attempts) if job is not None else None
        if held is None:
            if _unfinished(db) == 0:
                break
            time.sleep(0.05)  # jobs are held by others (maybe dead): wait for their leases
            continue
        job_id, job_uuid, attempt = held
        log.write(f"claimed {job_id} {job_uuid} {attempt}\n")
        time.sleep(work)
        try:
            with db.session() as session:
                jobs = JobRepository(session, context)
                record = jobs.get_by_id(job_id)
                assert record is not None
                jobs.complete(record, worker, memento_url=f"result-of-{job_uuid}")
        except LeaseLostError as exc:
            log.write(f"lease-lost {job_id} {exc}\n")
        else:
            log.write(f"completed {job_id}\n")
    db.dispose()
    log.write("done\n")


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else ""


def outage(url: str, name: str, log: TextIO, stop: Path) -> None:
    """Keep working through a database outage; each operation's outcome is one JSON line."""
    db = DatabaseEngine(DatabaseConfig(url=url))
    context = AuditContext(actor=name)
    number = 0
    while not stop.exists():
        number += 1
        op = "append" if number % 2 else "claim"
        record: dict[str, Any] = {"n": number, "op": op, "t": time.time()}
        stage = "work"
        started = time.monotonic()
        try:
            with db.session() as session:
                if op == "append":
                    entry = AuditLogRepository(session, context).append(
                        AuditAction.ACCESS, "reliability", f"op {number} of {name}"
                    )
                    record["uuid"] = entry.uuid
                else:
                    jobs = JobRepository(session, context)
                    job = jobs.claim_next(name, 300)
                    if job is not None:
                        jobs.complete(job, name, memento_url=f"result-of-{job.uuid}")
                        record["uuid"] = job.uuid
                stage = "commit"
        except Exception as exc:
            record.update(
                ok=False,
                stage=stage,
                error=f"{type(exc).__module__}.{type(exc).__name__}",
                message=_first_line(exc),
            )
        else:
            record["ok"] = True
        record["dt"] = round(time.monotonic() - started, 3)
        log.write(json.dumps(record) + "\n")
        time.sleep(0.02 if record["ok"] else 0.2)
    db.dispose()
    log.write(json.dumps({"done": True, "ops": number}) + "\n")


def run(mode: str, *args: str) -> None:
    """Run one worker: `mode` and its arguments as strings, its log opened line-buffered."""
    *rest, log_path = args
    with open(log_path, "a", buffering=1, encoding="utf-8") as log:
        if mode == "append":
            url, name, count, ready, go = rest
            append(url, name, int(count), Path(ready), Path(go), log)
        elif mode == "claim":
            url, worker, lease, work = rest
            claim(url, worker, float(lease), float(work), log)
        elif mode == "outage":
            url, name, stop = rest
            outage(url, name, log, Path(stop))
        else:
            raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    run(*sys.argv[1:])
