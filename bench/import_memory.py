"""Figure `import memory`: peak memory of `edc jobs import` at N rows, and at N/10 to show
whether it stays flat. The import forks a worker that prepares rows, so the memory is the peak
of the two processes' summed PSS, sampled by bench/_child_rss.py (`common.Run.memory`).

Targets: at most 200 MB (decimal, as `MB/s` elsewhere) at N, and flat: the peak at N at most
10% above the peak at N/10. With `--record FILE` holding an `import` figure for the same N and
database (written by import_rate.py in the same `make bench` run) that peak is reused instead
of importing N rows again.
"""

import sys

from bench.common import (
    MB,
    Reporter,
    Result,
    Workspace,
    human_bytes,
    kinds,
    parser,
    print_settings,
    read_records,
    run_main,
)
from bench.import_rate import csv_for, edc_import

LIMIT_MB = 200
FLAT = 1.10


def peak_rss(ws: Workspace, kind: str, rows: int) -> int:
    site = ws.site(kind)
    db = site.fresh(f"import_mem_{rows}")
    try:
        _, rss, report = edc_import(db.url, csv_for(ws, rows))
        assert report["created"] == rows, report
        return rss
    finally:
        site.drop(db)


def main(args, ws: Workspace, rep: Reporter) -> None:
    rows, small = args.rows, max(1, args.rows // 10)
    records = read_records(args.record)
    for kind in kinds(args):
        print_settings(ws, kind, "import memory")
        known = [
            r
            for r in records
            if r["figure"] == "import" and r["db"] == kind and r.get("rows") == rows
        ]
        if known:
            big = int(known[-1]["rss_bytes"])
            rep.info(f"{rows:,} rows: peak memory {human_bytes(big)} (from the import figure)")
        else:
            big = peak_rss(ws, kind, rows)
            rep.info(f"{rows:,} rows: peak memory {human_bytes(big)}")
        little = peak_rss(ws, kind, small)
        rep.info(f"{small:,} rows: peak memory {human_bytes(little)}")
        growth = big / little
        passed = big <= LIMIT_MB * MB and growth <= FLAT
        rep.add(
            Result(
                "import memory",
                kind,
                big / MB,
                little / MB,
                "MB",
                growth,
                f"<= {LIMIT_MB} MB at {rows:,}, flat (<= {FLAT:.2f}x {small:,})",
                passed,
                note=f"edc = peak memory (summed PSS of edc and its worker) at {rows:,} rows, "
                f"baseline column = at {small:,} rows, ratio = growth",
                extra={"rows": rows, "rss_bytes": big, "rss_small_bytes": little},
            )
        )


def cli(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    return run_main(main, p.parse_args(argv), "import_memory")


if __name__ == "__main__":
    sys.exit(cli())
