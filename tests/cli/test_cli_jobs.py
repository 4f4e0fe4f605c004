"""`edc jobs` through the installed executable, on SQLite and PostgreSQL."""

import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edc.db import DatabaseEngine
from edc.db.models import ArtifactType
from edc.db.repositories import ArtifactRepository, JobRepository

DATA = Path(__file__).resolve().parent.parent / "ingest" / "data"
BAD_EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (DATA / "bad" / "expected.json").read_text(encoding="utf-8")
)
BAD = sorted((DATA / "bad").glob("*.csv"))
GOOD = sorted((DATA / "good").glob("*.csv"))

Run = Callable[..., subprocess.CompletedProcess[str]]


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def failed(result: subprocess.CompletedProcess[str], code: int = 2, *, usage: bool = False) -> str:
    """The stderr of a command that must fail with `code`: edc's own error line, no traceback.

    `usage`: the error is the command line's (Typer's usage message, not edc's).
    """
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    if not usage:
        assert result.stderr.startswith("edc: error: "), result.stderr
    return result.stderr


def test_bad_corpus_is_complete() -> None:
    assert {path.name for path in BAD} == set(BAD_EXPECTED)


@pytest.mark.parametrize("path", BAD, ids=lambda path: path.stem)
def test_bad_file_is_rejected_and_changes_nothing(
    path: Path,
    edc: Run,
    seed: Callable[[int], Any],
    job_count: Callable[[], int],
    audit_head: Callable[[], str],
) -> None:
    seed(3)  # something there first, so "unchanged" means more than "still empty"
    before = (job_count(), audit_head())
    expected = BAD_EXPECTED[path.name]

    stderr = failed(edc("jobs", "import", str(path)))

    assert f"line {expected['line']}" in stderr
    assert expected["reason"] in stderr
    assert str(path) in stderr.splitlines()[0]
    if expected["error"] == "row":
        assert f"line {expected['line']}, column '{expected['column']}'" in stderr
        assert "nothing was imported" in stderr
    else:
        assert len(stderr.strip().splitlines()) == 1
    assert (job_count(), audit_head()) == before


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.stem)
def test_good_file_imports_exactly_its_requests(path: Path, edc: Run) -> None:
    expected = json.loads(path.with_name(f"{path.stem}.expected.json").read_text("utf-8"))

    report = json.loads(ok(edc("jobs", "import", str(path), "--json")).stdout)
    listed = json.loads(ok(edc("jobs", "list", "--json", "--limit", "1000")).stdout)

    assert report["created"] == len(expected)
    assert report["committed"] is True
    assert report["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert listed["next_cursor"] is None

    def key(item: dict[str, Any]) -> str:
        fields = ("url", "when", "direction", "mode", "options")
        return json.dumps([item[name] for name in fields], sort_keys=True)

    assert sorted(map(key, listed["jobs"])) == sorted(map(key, expected))
    assert {job["status"] for job in listed["jobs"]} == {"pending"}
    assert all(job["created_at"].endswith("Z") for job in listed["jobs"])


def test_importing_a_file_twice_creates_its_jobs_once(
    edc: Run, job_count: Callable[[], int]
) -> None:
    path = DATA / "good" / "timestamps_lf.csv"

    first = ok(edc("jobs", "import", str(path)))
    second = ok(edc("jobs", "import", str(path)))

    assert "15 jobs created; 0 duplicates of existing jobs skipped; 0 invalid rows" in first.stdout
    assert "0 jobs created; 15 duplicates of existing jobs skipped" in second.stdout
    assert job_count() == 15


def test_invalid_rows_atomic_dry_run_and_skip_invalid(
    edc: Run,
    engine: DatabaseEngine,
    tmp_path: Path,
    job_count: Callable[[], int],
    audit_head: Callable[[], str],
) -> None:
    valid = [f"https://example.com/valid/{i}" for i in range(3)]
    lines = ["url,when", *(f"{url},2021" for url in valid)]
    lines += [f"/relative/{i},2021" for i in range(25)]  # lines 5 .. 29
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = audit_head()

    rejected = failed(edc("jobs", "import", str(path)))
    dry = ok(edc("jobs", "import", str(path), "--dry-run", "--skip-invalid"))
    unchanged = (job_count(), audit_head())
    imported = json.loads(ok(edc("jobs", "import", str(path), "--skip-invalid", "--json")).stdout)
    listed = json.loads(ok(edc("jobs", "list", "--json")).stdout)

    first_line = rejected.splitlines()[0]
    assert "25 invalid rows" in first_line
    assert "nothing was imported" in first_line
    for line in range(5, 25):  # the first 20 problems, each on its own line
        assert f"  line {line}, column 'url': URL is relative" in rejected
    assert "line 25," not in rejected
    assert "and 5 more problems" in rejected

    assert "dry run: nothing was written" in dry.stdout
    assert "3 jobs would be created" in dry.stdout
    assert "25 invalid rows skipped" in dry.stdout
    assert unchanged == (0, before)

    assert imported["created"] == 3
    assert (imported["invalid_rows"], imported["error_count"]) == (25, 25)
    assert len(imported["errors"]) == 20
    assert imported["errors"][0].startswith("line 5, column 'url'")
    assert sorted(job["url"] for job in listed["jobs"]) == valid


def test_list_pages_through_every_job_once(
    edc: Run, seed: Callable[[int], Any], job_uuids: Callable[[], list[str]]
) -> None:
    seed(7)
    newest_first = list(reversed(job_uuids()))

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        after = ["--after", cursor] if cursor else []
        page = json.loads(ok(edc("jobs", "list", "--json", "--limit", "3", *after)).stdout)
        pages += 1
        seen += [job["uuid"] for job in page["jobs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert cursor == seen[-1]
    table = ok(edc("jobs", "list", "--status", "pending", "--limit", "3"))
    bad_status = failed(edc("jobs", "list", "--status", "bogus"), usage=True)

    assert pages == 3
    assert seen == newest_first
    for column in ("uuid", "status", "url", "when", "direction", "mode", "attempts", "created"):
        assert column in table.stdout
    assert newest_first[0] in table.stdout
    assert newest_first[3] not in table.stdout
    assert f"next page: edc jobs list --status pending --limit 3 --after {newest_first[2]}" in (
        table.stderr
    )
    assert "bogus" in bad_status
    for status in ("pending", "running", "completed", "failed", "cancelled"):
        assert status in bad_status


def test_show_gives_fields_artifacts_and_audit_trail(
    edc: Run,
    engine: DatabaseEngine,
    seed: Callable[[int], Any],
    job_uuids: Callable[[], list[str]],
    tmp_path: Path,
) -> None:
    seed(1)
    (uuid,) = job_uuids()
    evidence = tmp_path / "page.html"
    evidence.write_bytes(b"<html>evidence</html>")
    with engine.session() as session:
        job = JobRepository(session).require(uuid)
        ArtifactRepository(session).register_file(job, evidence, ArtifactType.HTML)

    table = ok(edc("jobs", "show", uuid))
    data = json.loads(ok(edc("jobs", "show", uuid, "--json")).stdout)
    unknown = failed(edc("jobs", "show", "no-such-job"))

    assert uuid in table.stdout
    assert "https://example.org/seed/1/0" in table.stdout
    assert "job created for" in table.stdout
    assert "html artifact registered" in table.stdout
    assert hashlib.sha256(evidence.read_bytes()).hexdigest() in table.stdout
    assert data["job"]["uuid"] == uuid
    assert data["job"]["status"] == "pending"
    assert set(data["job"]) >= {"memento_url", "error_message", "options", "locked_until"}
    (artifact,) = data["artifacts"]
    assert artifact["type"] == "html"
    assert artifact["path"] == str(evidence.resolve())
    assert artifact["sha256"] == hashlib.sha256(evidence.read_bytes()).hexdigest()
    assert [entry["action"] for entry in data["audit"]] == ["create", "create"]
    assert unknown.strip() == "edc: error: no job with uuid no-such-job"


def test_cancel_is_audited_and_a_finished_job_cannot_be_cancelled(
    edc: Run,
    engine: DatabaseEngine,
    seed: Callable[[int], Any],
    job_uuids: Callable[[], list[str]],
) -> None:
    seed(2)
    first, second = job_uuids()
    with engine.session() as session:
        jobs = JobRepository(session)
        claimed = jobs.claim_next("worker-1", 60)
        assert claimed is not None
        assert claimed.uuid == first
        jobs.complete(claimed, "worker-1")

    reason = ["--reason", "duplicate request"]
    cancelled = ok(edc("jobs", "cancel", second, *reason, "--actor", "alice"))
    refused = failed(edc("jobs", "cancel", first))
    trail = json.loads(ok(edc("audit", "log", "--job", second, "--json")).stdout)["entries"]

    assert f"cancelled job {second} (was pending): duplicate request" in cancelled.stdout
    assert refused.strip() == f"edc: error: job {first} cannot go from completed to cancelled"
    assert [entry["job_uuid"] for entry in trail] == [second, second]
    last = trail[-1]
    assert last["actor"] == "alice"
    assert last["description"] == "job status pending -> cancelled"
    assert last["details"]["error_message"] == "duplicate request"
