"""Scenario 7 (SQLite): the disk fills up mid-import, and the database cannot be written.

Disk full: the database lives on a 2 MiB tmpfs (as root; elsewhere RLIMIT_FSIZE stands in) and
`edc jobs import` of a file that does not fit must fail with one clear line and a non-zero exit,
leaving the database as it was: integrity_check ok, the same jobs, the same chain. Given room
again, the same import succeeds.

Read-only: the same database opened with SQLite's URI `mode=ro`, and through a read-only bind
mount (as root). Root ignores file permissions, so chmod would prove nothing.
"""

import contextlib
import os
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from rel_support import (
    TRACEBACK,
    Report,
    one_line_error,
    opened,
    popen_edc,
    sqlite_integrity,
    verify_in_process,
    write_requests,
)
from sqlalchemy import func, select

from cli_support import run_edc
from edc.db import migrate
from edc.db.models import AuditLog, Job
from edc.db.repositories import AuditLogRepository
from edc.ingest.importer import import_file
from tamper_support import MANIPULATIONS, strip_guards

TMPFS_SIZE = "2m"
BIG_ROWS = 10_000  # about 14 MB of database: it cannot fit in 2 MiB
SEED_ROWS = 20


def _mount(*args: str) -> bool:
    result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    return result.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, check=False)


@contextlib.contextmanager
def _small_tmpfs(path: Path) -> Iterator[bool]:
    """A 2 MiB tmpfs at `path` if this process may mount one; yields whether it did."""
    path.mkdir()
    mounted = os.geteuid() == 0 and _mount(
        "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(path)
    )
    try:
        yield mounted
    finally:
        if mounted:
            _umount(path)


def _state(url: str) -> tuple[list[str], str | None, int]:
    """What must not change: the job uuids, the chain's last hash and its length."""
    with opened(url) as db, db.session(read_only=True) as session:
        jobs = list(session.scalars(select(Job.uuid).order_by(Job.id)))
        head = AuditLogRepository(session).head()
    return jobs, head.last_hash, head.count


def _seed(url: str, tmp_path: Path) -> None:
    with opened(url) as db:
        migrate.init_schema(db)
        import_file(db, write_requests(tmp_path / "seed.csv", SEED_ROWS, "seed"))


def _assert_intact(url: str, path: Path, before: tuple[list[str], str | None, int]) -> None:
    assert sqlite_integrity(path) == "ok"
    assert _state(url) == before
    verified = verify_in_process(url)
    assert verified.ok, verified.message


def test_disk_full_mid_import_changes_nothing(tmp_path: Path, report: Report) -> None:
    big = write_requests(tmp_path / "big.csv", BIG_ROWS, "big")
    with _small_tmpfs(tmp_path / "small") as mounted:
        path = tmp_path / "small" / "edc.db"
        url = f"sqlite:///{path}"
        _seed(url, tmp_path)
        before = _state(url)
        limit = path.stat().st_size + 512 * 1024

        def cap_file_size() -> None:  # without a tmpfs: files may not grow past `limit`
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        process = popen_edc(
            "--database-url", url, "jobs", "import", str(big),
            preexec_fn=None if mounted else cap_file_size,
        )  # fmt: skip
        out, err = process.communicate(timeout=300)
        assert process.returncode not in (0, None), out
        assert one_line_error(err), err
        assert "full" in err or "too large" in err or "I/O" in err, err
        _assert_intact(url, path, before)
        if mounted:  # room again: the same import now goes through
            assert _mount("-o", "remount,size=64m", str(tmp_path / "small"))
            retry = run_edc("--database-url", url, "jobs", "import", str(big))
            assert retry.returncode == 0, retry.stderr
            assert len(_state(url)[0]) == SEED_ROWS + BIG_ROWS
            assert sqlite_integrity(path) == "ok"
    how = f"a {TMPFS_SIZE} tmpfs" if mounted else "RLIMIT_FSIZE"
    report(
        f"sqlite: disk full ({how}) importing {BIG_ROWS} rows: exit {process.returncode}, one "
        f"line: {err.strip()!r}; integrity ok, {SEED_ROWS} jobs and the chain unchanged"
        + ("; after remounting with room the same import succeeds" if mounted else "")
    )


@contextlib.contextmanager
def _read_only_bind(source: Path, target: Path) -> Iterator[bool]:
    target.mkdir()
    mounted = os.geteuid() == 0 and _mount("--bind", str(source), str(target))
    try:
        if mounted and not _mount("-o", "remount,ro,bind", str(target)):
            pytest.fail("could not remount the bind mount read-only")
        yield mounted
    finally:
        if mounted:
            _umount(target)


def test_read_only_database_refuses_writes_cleanly(tmp_path: Path, report: Report) -> None:
    directory = tmp_path / "rw"
    directory.mkdir()
    path = directory / "edc.db"
    url = f"sqlite:///{path}"
    _seed(url, tmp_path)
    before = _state(url)
    csv = write_requests(tmp_path / "more.csv", 100, "more")
    lines = []

    uri = f"sqlite:///file:{path}?mode=ro&uri=true"
    refused = run_edc("--database-url", uri, "jobs", "import", str(csv))
    assert refused.returncode == 2, refused.stdout
    assert one_line_error(refused.stderr), refused.stderr
    assert "readonly" in refused.stderr or "read-only" in refused.stderr, refused.stderr
    listed = run_edc("--database-url", uri, "jobs", "list", "--json", "-n", "100")
    assert listed.returncode == 0, listed.stderr  # reading still works
    lines.append(f"URI mode=ro: import exit 2 {refused.stderr.strip()!r}, jobs list exit 0")
    _assert_intact(url, path, before)

    with _read_only_bind(directory, tmp_path / "ro") as mounted:
        if mounted:
            ro_url = f"sqlite:///{tmp_path / 'ro' / 'edc.db'}"
            blocked = run_edc("--database-url", ro_url, "jobs", "import", str(csv))
            assert blocked.returncode == 2, blocked.stdout
            assert one_line_error(blocked.stderr), blocked.stderr
            assert TRACEBACK not in blocked.stdout
            lines.append(f"read-only bind mount: import exit 2 {blocked.stderr.strip()!r}")
            # SQLite cannot open a WAL database on read-only media even to read (it needs the
            # -shm file); `immutable=1` tells it nothing can change, and then verification works.
            path_ro = tmp_path / "ro" / "edc.db"
            immutable = f"sqlite:///file:{path_ro}?immutable=1&uri=true"
            examined = run_edc("--database-url", immutable, "audit", "verify")
            assert examined.returncode == 0, examined.stderr
            assert "could NOT be recorded" in examined.stdout, examined.stdout
            lines.append("audit verify there with ?immutable=1&uri=true: exit 0, not recorded")
        else:
            lines.append("read-only bind mount: not tried (needs root and mount)")
    _assert_intact(url, path, before)
    verify = run_edc("--database-url", url, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    report(
        "sqlite: " + "; ".join(lines) + f"; afterwards integrity ok, {SEED_ROWS} jobs and the "
        "chain unchanged, audit verify exit 0"
    )


def test_verify_of_a_read_only_copy_names_the_tampered_entry(tmp_path: Path) -> None:
    """Regression (found by this suite): verify could not report on a read-only copy, because it
    failed writing its own audit entry first ('attempt to write a readonly database', exit 2)."""
    path = tmp_path / "evidence.db"
    url = f"sqlite:///{path}"
    _seed(url, tmp_path)
    with opened(url) as db, db.begin() as conn:
        strip_guards(conn)
        culprit = next(m for m in MANIPULATIONS if m.name == "description").apply(conn, 5)
    assert culprit is not None
    result = run_edc("--database-url", f"sqlite:///file:{path}?mode=ro&uri=true", "audit", "verify")
    assert result.returncode == 1, result.stderr
    assert culprit in result.stderr, result.stderr
    assert "could NOT be recorded" in result.stdout, result.stdout


def test_export_of_a_read_only_copy_is_made_and_says_it_is_not_recorded(tmp_path: Path) -> None:
    """An export from read-only evidence is still made (complete, renamed into place); the audit
    entry that would record it cannot be written, and the output says so (like verify)."""
    path = tmp_path / "evidence.db"
    url = f"sqlite:///{path}"
    _seed(url, tmp_path)
    before = _state(url)
    out = tmp_path / "chain.jsonl"
    uri = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = run_edc("--database-url", uri, "audit", "export", str(out))
    assert result.returncode == 0, result.stderr
    assert "export could NOT be recorded in the audit log" in result.stdout, result.stdout
    with opened(url) as db, db.session(read_only=True) as session:
        entries = session.execute(select(func.count()).select_from(AuditLog)).scalar_one()
    assert len(out.read_text(encoding="utf-8").splitlines()) == entries
    _assert_intact(url, path, before)
