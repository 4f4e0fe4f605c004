"""Property tests: what csv.writer writes reads back unchanged, and no input escapes as a crash."""

import codecs
import contextlib
import csv
import io
import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edc.ingest import (
    DIRECTIONS,
    CaptureRequest,
    CsvFormatError,
    RowError,
    normalize_url,
    normalize_when,
    read_requests,
)

KNOWN = ("url", "when", "direction", "mode")
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)

labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
urls = st.builds(
    "{}://{}.{}{}".format,
    st.sampled_from(["http", "https"]),
    st.lists(labels, min_size=1, max_size=3).map(".".join),
    st.from_regex(r"[a-z]{2,6}", fullmatch=True),
    st.from_regex(
        r"(/[A-Za-z0-9,\"'_.~%!$&()*+;=:@-]{0,12}){0,3}(\?[A-Za-z0-9=&%,]{0,10})?", fullmatch=True
    ),
)
whens = st.datetimes(datetime(1000, 1, 1), datetime(9999, 12, 31, 23, 59, 59)).map(
    lambda moment: moment.strftime("%Y%m%d%H%M%S")
)
modes = st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True)
extra_names = st.from_regex(r"[a-z][a-z0-9_ ]{0,8}", fullmatch=True).map(str.strip)


@st.composite
def request_files(draw: st.DrawFn) -> tuple[str, list[CaptureRequest]]:
    """A CSV file as text written by csv.writer, and the requests it must read back as."""
    extras = draw(st.lists(extra_names.filter(lambda n: n not in KNOWN), max_size=3, unique=True))
    optional = [name for name in ("direction", "mode") if draw(st.booleans())]
    columns = draw(st.permutations(["url", "when", *optional, *extras]))
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    # Under a "\n" terminator csv.writer leaves a lone "\r" unquoted, which is then ambiguous.
    values = TEXT.map(lambda v: v.replace("\r", "")) if terminator == "\n" else TEXT
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=terminator)
    header = [name.upper() if draw(st.booleans()) else f" {name} " for name in columns]
    writer.writerow(header)
    expected = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            buffer.write(terminator)  # a blank line, skipped
        row = {
            "url": draw(urls),
            "when": draw(whens),
            "direction": draw(st.sampled_from(DIRECTIONS)),
            "mode": draw(modes),
        }
        row.update({name: draw(values) for name in extras})
        line = buffer.getvalue().count("\n") + 1
        writer.writerow([row[name] for name in columns])
        options = {name: row[name] for name in extras if row[name].strip()}
        expected.append(
            CaptureRequest(
                line,
                row["url"],
                row["when"],
                row["direction"] if "direction" in optional else "closest",
                row["mode"] if "mode" in optional else "fetch",
                options,
            )
        )
    bom = "\ufeff" if draw(st.booleans()) else ""
    return bom + buffer.getvalue(), expected


def read_bytes(data: bytes, **kwargs: int) -> list[CaptureRequest | RowError]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "requests.csv"
        path.write_bytes(data)
        return list(read_requests(path, **kwargs))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request_files())
def test_rows_written_by_csv_writer_read_back_with_their_lines(
    case: tuple[str, list[CaptureRequest]],
) -> None:
    text, expected = case
    assert read_bytes(text.encode()) == expected


csv_noise = st.text(
    st.sampled_from(['"', ",", "\r", "\n", " ", "a", "é", "\x00", ":", "/", "1", "2", "-", "T"]),
    max_size=80,
)
prefixes = st.sampled_from([b"", b"url,when\n", b"url,when,direction,mode,x\r\n", codecs.BOM_UTF8])


@settings(max_examples=300, deadline=None)
@given(prefix=prefixes, body=st.binary(max_size=300), limit=st.integers(1, 80))
def test_arbitrary_bytes_raise_nothing_but_csv_format_error(
    prefix: bytes, body: bytes, limit: int
) -> None:
    with contextlib.suppress(CsvFormatError):
        read_bytes(prefix + body, max_field_bytes=limit)


@settings(max_examples=300, deadline=None)
@given(prefix=prefixes, body=csv_noise)
def test_arbitrary_csv_like_text_raises_nothing_but_csv_format_error(
    prefix: bytes, body: str
) -> None:
    with contextlib.suppress(CsvFormatError):
        read_bytes(prefix + body.encode())


@settings(max_examples=500)
@given(st.one_of(TEXT, urls, st.builds("http://{}/{}".format, TEXT, TEXT)))
def test_normalize_url_returns_a_fixed_point_or_raises_value_error(raw: str) -> None:
    try:
        stored = normalize_url(raw)
    except ValueError:
        return
    assert normalize_url(stored) == stored


@settings(max_examples=500)
@given(st.one_of(TEXT, st.from_regex(r"\d{4,14}", fullmatch=True), whens))
def test_normalize_when_returns_a_fixed_point_or_raises_value_error(raw: str) -> None:
    try:
        stored = normalize_when(raw)
    except ValueError:
        return
    assert len(stored) == 14
    assert normalize_when(stored) == stored
