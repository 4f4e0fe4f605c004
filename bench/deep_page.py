"""Figure `deep page`: latency of the keyset page at depth D (`list_by_status(PENDING,
limit=50, after=uuid)` where uuid is the job at position D-1 of the listing order) against the
same call for the page at the top (after the first job). Target: deep / top <= 2.

Both through edc (a read-only session per call, ORM objects returned), calls alternate, median
of `--repeat`. For information: the first page without a cursor, and the OFFSET page at depth D.
"""

import statistics
import sys
import time

from bench.common import (
    Reporter,
    Result,
    Workspace,
    jobs_database,
    kinds,
    parser,
    print_settings,
    run_main,
)
from edc.db.models import JobStatus
from edc.db.repositories import JobRepository

TARGET = 2.0
LIMIT = 50


def main(args, ws: Workspace, rep: Reporter) -> None:
    for kind in kinds(args):
        measure(args, ws, rep, kind)


def measure(args, ws: Workspace, rep: Reporter, kind: str) -> None:
    print_settings(ws, kind, "deep page")
    rows = max(args.rows, LIMIT + 2)
    depth = args.depth if args.depth is not None else rows // 2
    db, reused = jobs_database(ws, kind, rows, reuse=args.reuse, with_audit=False, name="deep_page")
    engine = db.engine()
    raw = db.raw()
    mark = "?" if kind == "sqlite" else "%s"
    order_sql = (
        "SELECT uuid FROM jobs WHERE status = 'pending' ORDER BY created_at DESC, id DESC "
        f"LIMIT 1 OFFSET {mark}"
    )
    top_after = raw.execute(order_sql, (0,)).fetchone()[0]
    deep_after = raw.execute(order_sql, (depth - 1,)).fetchone()[0]
    deep_first = raw.execute(order_sql, (depth,)).fetchone()[0]
    raw.close()

    def page(after: str | None = None, offset: int = 0) -> list[str]:
        with engine.session(read_only=True) as session:
            jobs = JobRepository(session).list_by_status(
                JobStatus.PENDING, limit=LIMIT, offset=offset, after=after
            )
            return [job.uuid for job in jobs]

    try:
        deep = page(deep_after)
        assert len(deep) == min(LIMIT, rows - depth), "wrong page length"
        assert deep[0] == deep_first, "wrong page start"
        times: dict[str, list[float]] = {"top": [], "deep": [], "first": [], "offset": []}
        calls = {
            "top": lambda: page(top_after),
            "deep": lambda: page(deep_after),
            "first": lambda: page(None),
            "offset": lambda: page(None, depth),
        }
        for i in range(args.repeat):
            for name, fn in calls.items():
                if name == "offset" and i >= 3:
                    continue  # slow by design; three samples are enough for information
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    finally:
        engine.dispose()
        if not reused:
            ws.site(kind).drop(db)
    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    ratio = ms["deep"] / ms["top"]
    rep.info(
        f"median: first page (no cursor) {ms['first']:.2f} ms, OFFSET {depth:,} "
        f"{ms['offset']:.1f} ms"
    )
    rep.add(
        Result(
            "deep page",
            kind,
            ms["deep"],
            ms["top"],
            "ms",
            ratio,
            f"<= {TARGET:g}",
            ratio <= TARGET,
            note=f"edc = keyset page at row {depth:,}, baseline = keyset page at row 1, "
            f"of {rows:,}+ jobs; OFFSET page {ms['offset']:.1f} ms",
            extra={"rows": rows, "depth": depth, **{f"{k}_ms": v for k, v in ms.items()}},
        )
    )


def cli(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--depth", type=int, default=None, help="default: rows / 2")
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--reuse", action="store_true", help="use import_rate.py --keep's database")
    return run_main(main, p.parse_args(argv), "deep_page")


if __name__ == "__main__":
    sys.exit(cli())
