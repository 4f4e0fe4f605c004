"""Figure `import vs naive`: the same import against the obvious SQLAlchemy ORM way.

Naive side (in-process, edc's own engine, so the same pragmas and pool): the same CSV read and
validated by edc's reader, then per row `session.add(Job(...))` and `session.add(AuditLog(...))`
with the same chained, hashed audit entry, and one commit at the end. It keeps every object in
the session, so it is measured on `--naive-rows` (default 20,000) and its rate is what would
scale to N: `rows / seconds` at that size. That favours the naive side (smaller indexes, a
smaller session), so the ratio is a lower bound for edc.

edc side: the `import` figure's rate at N from the same run (`--record`), else
`edc jobs import` of `--rows` rows run here.
"""

import sys

from bench.common import (
    Reporter,
    Result,
    Workspace,
    at_least,
    count_rows,
    kinds,
    parser,
    print_settings,
    read_records,
    run_main,
    timed,
)
from bench.import_rate import csv_for, edc_import
from edc.db.ids import new_uuid
from edc.db.models import AuditAction, AuditLog, Job, JobStatus
from edc.db.repositories.job import JobDraft, _created, _creation_details
from edc.db.types import utc_now
from edc.ingest.reader import read_requests
from edc.ingest.request import CaptureRequest
from edc.integrity.chain import ChainEntry

TARGET = 3.0


def naive_import(url: str, csv_path) -> int:
    from edc.config import DatabaseConfig
    from edc.db import DatabaseEngine

    db = DatabaseEngine(DatabaseConfig(url=url))
    count = 0
    try:
        with db.session() as session:
            tip = None
            for item in read_requests(csv_path):
                assert isinstance(item, CaptureRequest)
                now = utc_now()
                job = Job(
                    uuid=new_uuid(),
                    created_at=now,
                    updated_at=now,
                    url=item.url,
                    when=item.when,
                    direction=item.direction,
                    mode=item.mode,
                    status=JobStatus.PENDING,
                    options=item.options,
                )
                session.add(job)
                draft = JobDraft(
                    item.url, item.when, item.direction, item.mode, item.options, item.line
                )
                entry = ChainEntry(
                    uuid=new_uuid(),
                    created_at=now,
                    action=AuditAction.CREATE.value,
                    actor="system",
                    target_type="job",
                    target_id=job.uuid,
                    description=_created(item.url, item.when, item.direction, item.mode),
                    details=_creation_details(draft),
                    ip_address=None,
                    user_agent=None,
                    job_uuid=job.uuid,
                    previous_hash=tip,
                )
                tip = entry.compute_hash()
                session.add(
                    AuditLog(
                        uuid=entry.uuid,
                        created_at=now,
                        updated_at=now,
                        job=job,
                        job_uuid=job.uuid,
                        action=AuditAction.CREATE,
                        actor="system",
                        target_type="job",
                        target_id=job.uuid,
                        description=entry.description,
                        details=entry.details,
                        previous_hash=entry.previous_hash,
                        entry_hash=tip,
                    )
                )
                count += 1
    finally:
        db.dispose()
    return count


def main(args, ws: Workspace, rep: Reporter) -> None:
    records = read_records(args.record)
    naive_rows = min(args.naive_rows, args.rows)
    for kind in kinds(args):
        print_settings(ws, kind, "import vs naive")
        site = ws.site(kind)
        known = [
            r
            for r in records
            if r["figure"] == "import" and r["db"] == kind and r.get("rows") == args.rows
        ]
        if known:
            edc_rate = float(known[-1]["edc"])
            source = f"edc rate of this run's import figure at {args.rows:,} rows"
        else:
            db = site.fresh("import_edc")
            seconds, _, report = edc_import(db.url, csv_for(ws, args.rows))
            assert report["created"] == args.rows
            site.drop(db)
            edc_rate = args.rows / seconds
            source = f"edc jobs import of {args.rows:,} rows"
        db = site.fresh("import_naive")
        csv_path = csv_for(ws, naive_rows)
        seconds, count = timed(lambda db=db, p=csv_path: naive_import(db.url, p))
        assert count == naive_rows
        assert count_rows(db, "jobs") == naive_rows
        site.drop(db)
        naive_rate = naive_rows / seconds
        rep.info(f"naive ORM: {naive_rows:,} rows in {seconds:.1f} s; edc: {source}")
        ratio = edc_rate / naive_rate
        target, passed = at_least(ratio, TARGET)
        rep.add(
            Result(
                "import vs naive",
                kind,
                edc_rate,
                naive_rate,
                "rows/s",
                ratio,
                target,
                passed,
                note=f"naive measured on {naive_rows:,} rows ({seconds:.1f} s), "
                f"projected {args.rows / naive_rate:,.0f} s for {args.rows:,}",
                extra={"rows": args.rows, "naive_rows": naive_rows, "naive_seconds": seconds},
            )
        )


def cli(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="N of the edc import")
    p.add_argument("--naive-rows", type=int, default=20_000)
    return run_main(main, p.parse_args(argv), "import_naive")


if __name__ == "__main__":
    sys.exit(cli())
