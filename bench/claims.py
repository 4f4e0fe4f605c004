"""Figure `claims`: `JobRepository.claim_next` in W worker processes (default 4), one claim per
transaction, against the raw single-statement claim in the same W-process setup.

Each side starts from a fresh database holding `--rows` pending jobs (raw loader, no audit
entries yet) and runs for `--seconds` (or until the queue is empty); claims/s = all claims /
wall time. Workers are spawned processes that connect first and start together (a barrier).

- edc: `with db.session(): JobRepository(session).claim_next(worker, 300)`: the claim (expired
  leases first, then pending) and its audit event recorded as pending, committed; the workers
  seal pending events into the hash chain as edc's seal policy says, during the window. After
  the window the events still pending are sealed and that time is **added** to edc's elapsed
  time, so the figure includes linking every claimed job's audit entry into the chain. The
  chain is then verified (not timed): one entry per claim.
- baseline (PostgreSQL): `UPDATE jobs SET status='running', locked_by, locked_until,
  attempts+1, updated_at WHERE id = (SELECT id FROM jobs WHERE status = 'pending' ORDER BY id
  FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id`, committed; (SQLite) the same UPDATE without
  the locking clause under `BEGIN IMMEDIATE`.
- information only, not the figure: `raw+audit`, the same raw claim plus what auditing it costs
  at the least: the chain lock (PostgreSQL advisory lock), reading the tip, hashing a
  ChainEntry and inserting the entry, all with the raw driver (the same final rows as edc:
  the claimed job and its chained entry); `raw+event`, the raw claim and its pending audit
  event by edc's own SQL (one statement on PostgreSQL, the UPDATE and an INSERT on SQLite),
  never sealed: the least any claim that records its event in its own transaction can do.

Every claimed id is collected and checked for duplicates.
"""

import multiprocessing
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import (
    AUDIT_COLUMNS,
    Database,
    Reporter,
    Result,
    RowMaker,
    Workspace,
    at_least,
    insert_sql,
    kinds,
    parser,
    populate,
    print_settings,
    run_main,
)
from edc.db.repositories.queue_sql import db_time

TARGET = 0.7
LEASE = 300.0
SAME_WORK = {
    "raw+audit": "raw claim + chained audit entry",
    "raw+event": "raw claim + pending event",
}
"""Information-only sides: the raw driver doing the audit work edc's claim must do too."""


def _claim_sql(kind: str) -> str:
    mark = "?" if kind == "sqlite" else "%s"
    lock = "" if kind == "sqlite" else " FOR UPDATE SKIP LOCKED"
    return (
        f"UPDATE jobs SET status = 'running', locked_by = {mark}, locked_until = {mark}, "
        f"attempts = attempts + 1, updated_at = {mark} WHERE id = (SELECT id FROM jobs "
        f"WHERE status = 'pending' ORDER BY id{lock} LIMIT 1) RETURNING id, uuid, attempts"
    )


class RawClaimer:
    """The raw single-statement claim (and, with `audit`, the cheapest correct audit of it)."""

    def __init__(self, db: Database, worker: str, audit: bool, event: bool = False) -> None:
        self.kind = db.kind
        self.conn = db.raw()
        self.worker = worker
        self.audit = audit
        self.event = event
        self.sql = _claim_sql(db.kind)
        self.maker = RowMaker(db.kind)
        self.audit_sql = insert_sql(
            "audit_logs", AUDIT_COLUMNS, "qmark" if db.kind == "sqlite" else "format"
        )

    def claim(self) -> int | None:
        now = datetime.now(UTC)
        until = now + timedelta(seconds=LEASE)
        conn = self.conn
        if self.event:
            return self._claim_with_event(now, until)
        if self.kind == "sqlite":
            conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(
            self.sql, (self.worker, db_time(self.kind, until), db_time(self.kind, now))
        ).fetchone()
        if row is not None and self.audit:
            self._audit(row, now, until)
        if self.kind == "sqlite":
            conn.execute("COMMIT")
        else:
            conn.commit()
        return None if row is None else int(row[0])

    def _claim_with_event(self, now: datetime, until: datetime) -> int | None:
        """The claim and its pending event, the cheapest way: edc's own SQL, no sealing."""
        from edc.db.ids import new_uuid
        from edc.db.repositories.queue_sql import (
            JOB_COLUMNS,
            POSTGRESQL_CLAIM_PENDING,
            SQLITE_CLAIM_PENDING,
            SQLITE_PENDING,
            ClaimRequest,
        )

        request = ClaimRequest(self.worker, now, until, new_uuid(), "system", None, None)
        conn = self.conn
        if self.kind == "postgresql":
            row = conn.execute(POSTGRESQL_CLAIM_PENDING, request.postgresql_params()).fetchone()
            conn.commit()
            return None if row is None else int(row[1 + JOB_COLUMNS.index("id")])
        at = db_time(self.kind, now)
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(
            SQLITE_CLAIM_PENDING, (self.worker, db_time(self.kind, until), at)
        ).fetchone()
        if row is not None:
            job_id, job_uuid, attempt = (
                row[JOB_COLUMNS.index(c)] for c in ("id", "uuid", "attempts")
            )
            event = request.event("pending", job_id, job_uuid, attempt)
            conn.execute(SQLITE_PENDING, event.values("sqlite"))
        conn.execute("COMMIT")
        return None if row is None else int(row[JOB_COLUMNS.index("id")])

    def _audit(self, row: Any, now: datetime, until: datetime) -> None:
        from edc.db.models import AuditAction
        from edc.db.sealing import CHAIN_LOCK_ID
        from edc.integrity.chain import ChainEntry

        conn = self.conn
        if self.kind == "postgresql":
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK_ID,))
        tip_row = conn.execute(
            "SELECT entry_hash FROM audit_logs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        job_id, job_uuid, attempts = row
        details = {
            "from": "pending",
            "to": "running",
            "worker": self.worker,
            "attempt": attempts,
            "lease_until": until.isoformat(),
        }
        from edc.db.ids import new_uuid

        entry = ChainEntry(
            uuid=new_uuid(),
            created_at=now,
            action="update",
            actor="system",
            target_type="job",
            target_id=job_uuid,
            description=f"job claimed by {self.worker}: pending -> running",
            details=details,
            ip_address=None,
            user_agent=None,
            job_uuid=job_uuid,
            previous_hash=None if tip_row is None else tip_row[0],
        )
        values = self.maker.audit(
            (
                entry.uuid,
                now,
                now,
                job_id,
                job_uuid,
                AuditAction.UPDATE,
                "system",
                "job",
                job_uuid,
                entry.description,
                details,
                None,
                None,
                entry.previous_hash,
                entry.compute_hash(),
            )
        )
        conn.execute(self.audit_sql, values)

    def close(self) -> None:
        self.conn.close()


_barrier: Any = None


def _init_worker(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def worker_task(
    mode: str, kind: str, url: str, path: str | None, worker: str, seconds: float
) -> tuple[str, float, float, list[int], list[float]]:
    """One worker's side: connect, wait for the others, claim until the time is up."""
    from pathlib import Path

    db = Database(kind, url, Path(path) if path else None)
    if mode == "edc":
        from edc.db.repositories import JobRepository

        engine = db.engine()
        engine.ping()

        def claim() -> int | None:
            with engine.session() as session:
                job = JobRepository(session).claim_next(worker, LEASE)
                return None if job is None else job.id

        close = engine.dispose
    else:
        claimer = RawClaimer(db, worker, audit=mode == "raw+audit", event=mode == "raw+event")
        claim, close = claimer.claim, claimer.close
    ids: list[int] = []
    latencies: list[float] = []
    try:
        _barrier.wait(timeout=300)
        start = time.monotonic()
        deadline = start + seconds
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            job_id = claim()
            if job_id is None:
                break
            latencies.append(time.perf_counter() - t0)
            ids.append(job_id)
        end = time.monotonic()
    finally:
        close()
    return worker, start, end, ids, latencies


def worker_pool(workers: int) -> Any:
    """`workers` spawned processes, reused for every side (spawning costs a second each)."""
    ctx = multiprocessing.get_context("spawn")
    return ctx.Pool(workers, initializer=_init_worker, initargs=(ctx.Barrier(workers),))


def run_side(pool: Any, db: Database, mode: str, workers: int, seconds: float) -> dict[str, Any]:
    path = str(db.path) if db.path else None
    tasks = [(mode, db.kind, db.url, path, f"w{i}", seconds) for i in range(workers)]
    # Every task waits at the barrier, so each of the `workers` processes takes exactly one.
    got = pool.starmap(worker_task, tasks, chunksize=1)
    start = min(g[1] for g in got)
    end = max(g[2] for g in got)
    sealing: dict[str, Any] = {}
    if mode == "edc":
        sealing = seal_rest(db)
        end += sealing["seal_seconds"]
    ids = [i for g in got for i in g[3]]
    duplicates = sum(n - 1 for n in Counter(ids).values() if n > 1)
    latencies = sorted(x for g in got for x in g[4])
    per_worker = sorted(len(g[3]) for g in got)
    return {
        "claims": len(ids),
        "seconds": end - start,
        "rate": len(ids) / (end - start),
        "duplicates": duplicates,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0,
        "max_ms": latencies[-1] * 1000 if latencies else 0.0,
        "per_worker": per_worker,
        **sealing,
    }


def seal_rest(db: Database) -> dict[str, Any]:
    """Seal what the workers left pending (timed), then verify the chain (not timed)."""
    from edc.db.repositories import AuditLogRepository
    from edc.db.sealing import pending_count

    engine = db.engine()
    try:
        with engine.begin(read_only=True) as connection:
            pending = pending_count(connection)
        t0 = time.perf_counter()
        with engine.session() as session:
            sealed = AuditLogRepository(session).seal()
        seconds = time.perf_counter() - t0
        with engine.session(read_only=True) as session:
            result = AuditLogRepository(session).verify()
        assert result.ok, result.message
    finally:
        engine.dispose()
    return {
        "pending_after": pending,
        "sealed_after": sealed,
        "seal_seconds": seconds,
        "chain_entries": result.entries_checked,
    }


def _describe(name: str, r: dict[str, Any]) -> str:
    text = (
        f"{name}: {r['claims']:,} claims in {r['seconds']:.1f} s = {r['rate']:,.0f}/s, "
        f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.0f} ms, "
        f"per worker {r['per_worker']}, duplicates {r['duplicates']}"
    )
    if "seal_seconds" in r:
        text += (
            f"; pending after the window {r['pending_after']:,}, sealed in "
            f"{r['seal_seconds'] * 1000:.0f} ms (included), chain {r['chain_entries']:,} entries"
        )
    return text


def main(args, ws: Workspace, rep: Reporter) -> None:
    with worker_pool(args.workers) as pool:
        for kind in kinds(args):
            measure(args, ws, rep, kind, pool)


def measure(args, ws: Workspace, rep: Reporter, kind: str, pool: Any) -> None:
    print_settings(ws, kind, "claims")
    site = ws.site(kind)
    out: dict[str, dict[str, Any]] = {}
    modes = ["raw", "edc"] + ([] if args.no_raw_audit else ["raw+audit", "raw+event"])
    for mode in modes:
        db = site.fresh(f"claims_{mode.replace('+', '_')}")
        try:
            populate(db, args.rows, with_audit=False)
            out[mode] = run_side(pool, db, mode, args.workers, args.seconds)
        finally:
            site.drop(db)
        rep.info(_describe(mode, out[mode]))
        assert out[mode]["duplicates"] == 0, f"{mode}: a job was claimed twice"
        if mode == "edc":
            assert out[mode]["chain_entries"] == out[mode]["claims"], "an audit entry is missing"
    ratio = out["edc"]["rate"] / out["raw"]["rate"]
    target, passed = at_least(ratio, TARGET)
    extra_note = "".join(
        f"; {SAME_WORK[mode]} {out[mode]['rate']:,.0f}/s "
        f"(edc/that {out['edc']['rate'] / out[mode]['rate']:.2f})"
        for mode in SAME_WORK
        if mode in out
    )
    rep.add(
        Result(
            "claims",
            kind,
            out["edc"]["rate"],
            out["raw"]["rate"],
            "claims/s",
            ratio,
            target,
            passed,
            note=f"{args.workers} processes, {args.seconds:g} s, {args.rows:,} pending; "
            f"p99 edc {out['edc']['p99_ms']:.1f} ms, raw {out['raw']['p99_ms']:.1f} ms; "
            f"edc sealed {out['edc']['pending_after']:,} left pending in "
            f"{out['edc']['seal_seconds'] * 1000:.0f} ms (included)" + extra_note,
            extra={"sides": out, "workers": args.workers},
        )
    )


def cli(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000, help="pending jobs in the queue")
    p.add_argument("--seconds", type=float, default=10.0, help="per side")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--no-raw-audit", action="store_true", help="skip the raw+audit side")
    return run_main(main, p.parse_args(argv), "claims")


if __name__ == "__main__":
    sys.exit(cli())
