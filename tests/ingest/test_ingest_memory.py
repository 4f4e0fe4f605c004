"""Streaming keeps memory flat: a big file, or a gigantic line, never sits in memory whole."""

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from edc.ingest import CaptureRequest, CsvFormatError, RowError, read_requests, validate_file

MB = 1024 * 1024


def peak_bytes(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_streaming_200000_rows_stays_under_a_few_mb(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as file:
        file.write("url,when,direction,mode,note\r\n")
        for i in range(200_000):
            note = f'"note {i}, with a comma\nand a newline"' if i % 10 == 0 else ""
            file.write(
                f"https://site{i % 50}.example/page/{i},2020010112{i % 60:02d}00,,,{note}\r\n"
            )
    assert path.stat().st_size > 10 * MB

    counts = {"requests": 0, "errors": 0}

    def consume() -> None:
        for item in read_requests(path):
            counts["requests" if isinstance(item, CaptureRequest) else "errors"] += 1

    assert peak_bytes(consume) < 2 * MB
    assert counts == {"requests": 200_000, "errors": 0}


def test_a_gigantic_line_is_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "one-line.csv"
    with path.open("wb") as file:
        file.write(b"url,when,note\nhttps://example.com/,2020,")
        for _ in range(64):
            file.write(b"x" * MB)  # 64 MB without a newline

    def consume() -> None:
        with pytest.raises(CsvFormatError, match=r"line 2: field 3 .* is larger than 65536 bytes"):
            validate_file(path)

    assert peak_bytes(consume) < MB


def test_a_line_of_many_short_fields_keeps_only_a_bounded_number(tmp_path: Path) -> None:
    fields = 200_000  # unbounded, their list alone would take 1.6 MB
    path = tmp_path / "fields.csv"
    path.write_bytes(b"url,when\n" + b"a," * (fields - 1) + b"a\n")
    items: list[CaptureRequest | RowError] = []
    assert peak_bytes(lambda: items.extend(read_requests(path))) < MB
    assert items[0] == RowError(2, None, f"{fields} fields but the header has 2")
