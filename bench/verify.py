"""Figure `verify`: `edc audit verify` on an N-entry chain against a bare loop that reads the
same rows with the raw driver and sha256-hashes each row's bytes.

edc side: the installed `edc` executable as a subprocess (`edc --database-url URL audit verify
--json`), timed from spawn to exit (start-up included), entries/s = entries checked / seconds.
It also appends one entry recording the verification, after the timed read. Its peak RSS is
taken at N and on a chain of N/10 to show that memory stays flat (at most 10% growth).

Baseline: sqlite3 cursor / psycopg server-side cursor over `SELECT <the 14 columns verify
reads> FROM audit_logs ORDER BY id`, fetchmany(10,000), `sha256(repr(row).encode())` per row.
"""

import hashlib
import json
import sys

from bench.common import (
    EDC_BIN,
    Database,
    Reporter,
    Result,
    Workspace,
    at_least,
    edc_env,
    human_bytes,
    jobs_database,
    kinds,
    parser,
    print_settings,
    run_main,
    run_measured,
    timed,
)
from edc.db.repositories.audit import _ROW_COLUMNS

TARGET = 0.5
FLAT = 1.10


def edc_verify(db: Database) -> tuple[float, int, int]:
    """(seconds, peak RSS bytes, entries checked)."""
    run = run_measured(
        [str(EDC_BIN), "--database-url", db.url, "audit", "verify", "--json"], env=edc_env()
    )
    if run.returncode != 0:
        raise SystemExit(f"edc audit verify failed ({run.returncode}): {run.stderr[-2000:]}")
    report = json.loads(run.stdout)
    assert report["ok"], report
    return run.seconds, run.memory, int(report["entries_checked"])


def raw_loop(db: Database) -> int:
    sql = f"SELECT {', '.join(_ROW_COLUMNS)} FROM audit_logs ORDER BY id"
    conn = db.raw()
    count = 0
    sha256 = hashlib.sha256
    try:
        if db.kind == "sqlite":
            conn.execute("BEGIN")
            cur = conn.execute(sql)
        else:
            cur = conn.cursor(name="bench_verify")
            cur.execute(sql)
        while rows := cur.fetchmany(10_000):
            for row in rows:
                sha256(repr(row).encode()).hexdigest()
            count += len(rows)
        if db.kind == "sqlite":
            conn.execute("COMMIT")
        else:
            conn.commit()
    finally:
        conn.close()
    return count


def main(args, ws: Workspace, rep: Reporter) -> None:
    entries = args.entries
    small = max(1, entries // 10)
    for kind in kinds(args):
        print_settings(ws, kind, "verify")
        site = ws.site(kind)
        db, reused = jobs_database(
            ws, kind, entries, reuse=args.reuse, with_audit=True, name="verify"
        )
        try:
            raw_s, raw_n = timed(lambda db=db: raw_loop(db))
            edc_s, rss, checked = edc_verify(db)
        finally:
            if not reused:
                site.drop(db)
        assert checked == raw_n, (checked, raw_n)
        little_db = site.fresh("verify_small")
        try:
            from bench.common import populate

            populate(little_db, small, with_audit=True)
            _, rss_small, checked_small = edc_verify(little_db)
        finally:
            site.drop(little_db)
        edc_rate, raw_rate = checked / edc_s, raw_n / raw_s
        ratio = edc_rate / raw_rate
        growth = rss / rss_small
        target, rate_ok = at_least(ratio, TARGET)
        rep.info(
            f"edc audit verify: {checked:,} entries in {edc_s:.1f} s, peak RSS {human_bytes(rss)}; "
            f"{checked_small:,} entries: peak RSS {human_bytes(rss_small)}; raw loop {raw_s:.1f} s"
        )
        rep.add(
            Result(
                "verify",
                kind,
                edc_rate,
                raw_rate,
                "entries/s",
                ratio,
                f"{target}, memory flat (<= {FLAT:.2f}x)",
                rate_ok and growth <= FLAT,
                note=f"{checked:,} entries ({'imported' if reused else 'loaded'}); peak RSS "
                f"{human_bytes(rss)} vs {human_bytes(rss_small)} at {checked_small:,} "
                f"({growth:.2f}x)",
                extra={
                    "entries": checked,
                    "edc_seconds": edc_s,
                    "baseline_seconds": raw_s,
                    "rss_bytes": rss,
                    "rss_small_bytes": rss_small,
                },
            )
        )


def cli(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--reuse", action="store_true", help="use import_rate.py --keep's database")
    return run_main(main, p.parse_args(argv), "verify")


if __name__ == "__main__":
    sys.exit(cli())
