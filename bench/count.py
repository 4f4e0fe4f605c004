"""Figure `count`: `JobRepository.count_by_status` on N jobs against a raw
`SELECT count(*) FROM jobs WHERE status = ?`.

Every job is pending (an import creates pending jobs), so both count all N through the status
index. Each call is its own read transaction: edc opens a read-only session per call; the raw
side runs BEGIN / SELECT / COMMIT on one open connection. Calls alternate, the median of
`--repeat` is reported as counts/s.
"""

import statistics
import sys
import time

from bench.common import (
    Reporter,
    Result,
    Workspace,
    at_least,
    jobs_database,
    kinds,
    parser,
    print_settings,
    run_main,
)
from edc.db.models import JobStatus
from edc.db.repositories import JobRepository

TARGET = 0.8
SQL = "SELECT count(*) FROM jobs WHERE status = {}"


def main(args, ws: Workspace, rep: Reporter) -> None:
    for kind in kinds(args):
        measure(args, ws, rep, kind)


def measure(args, ws: Workspace, rep: Reporter, kind: str) -> None:
    print_settings(ws, kind, "count")
    db, reused = jobs_database(
        ws, kind, args.rows, reuse=args.reuse, with_audit=False, name="count"
    )
    engine = db.engine()
    raw = db.raw()
    sql = SQL.format("?" if kind == "sqlite" else "%s")

    def edc_count() -> int:
        with engine.session(read_only=True) as session:
            return JobRepository(session).count_by_status(JobStatus.PENDING)

    def raw_count() -> int:
        if kind == "sqlite":
            raw.execute("BEGIN")
            value = raw.execute(sql, ("pending",)).fetchone()[0]
            raw.execute("COMMIT")
        else:
            value = raw.execute(sql, ("pending",)).fetchone()[0]
            raw.commit()
        return int(value)

    try:
        expected = raw_count()
        assert edc_count() == expected, "edc and raw counts differ"
        edc_times, raw_times = [], []
        for _ in range(args.repeat):
            for fn, times in ((edc_count, edc_times), (raw_count, raw_times)):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
    finally:
        engine.dispose()
        raw.close()
        if not reused:
            ws.site(kind).drop(db)
    edc_s, raw_s = statistics.median(edc_times), statistics.median(raw_times)
    ratio = raw_s / edc_s
    target, passed = at_least(ratio, TARGET)
    rep.add(
        Result(
            "count",
            kind,
            1 / edc_s,
            1 / raw_s,
            "counts/s",
            ratio,
            target,
            passed,
            note=f"{expected:,} pending of {'imported' if reused else 'loaded'} jobs; "
            f"median edc {edc_s * 1000:.1f} ms, raw {raw_s * 1000:.1f} ms",
            extra={"rows": expected, "edc_ms": edc_s * 1000, "raw_ms": raw_s * 1000},
        )
    )


def cli(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--reuse", action="store_true", help="use import_rate.py --keep's database")
    return run_main(main, p.parse_args(argv), "count")


if __name__ == "__main__":
    sys.exit(cli())
