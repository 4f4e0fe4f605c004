"""Scenario 2 (SQLite only): many `edc` processes on one fresh database file at once.

Eight `edc jobs import` processes of different files start together on a file that has no
schema yet (so they also race to create it), while `edc audit verify` and `edc jobs list` run
over and over. Every file shares a block of rows with all the others, so the imports also race
on deduplication. Every process exits 0, none prints "database is locked", every job is there
exactly once and the chain verifies.
"""

import subprocess
import time
from collections import Counter
from pathlib import Path

from rel_support import (
    LONG,
    TRACEBACK,
    Report,
    opened,
    popen_edc,
    sqlite_integrity,
    verify_in_process,
)
from sqlalchemy import func, select

from edc.db.models import Job

IMPORTS = 8
OWN_ROWS = 10_000 if LONG else 1_500
SHARED_ROWS = 200


def _write(path: Path, number: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("url,when\n")
        # The shared rows come first in some files and last in others.
        shared = [f"https://example.org/shared/{i},20200101\n" for i in range(SHARED_ROWS)]
        own = [f"https://example.org/file-{number}/{i},20210101\n" for i in range(OWN_ROWS)]
        out.writelines(shared + own if number % 2 else own + shared)
    return path


def test_concurrent_cli_on_one_sqlite_file(tmp_path: Path, report: Report) -> None:
    database = tmp_path / "shared.db"
    url = f"sqlite:///{database}"
    files = [_write(tmp_path / f"file-{n}.csv", n) for n in range(IMPORTS)]
    started = time.monotonic()
    imports = [
        popen_edc("--database-url", url, "jobs", "import", "--json", str(path)) for path in files
    ]
    readers: list[tuple[str, subprocess.Popen[str]]] = []
    # Readers and verifiers run for as long as the imports do (at least twice each).
    while any(p.poll() is None for p in imports) or len(readers) < 4:
        if not readers or readers[-1][1].poll() is not None:
            kind = ("audit", "verify") if len(readers) % 2 == 0 else ("jobs", "list", "-n", "5")
            readers.append((" ".join(kind), popen_edc("--database-url", url, *kind)))
        time.sleep(0.05)
    outputs: list[tuple[str, int, str, str]] = []
    for path, process in zip(files, imports, strict=True):
        out, err = process.communicate(timeout=300)
        outputs.append((f"jobs import {path.name}", process.returncode, out, err))
    for name, process in readers:
        out, err = process.communicate(timeout=300)
        outputs.append((name, process.returncode, out, err))
    elapsed = time.monotonic() - started

    for name, code, out, err in outputs:
        assert code == 0, f"edc {name} exited {code}: {err}"
        assert "locked" not in (out + err).lower(), f"edc {name}: {out}{err}"
        assert TRACEBACK not in out + err, f"edc {name}: {err}"
    with opened(url) as db, db.session(read_only=True) as session:
        total = int(session.scalar(select(func.count()).select_from(Job)) or 0)
        per_url = Counter(
            {
                row[0]: row[1]
                for row in session.execute(select(Job.url, func.count()).group_by(Job.url))
            }
        )
    expected = IMPORTS * OWN_ROWS + SHARED_ROWS
    twice = [job_url for job_url, count in per_url.items() if count > 1]
    assert not twice, f"{len(twice)} jobs exist more than once, e.g. {twice[:3]}"
    assert total == expected == len(per_url)
    verified = verify_in_process(url)
    assert verified.ok, verified.message
    integrity = sqlite_integrity(database)
    assert integrity == "ok"
    verifies = sum(1 for name, *_ in outputs if name == "audit verify")
    lists = sum(1 for name, *_ in outputs if name.startswith("jobs list"))
    report(
        f"sqlite: {IMPORTS} imports ({OWN_ROWS} own + {SHARED_ROWS} shared rows each) with "
        f"{verifies} audit verify and {lists} jobs list running meanwhile, on a file without a "
        f"schema: {len(outputs)} processes exit 0, 0 'database is locked', {total} jobs of "
        f"{expected} expected, 0 duplicated, chain of {verified.entries_checked} entries "
        f"verifies, integrity {integrity}, {elapsed:.1f} s"
    )
