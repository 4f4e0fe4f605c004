"""Scenario 8: hostile CSV files through `edc jobs import`.

Hypothesis builds files from valid rows, invalid rows (javascript: and other bad URLs, bad
times and directions), quotes, embedded newlines, BOMs, NULs, invalid UTF-8, random bytes,
fields larger than the reader's limit and odd headers. Many are imported in-process with
`import_file`; a diverse sample then goes through the installed executable, each file into a
fresh copy of a seeded database. Never a traceback; exit 0 exactly when the file is valid (oracle:
`edc.ingest.validate_file`, the same reader, plus independent checks: a `javascript:` row is never
imported and a file built only of valid rows is imported); never a partial import (the job count
grows by 0 or by exactly the number of new valid rows).
"""

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_support import LONG, TRACEBACK, Copies, Report, opened
from sqlalchemy import func, select

from cli_support import run_edc
from edc.db import DatabaseEngine, migrate
from edc.db.models import Job
from edc.errors import InputError
from edc.ingest import CaptureRequest, read_requests, validate_file
from edc.ingest.importer import import_file

IN_PROCESS_EXAMPLES = 1_000 if LONG else 120
CLI_SAMPLES = {"sqlite": 60 if LONG else 12, "postgresql": 30 if LONG else 6}
SEED_URLS = 5  # https://example.org/fuzz/0..4 at 20200101000000 exist before every import
HUGE = 70_000  # bytes in one field: beyond the reader's 64 KiB field limit

Key = tuple[str, str, str, str]

GOOD_HEADERS = [b"url,when,direction,mode", b"\xef\xbb\xbfurl,when,direction,mode",
                b" URL , When ,DIRECTION,Mode"]  # fmt: skip
ODD_HEADERS = [b"when,url,mode,direction", b"url,when", b"url,when,direction,mode,note",
               b"foo,bar", b"url,url,when", b"", b'"url","when"', b"url;when"]  # fmt: skip
JAVASCRIPT = ["javascript:alert(1)", "JavaScript:alert(document.cookie)", " javascript:void(0)",
              "javascript://example.org/%0Aalert(1)", "jAvAsCrIpT:fetch('//evil')"]  # fmt: skip
BAD_URLS = ["ftp://example.org/x", "", "   ", "/relative/path", "http://", "https://exa mple.org/",
            "data:text/html,<b>x</b>", "https://example.org/\x00", "http://[::1",
            "https://" + "a" * 300 + ".org/", "https://example.org/" + "x" * 3000, "mailto:a@b.c",
            "file:///etc/passwd", "https://example.org/\u202ex"]  # fmt: skip
BAD_WHENS = ["", "2020-13-01", "yesterday", "123", "20201301000000", "0000", "2020-02-30",
             "20200101000000Z", "-1", "\u0662\u0660\u0662\u0660"]  # fmt: skip
BAD_DIRECTIONS = ["sideways", "clos est", "<script>"]
BAD_MODES = ["FETCH", "x" * 40, "fetch now", "1fetch"]
WHENS = ["20200101000000", "20211231235959"]
DIRECTIONS = ["closest", "before", "after"]


@dataclass(frozen=True)
class Sample:
    """A generated file and what its construction says about it (independent of edc)."""

    content: bytes
    kinds: frozenset[str]
    javascript: bool
    constructed_valid: bool  # a good header and only plainly valid rows (and blank lines)
    constructed_keys: frozenset[Key]  # the keys of those rows


CLEAN_KINDS = ["good", "good", "good", "good", "blank", "quoted"]
HOSTILE_KINDS = ["good", "javascript", "bad_url", "bad_when", "bad_direction", "bad_mode",
                 "quoted", "newline_in_quotes", "unterminated", "too_many_fields", "huge",
                 "binary", "invalid_utf8", "nul", "blank", "bom_mid", "lone_cr"]  # fmt: skip


@st.composite
def rows(draw: st.DrawFn, kinds: list[str]) -> tuple[str, bytes, Key | None]:
    """One record: (kind, bytes without line end, its key if it is plainly valid)."""
    kind = draw(st.sampled_from(kinds))
    url = f"https://example.org/fuzz/{draw(st.integers(0, 12))}"
    when, direction = draw(st.sampled_from(WHENS)), draw(st.sampled_from(DIRECTIONS))
    if kind == "good":
        return kind, f"{url},{when},{direction},fetch".encode(), (url, when, direction, "fetch")
    if kind == "javascript":
        bad = draw(st.sampled_from(JAVASCRIPT))
        return kind, f'"{bad}",{when},{direction},fetch'.encode(), None
    if kind == "bad_url":
        bad = draw(st.sampled_from(BAD_URLS)).replace('"', '""')
        return kind, f'"{bad}",{when},{direction},fetch'.encode(), None
    if kind == "bad_when":
        return kind, f"{url},{draw(st.sampled_from(BAD_WHENS))},{direction},fetch".encode(), None
    if kind == "bad_direction":
        bad = draw(st.sampled_from(BAD_DIRECTIONS))
        return kind, f"{url},{when},{bad},fetch".encode(), None
    if kind == "bad_mode":
        return kind, f"{url},{when},{direction},{draw(st.sampled_from(BAD_MODES))}".encode(), None
    if kind == "quoted":
        return kind, f'"{url}/""q""","{when}"," {direction} ",""'.encode(), None
    if kind == "newline_in_quotes":
        return kind, f'"{url}\nsecond line",{when},{direction},fetch'.encode(), None
    if kind == "unterminated":
        return kind, f'"{url},{when},{direction},fetch'.encode(), None
    if kind == "too_many_fields":
        return kind, f"{url},{when},{direction},fetch,extra,more".encode(), None
    if kind == "huge":
        where = draw(st.sampled_from(["url", "mode", "quoted"]))
        big = "y" * HUGE
        text = {"url": f"{url}/{big},{when}", "mode": f"{url},{when},{direction},{big}",
                "quoted": f'"{big}",{when}'}[where]  # fmt: skip
        return kind, text.encode(), None
    if kind == "binary":
        return kind, draw(st.binary(max_size=80)), None
    if kind == "invalid_utf8":
        return kind, f"{url}/".encode() + b"\xff\xfe\xc3(" + f",{when}".encode(), None
    if kind == "nul":
        return kind, f"{url}/a\x00b,{when},{direction},fetch".encode(), None
    if kind == "blank":
        return kind, draw(st.sampled_from([b"", b"   ", b",,,", b" , , , "])), None
    if kind == "bom_mid":
        return kind, b"\xef\xbb\xbf" + f"{url},{when}".encode(), None
    return kind, f"{url},{when}\r{url}/cr,{when}".encode(), None  # lone_cr


@st.composite
def hostile_files(draw: st.DrawFn) -> Sample:
    good_header = draw(st.booleans())
    header = draw(st.sampled_from(GOOD_HEADERS if good_header else ODD_HEADERS))
    clean = draw(st.integers(0, 2)) > 0  # two files in three hold no hostile row
    records = draw(st.lists(rows(CLEAN_KINDS if clean else HOSTILE_KINDS), max_size=8))
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    body = ending.join([header] + [record for _, record, _ in records])
    if draw(st.booleans()):
        body += ending
    kinds = frozenset(kind for kind, _, _ in records)
    plain = kinds <= {"good", "blank"} and good_header
    keys = frozenset(key for _, _, key in records if key is not None)
    return Sample(body, kinds, "javascript" in kinds, plain, keys)


SEED_KEYS = {(f"https://example.org/fuzz/{i}", "20200101000000", "closest", "fetch")
             for i in range(SEED_URLS)}  # fmt: skip


def _seed(url: str, tmp_path: Path) -> None:
    with opened(url) as db:
        migrate.init_schema(db)
        path = tmp_path / "seed.csv"
        path.write_text(
            "url,when\n"
            + "".join(f"https://example.org/fuzz/{i},20200101\n" for i in range(SEED_URLS))
        )
        import_file(db, path)


@dataclass(frozen=True)
class Expected:
    """What the oracle says: is the file accepted, and how many jobs does it add."""

    accepted: bool
    new: int


def _keys_in_db(db: DatabaseEngine) -> set[Key]:
    with db.session(read_only=True) as session:
        return {
            (row.url, row.when, row.direction, row.mode)
            for row in session.execute(select(Job.url, Job.when, Job.direction, Job.mode))
        }


def _oracle(path: Path, existing: set[Key]) -> Expected:
    try:
        summary = validate_file(path)
        keys = {
            (r.url, r.when, r.direction, r.mode)
            for r in read_requests(path)
            if isinstance(r, CaptureRequest)
        }
    except InputError:
        return Expected(False, 0)
    if not summary.ok:
        return Expected(False, 0)
    return Expected(True, len(keys - existing))


def _check_independent(sample: Sample, accepted: bool, added: int, existing: set[Key]) -> None:
    if sample.javascript:
        assert not accepted, "a file with a javascript: row was imported"
        assert added == 0, "a file with a javascript: row added jobs"
    if sample.constructed_valid:
        assert accepted, "a file of plainly valid rows was rejected"
        assert added == len(sample.constructed_keys - existing)


def _job_count(db: DatabaseEngine) -> int:
    with db.session(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(Job)) or 0)


def _javascript_jobs(db: DatabaseEngine) -> int:
    with db.session(read_only=True) as session:
        statement = (
            select(func.count()).select_from(Job).where(func.lower(Job.url).contains("javascript"))
        )
        return int(session.scalar(statement) or 0)


def test_hostile_csv_never_crashes_or_half_imports(
    backend: str, database_url: str, tmp_path: Path, report: Report
) -> None:
    _seed(database_url, tmp_path)
    copies = Copies(backend, database_url, tmp_path)
    try:
        _fuzz(backend, copies, tmp_path, report)
    finally:
        copies.drop_all()


def _fuzz(backend: str, copies: Copies, tmp_path: Path, report: Report) -> None:
    started = time.monotonic()
    with opened(copies.new("inprocess")) as target:
        corpus, outcomes = _in_process(target, tmp_path)
        assert _javascript_jobs(target) == 0
    outcomes["seconds"] = round(time.monotonic() - started)
    _through_cli(backend, copies, corpus, outcomes, report)


def _in_process(
    target: DatabaseEngine, tmp_path: Path
) -> tuple[list[tuple[Sample, Path]], dict[str, int]]:
    corpus: list[tuple[Sample, Path]] = []
    outcomes = {"accepted": 0, "rejected": 0}

    @settings(
        max_examples=IN_PROCESS_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(sample=hostile_files())
    def in_process(sample: Sample) -> None:
        path = tmp_path / f"sample-{len(corpus)}.csv"
        path.write_bytes(sample.content)
        corpus.append((sample, path))
        existing, before = _keys_in_db(target), _job_count(target)
        expected = _oracle(path, existing)
        try:
            result = import_file(target, path)
        except InputError:
            accepted, created = False, 0
        else:
            accepted, created = True, result.created
        added = _job_count(target) - before
        assert accepted == expected.accepted
        assert added == created == (expected.new if accepted else 0)
        _check_independent(sample, accepted, added, existing)
        outcomes["accepted" if accepted else "rejected"] += 1

    in_process()
    return corpus, outcomes


def _through_cli(
    backend: str,
    copies: Copies,
    corpus: list[tuple[Sample, Path]],
    outcomes: dict[str, int],
    report: Report,
) -> None:
    # A diverse sample through the installed executable: every kind of row at least once.
    rng = random.Random(f"hostile-{backend}")
    picked: list[tuple[Sample, Path]] = []
    for kind in sorted({kind for sample, _ in corpus for kind in sample.kinds}):
        if len(picked) < CLI_SAMPLES[backend]:
            with_kind = [item for item in corpus if kind in item[0].kinds and item not in picked]
            if with_kind:
                picked.append(rng.choice(with_kind))
    rest = [item for item in corpus if item not in picked]
    picked += rng.sample(rest, min(len(rest), CLI_SAMPLES[backend] - len(picked)))
    valid = [(s, p) for s, p in corpus if s.constructed_valid and s.constructed_keys]
    picked += [item for item in valid if item not in picked][:2]
    urls = [copies.new(f"cli{number}") for number in range(len(picked))]

    def through_cli(number: int) -> tuple[int, str, str, int]:
        _, path = picked[number]
        result = run_edc("--database-url", urls[number], "jobs", "import", "--json", str(path))
        with opened(urls[number]) as db:
            return result.returncode, result.stdout, result.stderr, _job_count(db)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(through_cli, range(len(picked))))
    cli = {"exit 0": 0, "exit 2": 0}
    for (sample, path), (code, stdout, stderr, jobs_after) in zip(picked, results, strict=True):
        expected = _oracle(path, SEED_KEYS)
        added = jobs_after - len(SEED_KEYS)
        where = f"{path.name} ({sorted(sample.kinds)}): exit {code}: {stderr[-500:]}"
        assert TRACEBACK not in stdout + stderr, where
        assert code in (0, 2), where
        assert (code == 0) == expected.accepted, where
        assert added == (expected.new if code == 0 else 0), where
        if code == 0:
            assert json.loads(stdout)["created"] == added, where
        else:
            assert stderr.startswith("edc: error: "), where
        _check_independent(sample, code == 0, added, SEED_KEYS)
        cli[f"exit {code}"] += 1
    for url in urls:
        with opened(url) as db:
            assert _javascript_jobs(db) == 0
    kinds = sorted({kind for sample, _ in picked for kind in sample.kinds})
    report(
        f"{backend}: {len(corpus)} generated files imported in-process in {outcomes['seconds']} s "
        f"({outcomes['accepted']} accepted, {outcomes['rejected']} rejected) and {len(picked)} "
        f"through `edc jobs import` ({cli['exit 0']} exit 0, {cli['exit 2']} exit 2; row kinds: "
        f"{', '.join(kinds)}): 0 tracebacks, 0 partial imports, 0 javascript: jobs, every exit "
        "code as the oracle says"
    )
