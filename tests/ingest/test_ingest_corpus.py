"""The on-disk corpus: each bad file fails at the line and for the reason in bad/expected.json,
and each good file reads as exactly the requests in its .expected.json sidecar."""

import json
from pathlib import Path

import pytest
from ingest_support import DATA, as_dict, read_all

from edc.ingest import CaptureRequest, CsvFormatError, RowError

BAD = DATA / "bad"
BAD_CASES: dict[str, dict[str, object]] = json.loads((BAD / "expected.json").read_text())
GOOD = sorted((DATA / "good").glob("*.csv"))


def test_every_bad_file_has_an_expectation_and_the_corpus_stays_small() -> None:
    assert sorted(BAD_CASES) == sorted(path.name for path in BAD.glob("*.csv"))
    assert sum(path.stat().st_size for path in DATA.rglob("*") if path.is_file()) <= 250_000


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_file(name: str) -> None:
    expected = BAD_CASES[name]
    path = BAD / name
    if expected["error"] == "file":
        with pytest.raises(CsvFormatError) as info:
            read_all(path)
        assert info.value.line == expected["line"]
        assert str(path) in str(info.value)
        assert f"line {expected['line']}: " in str(info.value)
        assert str(expected["reason"]) in info.value.reason
    else:
        errors = [item for item in read_all(path) if isinstance(item, RowError)]
        assert len(errors) == 1
        assert (errors[0].line, errors[0].column) == (expected["line"], expected["column"])
        assert str(expected["reason"]) in errors[0].reason


@pytest.mark.parametrize("path", GOOD, ids=[path.name for path in GOOD])
def test_good_file(path: Path) -> None:
    sidecar = path.with_name(path.stem + ".expected.json")
    expected = json.loads(sidecar.read_text(encoding="utf-8"))
    items = read_all(path)
    assert all(isinstance(item, CaptureRequest) for item in items), items
    assert [as_dict(item) for item in items if isinstance(item, CaptureRequest)] == expected


def test_awkward_file_really_is_awkward() -> None:
    """Guard against an editor 'fixing' the bytes the good corpus exists to test."""
    data = (DATA / "good" / "awkward_bom_crlf.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == data.count(b"\n") == 12
    assert not data.endswith(b"\n")
