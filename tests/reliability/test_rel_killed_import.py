"""Scenario 1: `edc jobs import` killed with SIGKILL at random moments leaves all or nothing.

Each run imports its own file into a fresh copy of a seeded database and is killed at a moment
drawn (seeded RNG, stratified over 0 .. 1.3 x the time a full import takes) so that some kills
land before the import writes, some while its transaction is open and some after it committed.
After every kill: the file's jobs are all there or none is, the seed is intact, SQLite's
`PRAGMA integrity_check` says ok and `edc audit verify` exits 0.
"""

import contextlib
import random
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rel_support import (
    LONG,
    Copies,
    Report,
    count_jobs,
    discard_coverage_of,
    opened,
    popen_edc,
    postgres_writer_active,
    sqlite_integrity,
    sqlite_path,
    sqlite_writer_active,
    write_requests,
)

from cli_support import run_edc
from edc.db import migrate
from edc.ingest.importer import import_file

RUNS = 10
SEED = 20_240_601
# Rows per file: a full import (with interpreter start) takes about 2 s on the 2-core test
# machine; the long mode imports 200,000 rows (see docs/reliability.md).
ROWS = {"sqlite": 16_000, "postgresql": 7_000}
LONG_ROWS = 200_000
SEED_JOBS = 50
SPAN = 1.3  # kill moments are spread over 0 .. SPAN x the duration of a full import


def _writing(backend: str, url: str) -> bool:
    if backend == "sqlite":
        return sqlite_writer_active(sqlite_path(url))
    return postgres_writer_active(url)


def _check(backend: str, url: str, prefix: str) -> tuple[int, int, str, int, str]:
    """(jobs of the file, jobs of the seed, integrity, `edc audit verify` exit code, stderr)."""
    have = count_jobs(url, prefix)
    seed = count_jobs(url, "https://example.org/seed/")
    integrity = sqlite_integrity(sqlite_path(url)) if backend == "sqlite" else "n/a"
    verified = run_edc("--database-url", url, "audit", "verify")
    return have, seed, integrity, verified.returncode, verified.stderr


def test_killed_import_leaves_all_or_nothing(
    backend: str, database_url: str, tmp_path: Path, report: Report
) -> None:
    rows = LONG_ROWS if LONG else ROWS[backend]
    with opened(database_url) as db:
        migrate.init_schema(db)
        import_file(db, write_requests(tmp_path / "seed.csv", SEED_JOBS, "seed"))
    copies = Copies(backend, database_url, tmp_path)
    try:
        _run_kills(backend, copies, rows, tmp_path, report)
    finally:
        copies.drop_all()


def _run_kills(backend: str, copies: Copies, rows: int, tmp_path: Path, report: Report) -> None:
    # A full import, timed, tells where "before", "while" and "after" lie on this machine.
    calibration = copies.new("full")
    started = time.monotonic()
    full = run_edc(
        "--database-url",
        calibration,
        "jobs",
        "import",
        str(write_requests(tmp_path / "full.csv", rows, "full")),
        timeout=600,
    )
    duration = time.monotonic() - started
    assert full.returncode == 0, full.stderr
    assert count_jobs(calibration) == SEED_JOBS + rows

    rng = random.Random(f"{SEED}-{backend}")
    moments = [round(duration * SPAN * (i + rng.random()) / RUNS, 3) for i in range(RUNS)]
    rng.shuffle(moments)
    outcomes: Counter[str] = Counter()
    killed: list[tuple[int, float, str, str]] = []
    for run, moment in enumerate(moments, 1):
        url = copies.new(f"run{run}")
        path = write_requests(tmp_path / f"run-{run}.csv", rows, f"run-{run}")
        process = popen_edc(
            "--database-url", url, "jobs", "import", str(path), stdout=subprocess.DEVNULL
        )
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=moment)
        exited = process.poll() is not None
        writing = not exited and _writing(backend, url)
        process.kill()
        _, stderr = process.communicate(timeout=60)
        if exited:
            assert process.returncode == 0, stderr
        else:
            discard_coverage_of(process.pid)
        # Where the kill landed; the job count below tells the rest.
        when = "after" if exited else "writing" if writing else "idle"
        killed.append((run, moment, when, url))
    # Each run has its own database: check them all afterwards, two at a time, so that the
    # checks do not slow the imports being killed.
    with ThreadPoolExecutor(max_workers=2) as pool:
        checks = [
            (
                run,
                moment,
                when,
                pool.submit(_check, backend, url, f"https://example.org/run-{run}/"),
            )
            for run, moment, when, url in killed
        ]

    lines = []
    for run, moment, when, future in checks:
        have, seed, integrity, verify_code, verify_err = future.result()
        assert have in (0, rows), f"run {run} killed at {moment} s left {have} of {rows} jobs"
        assert seed == SEED_JOBS, f"run {run}: the earlier jobs changed: {seed} of {SEED_JOBS}"
        if when == "idle":  # not yet writing, or done writing but not yet exited
            when = "after" if have == rows else "before"
        elif when == "writing":
            # Inside the write transaction: nothing is left of it, unless the kill landed in its
            # COMMIT after the commit record was written (then it is all there: committed).
            when = "while" if have == 0 else "at-commit"
        outcomes[when] += 1
        lines.append(f"{moment:.2f}s:{when}:{have}")
        if backend == "sqlite":
            assert integrity == "ok", f"run {run}: integrity_check says {integrity}"
        assert verify_code == 0, f"run {run}: edc audit verify failed: {verify_err}"
    report(
        f"{backend}: {rows} rows, full import {duration:.2f} s, {RUNS} kills "
        f"(seed {SEED}) at {', '.join(lines)}; killed before {outcomes['before']}, "
        f"while {outcomes['while']}, during its commit {outcomes['at-commit']}, after "
        f"{outcomes['after']}; partial imports 0, "
        "integrity ok, audit verify exit 0 every time"
    )
    # Some kill landed inside the import's transaction, so not every run completed and not every
    # run died before it began.
    assert outcomes["while"] >= 1, "no kill landed mid-import; the moments do not cover it"
