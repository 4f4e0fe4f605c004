"""Smoke test of the benchmarks in bench/: every script runs at a tiny size, on each database,
and prints its settings and one FIGURE line per figure. Targets are not asserted: at these
sizes the ratios say nothing (`make bench` measures them at full size).

The scripts run in this process (their `cli(argv)`), in the order `make bench` runs them, so
the later ones reuse the database the import left, as they do there. On PostgreSQL they use
the test server: scratch databases are created beside `postgres_database_url` and dropped.
"""

import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = "300"

# (module, arguments, figures it must print)
DATABASE_STEPS = [
    ("import_rate", ["--rows", ROWS, "--keep"], ["import"]),
    ("import_memory", ["--rows", ROWS], ["import memory"]),
    ("import_naive", ["--rows", ROWS, "--naive-rows", "100"], ["import vs naive"]),
    ("count", ["--rows", ROWS, "--reuse", "--repeat", "3"], ["count"]),
    ("deep_page", ["--rows", ROWS, "--reuse", "--repeat", "3"], ["deep page"]),
    ("verify", ["--entries", ROWS, "--reuse"], ["verify"]),
    ("claims", ["--rows", "200", "--seconds", "0.3", "--workers", "2"], ["claims"]),
    ("append", ["--entries", "200", "--batch", "100"], ["append", "append_many"]),
]
FILE_STEPS = [
    ("hashing", ["--mib", "8", "--repeat", "1", "--keep-file"], ["hashing"]),
    ("hashing_tools", ["--mib", "8", "--repeat", "1"], ["hashing vs tools"]),
]
FIGURE_LINE = re.compile(
    r"^FIGURE (?P<figure>.+?) +(?P<db>sqlite|postgresql|file) +edc .+ \| baseline .+ \| "
    r"ratio .+ \| target .+ \| (PASS|FAIL)",
    re.MULTILINE,
)


@pytest.fixture
def bench_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """`bench` is a top-level package beside src/; spawned claim workers inherit sys.path."""
    monkeypatch.syspath_prepend(str(ROOT))
    for name in [m for m in sys.modules if m == "bench" or m.startswith("bench.")]:
        monkeypatch.delitem(sys.modules, name)


def run_steps(
    steps: list[tuple[str, list[str], list[str]]],
    common: list[str],
    capsys: pytest.CaptureFixture[str],
    db: str,
) -> None:
    for module, argv, figures in steps:
        cli = importlib.import_module(f"bench.{module}").cli
        assert cli([*argv, *common]) == 0, module
        out = capsys.readouterr().out
        found = [(m["figure"].strip(), m["db"]) for m in FIGURE_LINE.finditer(out)]
        assert found == [(figure, db) for figure in figures], f"{module} printed:\n{out}"
        if db != "file":
            assert re.search(r"^# .+ on " + db, out, re.MULTILINE), f"{module}: no settings:\n{out}"
            assert "synchronous" in out, f"{module} printed no durability settings:\n{out}"


@pytest.mark.slow
@pytest.mark.usefixtures("bench_importable")
def test_every_database_benchmark_runs(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    record = tmp_path / "figures.jsonl"
    common = ["--db", backend, "--workdir", str(tmp_path), "--record", str(record)]
    pg_url = request.getfixturevalue("postgres_database_url") if backend == "postgresql" else None
    if pg_url:
        common += ["--pg-url", pg_url]
    try:
        run_steps(DATABASE_STEPS, common, capsys, backend)
    finally:
        importlib.import_module("bench.cleanup").drop_kept(pg_url)  # what --keep left
    records = importlib.import_module("bench.common").read_records(str(record))
    table = importlib.import_module("bench.summary").table(records)
    assert table.count(f"| {backend} |") == 9, table


@pytest.mark.usefixtures("bench_importable")
def test_file_benchmarks_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_steps(FILE_STEPS, ["--workdir", str(tmp_path)], capsys, "file")
    assert not list(tmp_path.glob("*.bin")), "the hashed file was left behind"
