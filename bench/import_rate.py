"""Figure `import`: `edc jobs import` of an N-row CSV into an empty database, against the raw
driver inserting the same already-validated jobs and audit rows.

edc side: the installed `edc` executable as a subprocess (`edc --database-url URL jobs import
FILE --json`), timed from spawn to exit, so interpreter start-up (about a second) is included.
It validates every row, checks for duplicates, inserts jobs and one chained audit entry per
job, plus the import's own entry, in one transaction. Files of 1 MiB and more are read,
validated and hashed in a forked worker process while the `edc` process writes (two processes,
so the machine's second core is used; the baseline uses one). Its peak RSS is recorded for
`import_memory` (the larger of the two processes' peaks: wait4 reports the maximum over the
process and the children it reaped, not their sum).

Baseline: the same jobs and audit rows, validated and hashed beforehand (not timed), inserted
into the same schema in the importer's batches of 5,000 and one transaction: stdlib `sqlite3`
`executemany` / psycopg 3 `COPY`.
"""

import gc
import json
import sys

from bench.common import (
    EDC_BIN,
    KEPT_NAME,
    Reporter,
    Result,
    Workspace,
    analyze,
    at_least,
    count_rows,
    edc_env,
    human_bytes,
    kinds,
    parser,
    precompute_import,
    print_settings,
    raw_load,
    read_drafts,
    run_main,
    run_measured,
    timed,
    write_csv,
)

TARGET = 0.6


def csv_for(ws: Workspace, rows: int):
    path = ws.dir / f"jobs-{rows}.csv"
    if not path.exists():
        write_csv(path, rows)
    return path


def edc_import(db_url: str, csv_path) -> tuple[float, int, dict]:
    """Run `edc jobs import`; (seconds, peak memory bytes of it and its worker, its JSON report).

    The memory is the peak of the summed PSS of the `edc` process and the worker it forks
    (bench/_child_rss.py); the sum of each process's own peak RSS is printed beside it.
    """
    run = run_measured(
        [str(EDC_BIN), "--database-url", db_url, "jobs", "import", str(csv_path), "--json"],
        env=edc_env(),
    )
    if run.returncode != 0:
        raise SystemExit(f"edc jobs import failed ({run.returncode}): {run.stderr[-2000:]}")
    print(
        f"  memory of {run.processes} process(es): peak PSS {run.tree_pss / 1e6:.0f} MB, "
        f"sum of each one's peak RSS {run.sum_of_peaks / 1e6:.0f} MB, "
        f"largest single peak RSS {run.max_rss / 1e6:.0f} MB",
        flush=True,
    )
    return run.seconds, run.memory, json.loads(run.stdout)


def main(args, ws: Workspace, rep: Reporter) -> None:
    rows = args.rows
    csv_path = csv_for(ws, rows)
    rep.info(f"CSV: {rows:,} rows, {csv_path.stat().st_size / 1e6:,.1f} MB at {csv_path}")
    for kind in kinds(args):
        print_settings(ws, kind, "import")
        site = ws.site(kind)

        # Baseline: validation and hashing done first, untimed; then only the inserts.
        batches = precompute_import(kind, read_drafts(csv_path))
        base_db = site.fresh("import_raw")
        base_s, _ = timed(lambda db=base_db, b=batches: raw_load(db, b))
        jobs = count_rows(base_db, "jobs")
        assert jobs == rows, (jobs, rows)
        del batches
        gc.collect()
        site.drop(base_db)
        base_rate = rows / base_s
        rep.info(f"raw {'executemany' if kind == 'sqlite' else 'COPY'}: {base_s:.1f} s")

        edc_db = site.fresh(KEPT_NAME)
        edc_s, rss, report = edc_import(edc_db.url, csv_path)
        assert report["created"] == rows, report
        entries = count_rows(edc_db, "audit_logs")
        assert entries == rows + 1, (entries, rows)
        edc_rate = rows / edc_s
        rep.info(f"edc jobs import: {edc_s:.1f} s, peak memory {human_bytes(rss)}")
        if args.keep:
            analyze(edc_db)  # fresh planner statistics for count, deep_page and verify
            if hasattr(site, "keep"):
                site.keep(edc_db)
        else:
            site.drop(edc_db)

        ratio = edc_rate / base_rate
        target, passed = at_least(ratio, TARGET)
        rep.add(
            Result(
                "import",
                kind,
                edc_rate,
                base_rate,
                "rows/s",
                ratio,
                target,
                passed,
                note=f"{rows:,} rows; edc {edc_s:.1f} s (subprocess), raw {base_s:.1f} s",
                extra={
                    "rows": rows,
                    "edc_seconds": edc_s,
                    "baseline_seconds": base_s,
                    "rss_bytes": rss,
                },
            )
        )


def cli(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep edc's imported database (in --workdir / beside --pg-url) for the next scripts",
    )
    return run_main(main, p.parse_args(argv), "import")


if __name__ == "__main__":
    sys.exit(cli())
