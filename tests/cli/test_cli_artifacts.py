"""`edc artifacts` through the installed executable, on SQLite and PostgreSQL."""

import hashlib
import json
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

Run = Callable[..., subprocess.CompletedProcess[str]]


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def failed(result: subprocess.CompletedProcess[str], code: int, *, usage: bool = False) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    if not usage:
        assert result.stderr.startswith("edc: error: "), result.stderr
    return result.stderr


def digests(path: Path) -> dict[str, str]:
    data = path.read_bytes()
    return {name: hashlib.new(name, data).hexdigest() for name in ("md5", "sha1", "sha256")}


def test_add_then_verify_names_each_changed_and_missing_file(
    edc: Run,
    seed: Callable[[int], Any],
    job_uuids: Callable[[], list[str]],
    audit_entries: Callable[[], list[Any]],
    tmp_path: Path,
) -> None:
    seed(1)
    (job,) = job_uuids()
    page, shot = tmp_path / "page.html", tmp_path / "shot.png"
    page.write_bytes(b"<html><body>archived page</body></html>")
    shot.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    page_digests, page_size, shot_digests = digests(page), page.stat().st_size, digests(shot)

    added = json.loads(
        ok(
            edc(
                "artifacts", "add", job, str(page), "--type", "html", "--json",
                env={"EDC_ACTOR": "carol"},
            )
        ).stdout
    )  # fmt: skip
    shown = ok(edc("artifacts", "add", job, str(shot), "--type", "png"))
    intact = ok(edc("artifacts", "verify", env={"USER": "dave"}))
    changed_bytes = bytearray(page.read_bytes())
    changed_bytes[10] ^= 0x01
    page.write_bytes(bytes(changed_bytes))
    changed = edc("artifacts", "verify")
    shot.unlink()
    both = edc("artifacts", "verify", "--job", job, "--json")

    assert added["job_uuid"] == job
    assert added["type"] == "html"
    assert added["path"] == str(page.resolve())
    assert added["size"] == page_size
    assert {name: added[name] for name in ("md5", "sha1", "sha256")} == page_digests
    for digest in shot_digests.values():
        assert digest in shown.stdout
    assert "registered png artifact" in shown.stdout

    assert "all 2 artifact files match their recorded size and hashes" in intact.stdout

    changed_err = failed(changed, 1)
    assert f"changed: {page.resolve()}" in changed.stdout
    assert str(shot.resolve()) not in changed.stdout
    assert "1 of 2 artifact files failed verification (1 changed)" in changed_err

    failed(both, 1)
    report = json.loads(both.stdout)
    assert report["ok"] is False
    assert report["checked"] == 2
    kinds = {problem["path"]: problem["kind"] for problem in report["problems"]}
    assert kinds == {str(page.resolve()): "changed", str(shot.resolve()): "missing"}
    assert f"job {job}" in both.stderr

    entries = audit_entries()
    assert entries[-5].actor == "carol"  # the html artifact's registration
    verifications = [entry for entry in entries if entry.action.value == "verify"]
    assert [entry.details["problems"] for entry in verifications] == [0, 1, 2]
    assert [entry.details["checked"] for entry in verifications] == [2, 2, 2]
    assert verifications[0].actor == f"dave@{socket.gethostname()}"
    assert verifications[0].target_type == "artifacts"
    assert verifications[2].job_uuid == job
    assert verifications[2].details["first_problems"][1]["kind"] == "missing"
    assert verifications[2].id == report["audit_entry"]["id"]


def test_add_refuses_bad_input_and_changes_nothing(
    edc: Run,
    seed: Callable[[int], Any],
    job_uuids: Callable[[], list[str]],
    audit_head: Callable[[], str],
    tmp_path: Path,
) -> None:
    seed(1)
    (job,) = job_uuids()
    evidence = tmp_path / "page.html"
    evidence.write_text("<html></html>", encoding="utf-8")
    before = audit_head()

    no_file = failed(edc("artifacts", "add", job, str(tmp_path / "gone.html"), "--type", "html"), 2)
    no_job = failed(edc("artifacts", "add", "no-such-job", str(evidence), "--type", "html"), 2)
    bad_type = failed(edc("artifacts", "add", job, str(evidence), "--type", "gif"), 2, usage=True)

    assert no_file.strip() == f"edc: error: artifact file {tmp_path / 'gone.html'} does not exist"
    assert no_job.strip() == "edc: error: no job with uuid no-such-job"
    assert "gif" in bad_type
    assert "html" in bad_type
    assert audit_head() == before
