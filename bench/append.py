"""Figure `append`: `AuditLogRepository.append`, `--batch` (default 1,000) appends per
transaction, against the raw driver inserting the same rows, precomputed, in the same
transactions. `append_many` is reported as a second line (figure `append_many`, same target).

Each side starts from an empty database (edc's schema) and writes `--entries` stand-alone
entries (no job) with the same fields: action `access`, actor `bench`, a short description and
a two-member `details`. The raw rows (uuid, times, chain links, hashes) are computed before the
timer starts; the raw driver is stdlib `sqlite3` `executemany` / psycopg 3 `COPY`, one
transaction per batch, like edc's sessions.
"""

import sys

from bench.common import (
    AUDIT_COLUMNS,
    Database,
    Reporter,
    Result,
    Workspace,
    at_least,
    copy_sql,
    count_rows,
    insert_sql,
    kinds,
    parser,
    precompute_entries,
    print_settings,
    run_main,
    timed,
)
from edc.db.models import AuditAction
from edc.db.repositories import AuditDraft, AuditLogRepository
from edc.db.repositories.audit import AuditContext

TARGET = 0.5
CONTEXT = AuditContext(actor="bench")


def edc_append(db: Database, entries: int, batch: int, many: bool) -> None:
    engine = db.engine()
    try:
        for start in range(0, entries, batch):
            stop = min(entries, start + batch)
            with engine.session() as session:
                repo = AuditLogRepository(session, CONTEXT)
                if many:
                    repo.append_many(
                        AuditDraft(
                            AuditAction.ACCESS,
                            "bench",
                            f"benchmark entry {i}",
                            target_id=str(i),
                            details={"n": i, "note": "benchmark append"},
                        )
                        for i in range(start, stop)
                    )
                else:
                    for i in range(start, stop):
                        repo.append(
                            AuditAction.ACCESS,
                            "bench",
                            f"benchmark entry {i}",
                            target_id=str(i),
                            details={"n": i, "note": "benchmark append"},
                        )
    finally:
        engine.dispose()


def raw_append(db: Database, rows: list[tuple], batch: int) -> None:  # type: ignore[type-arg]
    conn = db.raw()
    try:
        if db.kind == "sqlite":
            sql = insert_sql("audit_logs", AUDIT_COLUMNS, "qmark")
            for start in range(0, len(rows), batch):
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(sql, rows[start : start + batch])
                conn.execute("COMMIT")
        else:
            sql = copy_sql("audit_logs", AUDIT_COLUMNS)
            with conn.cursor() as cur:
                for start in range(0, len(rows), batch):
                    with cur.copy(sql) as copy:
                        for row in rows[start : start + batch]:
                            copy.write_row(row)
                    conn.commit()
    finally:
        conn.close()


def main(args, ws: Workspace, rep: Reporter) -> None:
    n, batch = args.entries, args.batch
    for kind in kinds(args):
        print_settings(ws, kind, "append")
        site = ws.site(kind)
        seconds: dict[str, float] = {}
        rows = precompute_entries(kind, n)
        for side in ("raw", "append", "append_many"):
            db = site.fresh(f"append_{side}")
            try:
                if side == "raw":
                    seconds[side], _ = timed(lambda db=db, rows=rows: raw_append(db, rows, batch))
                else:
                    seconds[side], _ = timed(
                        lambda db=db, side=side: edc_append(db, n, batch, side == "append_many")
                    )
                assert count_rows(db, "audit_logs") == n
            finally:
                site.drop(db)
            rep.info(f"{side}: {n:,} entries in {seconds[side]:.2f} s")
        del rows
        raw_rate = n / seconds["raw"]
        for side in ("append", "append_many"):
            rate = n / seconds[side]
            ratio = rate / raw_rate
            target, passed = at_least(ratio, TARGET)
            rep.add(
                Result(
                    side,
                    kind,
                    rate,
                    raw_rate,
                    "entries/s",
                    ratio,
                    target,
                    passed,
                    note=f"{n:,} entries, {batch:,} per transaction",
                    extra={
                        "entries": n,
                        "batch": batch,
                        "edc_seconds": seconds[side],
                        "baseline_seconds": seconds["raw"],
                    },
                )
            )


def cli(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--entries", type=int, default=50_000)
    p.add_argument("--batch", type=int, default=1_000)
    return run_main(main, p.parse_args(argv), "append")


if __name__ == "__main__":
    sys.exit(cli())
