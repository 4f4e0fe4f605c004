"""read_requests and validate_file on small files written for each case."""

import csv
import dataclasses
import re
from pathlib import Path

import pytest
from ingest_support import as_dict, read_all, write_csv

from edc.errors import EXIT_USAGE, InputError
from edc.ingest import (
    MAX_COLUMNS,
    CaptureRequest,
    CsvFormatError,
    RowError,
    read_requests,
    validate_file,
)

HEADER = "url,when,direction,mode,note\n"


def lines_of(items: list[CaptureRequest | RowError]) -> list[int]:
    return [item.line for item in items]


def test_a_plain_file_gives_requests_with_defaults(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "url,when\nhttps://example.com/a,2020\nhttps://example.com/b,2021\n")
    assert [as_dict(r) for r in read_all(path)] == [  # type: ignore[arg-type]
        {
            "line": 2,
            "url": "https://example.com/a",
            "when": "20200101000000",
            "direction": "closest",
            "mode": "fetch",
            "options": {},
        },
        {
            "line": 3,
            "url": "https://example.com/b",
            "when": "20210101000000",
            "direction": "closest",
            "mode": "fetch",
            "options": {},
        },
    ]


def test_read_requests_is_a_lazy_generator(tmp_path: Path) -> None:
    items = read_requests(tmp_path / "does-not-exist-yet.csv")
    write_csv(tmp_path, "url,when\nhttps://example.com/,2020\n", "does-not-exist-yet.csv")
    assert [r.url for r in items] == ["https://example.com/"]  # type: ignore[union-attr]


def test_multi_line_records_keep_line_numbers_right(tmp_path: Path) -> None:
    content = (
        HEADER
        + 'https://example.com/1,2020,,,"one\ntwo\r\nthree"\n'  # lines 2-4
        + "https://example.com/5,2020,,,\n"  # line 5
        + '"https://example.com/6","2020",,,"a ""quoted"" word\n\n"\n'  # lines 6-8
        + "https://example.com/9,2020,,,\n"
    )
    items = read_all(write_csv(tmp_path, content))
    assert lines_of(items) == [2, 5, 6, 9]
    assert [r.options for r in items] == [  # type: ignore[union-attr]
        {"note": "one\ntwo\r\nthree"},
        {},
        {"note": 'a "quoted" word\n\n'},
        {},
    ]


def test_crlf_bom_and_no_final_newline(tmp_path: Path) -> None:
    content = '\ufeffurl,when\r\nhttps://example.com/a,2020\r\n"https://example.com/b",2021'
    items = read_all(write_csv(tmp_path, content))
    assert [(r.line, r.url, r.when) for r in items] == [  # type: ignore[union-attr]
        (2, "https://example.com/a", "20200101000000"),
        (3, "https://example.com/b", "20210101000000"),
    ]


@pytest.mark.parametrize("blank", ["", "   ", "\t", ",,,,", " , ,,\t,", '""', '"",""', '"  ",,'])
def test_blank_records_are_skipped(tmp_path: Path, blank: str) -> None:
    content = f"\n{blank}\n{HEADER}{blank}\nhttps://example.com/,2020,,,\n{blank}\r\n{blank}"
    items = read_all(write_csv(tmp_path, content))
    assert lines_of(items) == [5]
    assert isinstance(items[0], CaptureRequest)


def test_header_only_gives_nothing(tmp_path: Path) -> None:
    assert read_all(write_csv(tmp_path, HEADER)) == []


def test_header_names_are_trimmed_and_lower_cased(tmp_path: Path) -> None:
    content = (
        " URL ,When,  DIRECTION,Mode ,Case ID,  Notes\nhttps://example.com/,2020,AFTER,x,7,n\n"
    )
    [request] = read_all(write_csv(tmp_path, content))
    assert isinstance(request, CaptureRequest)
    assert (request.direction, request.mode) == ("after", "x")
    assert request.options == {"case id": "7", "notes": "n"}


def test_options_keep_values_as_given_and_leave_out_blank_ones(tmp_path: Path) -> None:
    content = 'url,when,a,b,c,d\nhttps://example.com/,2020, spaced ,,"  ","x,""y""\nz"\n'
    [request] = read_all(write_csv(tmp_path, content))
    assert isinstance(request, CaptureRequest)
    assert request.options == {"a": " spaced ", "d": 'x,"y"\nz'}


def test_columns_can_come_in_any_order(tmp_path: Path) -> None:
    content = "mode,extra,when,url\nscreenshot,e,2020-01-02,HTTPS://Example.com/\n"
    [request] = read_all(write_csv(tmp_path, content))
    assert request == CaptureRequest(
        2, "https://example.com/", "20200102000000", "closest", "screenshot", {"extra": "e"}
    )


def test_fewer_fields_than_the_header_mean_empty_values(tmp_path: Path) -> None:
    [request] = read_all(write_csv(tmp_path, HEADER + "https://example.com/,2020\n"))
    assert isinstance(request, CaptureRequest)
    assert (request.direction, request.mode, request.options) == ("closest", "fetch", {})


def test_more_fields_than_the_header_is_a_row_error(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, "url,when\nhttps://example.com/a,b,2020\nhttps://example.com/,2020\n"
    )
    items = read_all(path)
    assert items[0] == RowError(2, None, "3 fields but the header has 2")
    assert isinstance(items[-1], CaptureRequest)
    assert items[-1].line == 3


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (",2020", "url"),
        ("  ,2020", "url"),
        ("https://example.com/,", "when"),
        ("https://e.com/, ", "when"),
    ],
)
def test_an_empty_required_value_names_its_column(tmp_path: Path, row: str, column: str) -> None:
    [error] = read_all(write_csv(tmp_path, f"url,when\n{row}\n"))
    assert error == RowError(2, column, "is empty")
    assert str(error) == f"line 2, column '{column}': is empty"


def test_every_problem_of_a_row_is_reported_in_column_order(tmp_path: Path) -> None:
    content = HEADER + "javascript:alert(1),20200230,sideways,FETCH,note,extra\n"
    items = read_all(write_csv(tmp_path, content))
    assert [str(item) for item in items] == [
        "line 2: 6 fields but the header has 5",
        "line 2, column 'url': scheme 'javascript' is not http or https",
        "line 2, column 'when': day 30 does not exist in 2020-02 (01-29)",
        "line 2, column 'direction': 'sideways' is not closest, before or after",
        "line 2, column 'mode': 'FETCH' must be lower-case",
    ]


def test_text_after_a_closing_quote_is_a_row_error(tmp_path: Path) -> None:
    content = HEADER + 'https://example.com/,2020,,,"quoted" tail\n"https://e.com/"x,2020\n'
    items = read_all(write_csv(tmp_path, content))
    assert [str(item) for item in items] == [
        "line 2, column 'note': text after the closing quote of a field",
        "line 3, column 'url': text after the closing quote of a field",
    ]


def test_a_stray_quote_in_an_extra_field_beyond_the_header_has_no_column(tmp_path: Path) -> None:
    content = 'url,when\nhttps://example.com/,2020,"x"y\n'
    items = read_all(write_csv(tmp_path, content))
    assert items == [
        RowError(2, None, "3 fields but the header has 2"),
        RowError(2, None, "text after the closing quote of a field"),
    ]


def test_an_unnamed_column_may_only_hold_blanks(tmp_path: Path) -> None:
    content = "url,when,,\nhttps://example.com/a,2020,,\nhttps://example.com/b,2020,, x\n"
    items = read_all(write_csv(tmp_path, content))
    assert isinstance(items[0], CaptureRequest)
    assert items[0].options == {}
    assert items[1:] == [RowError(3, None, "column 4 has a value but no name in the header")]


def test_a_row_error_does_not_stop_the_stream(tmp_path: Path) -> None:
    content = HEADER + "ftp://example.com/,2020,,,\nhttps://example.com/,2020,,,\n"
    items = read_all(write_csv(tmp_path, content))
    assert [type(item) for item in items] == [RowError, CaptureRequest]


# ---- problems with the whole file ---------------------------------------------------------


def format_error(path: Path, **kwargs: int) -> CsvFormatError:
    with pytest.raises(CsvFormatError) as info:
        read_all(path, **kwargs)
    return info.value


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("", 1, "the file has no header row (it is empty or blank)"),
        ("\ufeff", 1, "the file has no header row"),
        ("\n\r\n  \n,,\n", 1, "the file has no header row"),
        ("url,when,URL\n", 1, "column 'url' appears twice in the header (columns 1 and 3)"),
        ("\n\nwhen, When \n", 3, "column 'when' appears twice"),
        ("url\n", 1, "the header has no 'when' column (found 'url')"),
        ("when,mode\n", 1, "the header has no 'url' column (found 'when', 'mode')"),
        ("a,,b\n", 1, "the header has no 'url' column (found 'a', 'b')"),
        ('url,"when"x\n', 1, "header column 2 has text after its closing quote"),
        ("url,when\rhttps://example.com/,2020\r", 1, "lone carriage return"),
        ("url," * MAX_COLUMNS + "when\n", 1, f"the header has more than {MAX_COLUMNS} columns"),
    ],
)
def test_header_problems(tmp_path: Path, content: str, line: int, reason: str) -> None:
    path = write_csv(tmp_path, content)
    error = format_error(path)
    assert (error.line, error.path) == (line, str(path))
    assert reason in error.reason
    assert str(error) == f"{path}, line {line}: {error.reason}"


def test_format_error_is_an_input_error_with_exit_code_2(tmp_path: Path) -> None:
    error = format_error(write_csv(tmp_path, ""))
    assert isinstance(error, InputError)
    assert error.exit_code == EXIT_USAGE


def test_header_may_have_exactly_max_columns(tmp_path: Path) -> None:
    names = ["url", "when"] + [f"c{i}" for i in range(MAX_COLUMNS - 2)]
    path = write_csv(tmp_path, ",".join(names) + "\nhttps://example.com/,2020\n")
    assert len(read_all(path)) == 1


def test_bad_utf8_names_its_line_after_a_multi_line_record(tmp_path: Path) -> None:
    content = (
        HEADER.encode() + b'https://example.com/,2020,,,"a\nb"\nhttps://e.com/,2020,,,caf\xe9\n'
    )
    path = write_csv(tmp_path, content)
    with pytest.raises(
        CsvFormatError, match=re.escape(f"{path}, line 4: not valid UTF-8 (byte 0xe9)")
    ):
        read_all(path)


def test_rows_before_a_file_error_are_yielded_first(tmp_path: Path) -> None:
    content = HEADER.encode() + b"https://example.com/,2020,,,\nhttps://e.com/,2020,,,\xff\n"
    stream = read_requests(write_csv(tmp_path, content))
    assert isinstance(next(stream), CaptureRequest)
    with pytest.raises(CsvFormatError, match="line 3"):
        next(stream)


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"url,when\nhttps://example.com/,2020,\xe2\x82\n", 2),  # truncated euro sign
        (b'url,when\nhttps://example.com/,2020,"\xe2\x82', 2),  # truncated at end of file
        (b"url,when\nhttps://example.com/,2020,\xc0\xaf\n", 2),  # overlong encoding
        (b"url,when\nhttps://example.com/,2020,\xed\xa0\x80\n", 2),  # surrogate
        (b'url,when\n"multi\nline\xff"\n', 3),
    ],
)
def test_every_kind_of_bad_utf8_is_a_format_error(
    tmp_path: Path, content: bytes, line: int
) -> None:
    error = format_error(write_csv(tmp_path, content))
    assert error.line == line
    assert "not valid UTF-8" in error.reason


def test_a_utf16_file_is_recognised(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "url,when\n".encode("utf-16"))
    assert format_error(path).reason == "the file is UTF-16; save it as UTF-8"


def test_unterminated_quote_names_the_line_where_the_field_starts(tmp_path: Path) -> None:
    content = (
        HEADER + "https://example.com/,2020,,,\n" + 'https://e.com/,2020,,,"open\nmore\n\nlines\n'
    )
    error = format_error(write_csv(tmp_path, content))
    assert error.line == 3
    assert error.reason == "a quoted field starts here and its quote is never closed"


@pytest.mark.parametrize(
    ("field", "line"),
    [
        ("x" * 200_000, 2),
        ('"' + "x" * 200_000 + '"', 2),
        ('"' + "x\n" * 100_000 + '"', 2),
        ("é" * 40_000, 2),  # 80,000 bytes in 40,000 characters
        ('"' + "é" * 40_000 + '"', 2),
    ],
)
def test_an_oversized_field_is_a_clear_format_error(tmp_path: Path, field: str, line: int) -> None:
    error = format_error(write_csv(tmp_path, HEADER + f"https://example.com/,2020,,,{field}\n"))
    assert error.line == line
    assert error.reason == "field 5 (column 'note') is larger than 65536 bytes"


def test_a_field_at_the_limit_is_accepted(tmp_path: Path) -> None:
    ascii_note, utf8_note = "x" * 65536, "é" * 32768
    content = (
        HEADER + f"https://example.com/,2020,,,{ascii_note}\nhttps://e.com/,2020,,,{utf8_note}\n"
    )
    items = read_all(write_csv(tmp_path, content))
    assert [r.options["note"] for r in items] == [ascii_note, utf8_note]  # type: ignore[union-attr]


def test_max_field_bytes_is_configurable(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "url,when,note\nhttp://e.co,2020,0123456789abc\n")
    assert len(read_all(path, max_field_bytes=13)) == 1
    error = format_error(path, max_field_bytes=12)
    assert error.reason == "field 3 (column 'note') is larger than 12 bytes"


def test_a_too_large_field_beyond_the_header_is_named_by_position(tmp_path: Path) -> None:
    error = format_error(write_csv(tmp_path, "url,when\n,,abcdef\n"), max_field_bytes=5)
    assert error.reason == "field 3 is larger than 5 bytes"


def test_the_csv_modules_global_limit_is_left_alone(tmp_path: Path) -> None:
    before = csv.field_size_limit()
    format_error(write_csv(tmp_path, HEADER + "https://example.com/,2020,,," + "x" * 200_000))
    assert csv.field_size_limit() == before


def test_a_missing_file_is_an_input_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InputError, match=re.escape(f"cannot read {path}: No such file")):
        read_all(path)
    with pytest.raises(InputError, match="cannot read"):
        read_all(tmp_path)


def test_records_are_frozen(tmp_path: Path) -> None:
    [request] = read_all(write_csv(tmp_path, "url,when\nhttps://example.com/,2020\n"))
    assert isinstance(request, CaptureRequest)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.url = "x"  # type: ignore[misc]
    error = RowError(3, None, "bad")
    assert str(error) == "line 3: bad"
    with pytest.raises(dataclasses.FrozenInstanceError):
        error.line = 4  # type: ignore[misc]


# ---- validate_file ---------------------------------------------------------------------------


def test_validate_file_counts_rows_and_keeps_the_first_errors(tmp_path: Path) -> None:
    rows = [HEADER]
    for i in range(30):
        rows.append(f"https://example.com/{i},2020,,,\n")
        rows.append(f"ftp://example.com/{i},2020,,,\n")  # one problem
        rows.append(",20201301,,,\n")  # two problems
    summary = validate_file(write_csv(tmp_path, "".join(rows)))
    assert (summary.valid_rows, summary.invalid_rows, summary.error_count) == (30, 60, 90)
    assert len(summary.errors) == 20
    assert summary.errors[:3] == (
        RowError(3, "url", "scheme 'ftp' is not http or https"),
        RowError(4, "url", "is empty"),
        RowError(4, "when", "month 13 does not exist (01-12)"),
    )
    assert not summary.ok


def test_validate_file_on_a_clean_file(tmp_path: Path) -> None:
    summary = validate_file(write_csv(tmp_path, HEADER + "https://example.com/,2020,,,\n"))
    assert summary.ok
    assert (summary.valid_rows, summary.invalid_rows, summary.errors) == (1, 0, ())


def test_validate_file_max_errors_and_format_errors(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER + "ftp://a.example/,2020,,,\nftp://b.example/,2020,,,\n")
    assert len(validate_file(path, max_errors=1).errors) == 1
    with pytest.raises(CsvFormatError, match="larger than 3 bytes"):
        validate_file(path, max_field_bytes=3)
