"""docs/audit-chain.md is enough to write a verifier: the stdlib-only one written from it agrees
with edc on real chains (SQLite and PostgreSQL), on the doc's worked examples, and on tampering."""

import ast
import base64
import hashlib
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from stdlib_verifier import canonical, verify_export

from edc.db import DatabaseEngine
from edc.db.models import ArtifactType, AuditAction, JobStatus
from edc.db.repositories import (
    ArtifactRepository,
    AuditContext,
    AuditLogRepository,
    JobDraft,
    JobRepository,
)
from edc.integrity.entry import HASHED_FIELDS
from edc.integrity.verify import Problem
from integrity.test_golden import (
    GENESIS_CANONICAL,
    GENESIS_HASH,
    SECOND_CANONICAL,
    SECOND_HASH,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "audit-chain.md"
VERIFIER = Path(__file__).resolve().with_name("stdlib_verifier.py")
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
MAX_SAFE = 2**53 - 1


@dataclass(frozen=True)
class Example:
    """One worked example of the doc: export line, canonical bytes, Base64 of them, hash."""

    export_line: str
    canonical_text: str
    base64_text: str
    entry_hash: str
    stated_length: int


def doc_section(text: str, heading: str) -> str:
    """The body of the `## heading` section (up to the next heading of the same level)."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def doc_examples() -> list[Example]:
    """The `### Example` subsections of "Worked examples", parsed in order."""
    section = doc_section(DOC.read_text(encoding="utf-8"), "Worked examples")
    examples = []
    for part in section.split("\n### Example")[1:]:
        blocks = FENCE.findall(part)
        assert [lang for lang, _ in blocks] == ["jsonl", "text", "text", "text"], part[:80]
        (_, line), (_, canon), (_, b64), (_, digest) = blocks
        length = re.search(r"\((\d+) bytes of UTF-8", part)
        assert length is not None, "each example states the length of its canonical bytes"
        examples.append(
            Example(
                export_line=line.rstrip("\n"),
                canonical_text=canon.rstrip("\n"),
                base64_text="".join(b64.split()),
                entry_hash=digest.strip(),
                stated_length=int(length.group(1)),
            )
        )
    return examples


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="\n")
    return path


# -- the verifier itself ---------------------------------------------------------------------


def test_the_verifier_is_under_60_lines_and_imports_only_the_standard_library() -> None:
    source = VERIFIER.read_text(encoding="utf-8")
    assert len(source.splitlines()) < 60
    assert "import edc" not in source
    assert "from edc" not in source
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            assert node.module is not None
            imported.add(node.module.split(".")[0])
    assert imported, "the verifier imports something"
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_the_verifier_runs_without_site_packages(tmp_path: Path) -> None:
    """`python -I -S`: no site-packages, so no edc, sqlalchemy or anything else installed."""
    export = write_lines(tmp_path / "golden.jsonl", [e.export_line for e in doc_examples()])
    program = (
        "import sys; sys.path.insert(0, sys.argv[1]); import stdlib_verifier as v; "
        "assert 'edc' not in sys.modules; print(v.verify_export(sys.argv[2]))"
    )
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", program, str(VERIFIER.parent), str(export)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert completed.stdout.strip() == "(True, None, '2 entries verified')"


# -- the doc's worked examples and tables ----------------------------------------------------


def test_the_doc_shows_the_golden_vectors_and_the_verifier_reproduces_them(
    tmp_path: Path,
) -> None:
    examples = doc_examples()
    assert [e.canonical_text for e in examples] == [GENESIS_CANONICAL, SECOND_CANONICAL]
    assert [e.entry_hash for e in examples] == [GENESIS_HASH, SECOND_HASH]
    for example in examples:
        record = json.loads(example.export_line)
        expected = example.canonical_text.encode("utf-8")
        assert base64.b64decode(example.base64_text, validate=True) == expected
        assert len(expected) == example.stated_length
        stored = record.pop("entry_hash")
        assert stored == example.entry_hash
        assert canonical(record).encode("utf-8") == expected
        assert hashlib.sha256(expected).hexdigest() == example.entry_hash

    export = write_lines(tmp_path / "golden.jsonl", [e.export_line for e in examples])
    assert verify_export(str(export)) == (True, None, "2 entries verified")
    stated = re.search(r'`(\{"count": 2, [^`]*\})`', DOC.read_text(encoding="utf-8"))
    assert stated is not None
    assert verify_export(str(export), json.loads(stated.group(1)))[0]


def test_the_doc_lists_exactly_the_hashed_fields_and_problem_kinds() -> None:
    text = DOC.read_text(encoding="utf-8")

    def first_column(heading: str) -> list[str]:
        rows = re.findall(r"^\| `([^`]+)`", doc_section(text, heading), re.MULTILINE)
        return rows

    assert first_column("The hashed object") == list(HASHED_FIELDS)
    assert first_column("Problems edc reports and how they are classified") == [
        problem.value for problem in Problem
    ]


def test_golden_lines_with_a_float_or_a_duplicate_member_are_malformed(tmp_path: Path) -> None:
    first = doc_examples()[0].export_line
    for bad in (
        first.replace('"row":7', '"row":7.0'),
        first.replace('"row":7', '"row":7,"row":7'),
        first.replace('"row":7', f'"row":{MAX_SAFE + 1}'),
        first.replace('"v":1', '"v":true'),
        first.replace(".789012Z", ".789Z"),
    ):
        ok, line, reason = verify_export(str(write_lines(tmp_path / "bad.jsonl", [bad])))
        assert (ok, line) == (False, 1)
        assert reason.startswith("malformed entry"), reason


# -- chains made by edc, on both databases ---------------------------------------------------


def build_chain(db: DatabaseEngine, tmp_path: Path) -> None:
    """A chain with everything the repositories write, and awkward text and numbers."""
    alice = AuditContext(actor="alice@example.org", ip_address="192.0.2.1", user_agent="edc/0.1")
    evidence = tmp_path / "page.html"
    evidence.write_text("<html><body>Müller — ✓</body></html>", encoding="utf-8")
    with db.session() as s:
        jobs = JobRepository(s, alice)
        kept = jobs.create("https://example.org/a?q=1&r=ü", "20200101000000")
        doomed = jobs.create("https://example.org/gone", "20190101000000", "before")
        jobs.create_many(
            [JobDraft(f"https://example.org/bulk/{i}", "2021", line=i + 2) for i in range(3)]
        )
        ArtifactRepository(s, alice).register_file(kept, evidence, ArtifactType.HTML)
        AuditLogRepository(s, alice).append(
            AuditAction.ACCESS,
            "artifact",
            'Zugriff auf München — ✓\n"Ansicht"\t2 \u2028 \x7f \x01',
            details={
                "\ufb33": "dalet",
                "\U0001f600": "grinning",
                "a": [MAX_SAFE, -MAX_SAFE, 0, True, None, {"z": {}, "": []}],
                "longer key than the others": "",
            },
        )
    with db.session() as s:
        jobs = JobRepository(s)
        jobs.cancel(jobs.require(doomed.uuid), "not needed")
        jobs.delete(jobs.require(doomed.uuid))  # its entries keep job_uuid; job_id -> NULL
    with db.session() as s:
        claimed = JobRepository(s).claim_next("worker-1", lease_seconds=300)
        assert claimed is not None
    with db.session() as s:
        jobs = JobRepository(s)
        job = jobs.require(claimed.uuid)
        jobs.heartbeat(job, "worker-1", lease_seconds=300)
        jobs.complete(job, "worker-1", "https://web.archive.org/web/2020/x", variance_days=0.25)
        assert job.status is JobStatus.COMPLETED


def export(db: DatabaseEngine, path: Path) -> tuple[list[str], dict[str, object]]:
    """Seal, export through the repository; return the lines and the head's checkpoint as JSON."""
    with db.session() as s:  # the worker's claim and completion are pending until sealed
        AuditLogRepository(s).seal()
    stream = io.StringIO()
    with db.session(read_only=True) as s:
        audit = AuditLogRepository(s)
        exported = audit.export(stream)
        head = audit.head()
        assert audit.verify().ok
    assert exported == head
    text = stream.getvalue()
    assert text.endswith("\n")
    lines = text[:-1].split("\n")  # not splitlines(): U+2028 in a string is not a line break
    write_lines(path, lines)
    return lines, json.loads(head.to_json())


def test_the_verifier_accepts_edc_chains_and_names_the_tampered_line(
    db: DatabaseEngine, tmp_path: Path
) -> None:
    build_chain(db, tmp_path)
    path = tmp_path / "audit.jsonl"
    lines, checkpoint = export(db, path)
    assert len(lines) == checkpoint["count"] == 11

    assert verify_export(str(path)) == (True, None, f"{len(lines)} entries verified")
    assert verify_export(str(path), checkpoint)[0]

    def verdict(tampered: list[str], cp: dict[str, object] | None = None) -> tuple[int | None, str]:
        ok, line, reason = verify_export(str(write_lines(tmp_path / "t.jsonl", tampered)), cp)
        assert not ok
        return line, reason

    k = 4  # a line in the middle (1-based)

    record = json.loads(lines[k - 1])
    record["description"] += " (edited)"
    edited = [*lines[: k - 1], json.dumps(record, ensure_ascii=False), *lines[k:]]
    assert verdict(edited) == (k, "entry_hash is not the hash of the entry: content changed")

    record["entry_hash"] = hashlib.sha256(
        canonical({n: v for n, v in record.items() if n != "entry_hash"}).encode()
    ).hexdigest()
    forged = [*lines[: k - 1], json.dumps(record, ensure_ascii=False), *lines[k:]]
    assert verdict(forged) == (k + 1, "link broken")

    assert verdict([*lines[: k - 1], *lines[k:]]) == (k, "link broken")
    swapped = [*lines[: k - 1], lines[k], lines[k - 1], *lines[k + 1 :]]
    assert verdict(swapped) == (k, "link broken")
    assert verdict(lines[1:]) == (1, "first entry is not genesis")

    cut = lines[:-2]
    assert verify_export(str(write_lines(tmp_path / "cut.jsonl", cut)))[0]
    assert verdict(cut, checkpoint) == (len(cut), "checkpoint does not hold: tail missing")
