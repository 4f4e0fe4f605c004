"""`edc audit` through the installed executable, on SQLite and PostgreSQL."""

import itertools
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

Run = Callable[..., subprocess.CompletedProcess[str]]


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def failed(result: subprocess.CompletedProcess[str], code: int) -> str:
    """edc's one error line (stderr) of a command that must exit with `code`."""
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("edc: error: ")
    return lines[0]


def test_head_is_a_checkpoint_that_verify_accepts(
    edc: Run,
    seed: Callable[[int], Any],
    audit_head: Callable[[], str],
    audit_entries: Callable[[], list[Any]],
    tmp_path: Path,
) -> None:
    seed(5)  # five jobs and the import: six entries
    checkpoint_file = tmp_path / "cp.json"
    expected = audit_head()

    head = ok(edc("audit", "head", "--json"))
    checkpoint_file.write_text(head.stdout, encoding="utf-8")
    verified = ok(edc("audit", "verify", "--checkpoint", str(checkpoint_file)))
    text = ok(edc("audit", "head"))

    assert head.stdout == expected + "\n"  # exactly Checkpoint.to_json()
    checkpoint = json.loads(head.stdout)
    assert checkpoint["count"] == 6
    assert f"audit chain intact: 6 entries, head {checkpoint['last_hash']}" in verified.stdout
    assert "checkpoint holds" in verified.stdout
    recorded = audit_entries()[-1]
    assert recorded.action.value == "verify"
    assert recorded.target_type == "audit_log"
    assert recorded.previous_hash == checkpoint["last_hash"]
    assert recorded.details["ok"] is True
    assert recorded.details["entries_checked"] == 6
    assert recorded.details["verified_through_id"] == checkpoint["last_id"]
    assert f"audit entry id {recorded.id}" in verified.stdout
    assert "audit chain head: 7 entries" in text.stdout
    assert recorded.entry_hash in text.stdout


def test_verify_names_a_tampered_entry(
    edc: Run,
    seed: Callable[[int], Any],
    tamper: Callable[..., int],
    audit_entries: Callable[[], list[Any]],
) -> None:
    seed(5)
    victim = audit_entries()[2]
    assert tamper("UPDATE audit_logs SET actor = 'mallory' WHERE id = :id", id=victim.id) == 1

    result = edc("audit", "verify", "--json")

    line = failed(result, 1)
    assert f"id {victim.id} (uuid {victim.uuid})" in line
    assert "content changed" in line
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["problem"] == "content_changed"
    assert report["first_bad"] == {"id": victim.id, "uuid": victim.uuid}
    assert report["entries_checked"] == 6
    recorded = audit_entries()[-1]  # recorded even though the chain is broken
    assert recorded.action.value == "verify"
    assert recorded.id == report["audit_entry"]["id"]
    assert recorded.details["ok"] is False
    assert recorded.details["first_bad"] == {"id": victim.id, "uuid": victim.uuid}


def test_verify_reports_an_entry_edc_could_not_have_written(
    edc: Run,
    seed: Callable[[int], Any],
    tamper: Callable[..., int],
    audit_entries: Callable[[], list[Any]],
) -> None:
    seed(5)
    entries = audit_entries()
    earlier, victim = entries[1], entries[3]
    # edc never hashes floats: this row cannot even be rebuilt as an entry
    assert tamper("""UPDATE audit_logs SET details = '{"x": 1.5}' WHERE id = :id""", id=victim.id)

    unreadable = failed(edc("audit", "verify"), 1)
    assert tamper("UPDATE audit_logs SET actor = 'mallory' WHERE id = :id", id=earlier.id) == 1
    first_wins = failed(edc("audit", "verify"), 1)

    assert f"id {victim.id} (uuid {victim.uuid}) does not match" in unreadable
    assert f"id {earlier.id} (uuid {earlier.uuid}) does not match" in first_wins


def test_checkpoint_reveals_a_deleted_tail(
    edc: Run,
    seed: Callable[[int], Any],
    tamper: Callable[..., int],
    audit_entries: Callable[[], list[Any]],
    audit_head: Callable[[], str],
    tmp_path: Path,
) -> None:
    seed(5)
    checkpoint_file = tmp_path / "cp.json"
    checkpoint_file.write_text(audit_head(), encoding="utf-8")
    keep = audit_entries()[3].id
    assert tamper("DELETE FROM audit_logs WHERE id > :keep", keep=keep) == 2

    plain = ok(edc("audit", "verify"))  # a cut chain is still a valid chain ...
    result = edc("audit", "verify", "--checkpoint", str(checkpoint_file))  # ... but not this one

    assert "audit chain intact: 4 entries" in plain.stdout
    line = failed(result, 1)
    assert "tail missing" in line
    assert "checkpoint counts 6" in line


def test_unparseable_checkpoint_is_bad_input(edc: Run, tmp_path: Path) -> None:
    checkpoint_file = tmp_path / "cp.json"
    checkpoint_file.write_text('{"count": 3, "last_id": 3}', encoding="utf-8")

    line = failed(edc("audit", "verify", "--checkpoint", str(checkpoint_file)), 2)

    assert f"checkpoint file {checkpoint_file} does not parse" in line
    assert "last_hash" in line


def test_export_writes_every_entry_or_nothing(
    edc: Run, seed: Callable[[int], Any], audit_head: Callable[[], str], tmp_path: Path
) -> None:
    seed(4)
    head = json.loads(audit_head())
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "audit.jsonl"

    to_file = ok(edc("audit", "export", str(out)))
    to_stdout = ok(edc("audit", "export", "-"))
    nowhere = failed(edc("audit", "export", str(tmp_path / "missing" / "audit.jsonl")), 2)

    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == head["count"] == 5
    records = [json.loads(line) for line in lines]
    assert records[-1]["entry_hash"] == head["last_hash"]
    assert records[0]["previous_hash"] is None
    for earlier, later in itertools.pairwise(records):
        assert later["previous_hash"] == earlier["entry_hash"]
    assert list(folder.iterdir()) == [out]  # no temporary file left behind
    assert f"exported 5 audit entries to {out}" in to_file.stdout
    assert head["last_hash"] in to_file.stdout
    assert "export recorded as audit entry id" in to_file.stdout
    # the second export also holds the EXPORT entry that recorded the first
    from_stdout = to_stdout.stdout.splitlines()
    assert from_stdout[:-1] == lines
    assert json.loads(from_stdout[-1])["action"] == "export"
    assert json.loads(from_stdout[-1])["details"]["exported"]["count"] == 5
    assert "exported 6 audit entries to stdout" in to_stdout.stderr
    assert "no directory" in nowhere


def test_log_lists_entries_in_chain_order(
    edc: Run, seed: Callable[[int], Any], job_uuids: Callable[[], list[str]]
) -> None:
    seed(3)
    second = job_uuids()[1]

    by_job = json.loads(ok(edc("audit", "log", "--job", second, "--json")).stdout)
    table = ok(edc("audit", "log", "--limit", "2"))
    unknown = failed(edc("audit", "log", "--job", "no-such-job"), 2)

    (entry,) = by_job["entries"]
    assert entry["job_uuid"] == second
    assert entry["action"] == "create"
    assert entry["target_id"] == second
    assert by_job["more"] is False
    for column in ("id", "time", "action", "actor", "target", "description", "entry_hash"):
        assert column in table.stdout
    assert "https://example.org/seed/1/0" in table.stdout
    assert "https://example.org/seed/1/2" not in table.stdout
    assert "showing the first 2 entries" in table.stderr
    assert "no job with uuid no-such-job" in unknown
