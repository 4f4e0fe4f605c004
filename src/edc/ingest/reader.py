"""Streaming a capture-request CSV file into CaptureRequests and RowErrors, in file order."""

import io
import os
from collections.abc import Callable, Iterator
from typing import Any

from edc.errors import InputError
from edc.ingest.csvstream import MAX_COLUMNS, Record, RecordStream
from edc.ingest.errors import CsvFormatError, RowError
from edc.ingest.fields import (
    DEFAULT_DIRECTION,
    DEFAULT_MODE,
    normalize_direction,
    normalize_mode,
)
from edc.ingest.request import CaptureRequest
from edc.ingest.timestamps import normalize_when
from edc.ingest.urls import normalize_url

DEFAULT_MAX_FIELD_BYTES = 65536
REQUIRED_COLUMNS = ("url", "when")
_BUFFER_SIZE = 1 << 16


def read_requests(
    path: str | os.PathLike[str],
    *,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
    on_bytes: Callable[[memoryview], object] | None = None,
) -> Iterator[CaptureRequest | RowError]:
    """Yield a CaptureRequest per valid record and a RowError per problem, in file order.

    A bad record yields all its problems (same line, column order); blank records are skipped.
    An unreadable file raises CsvFormatError (InputError if it cannot be opened) when reached.
    `on_bytes` sees every byte read, in order, so a caller can hash exactly what was imported.
    """
    try:
        raw = io.FileIO(path) if on_bytes is None else _ObservedFile(path, on_bytes)
        with io.BufferedReader(raw, _BUFFER_SIZE) as file:
            stream = RecordStream(file, path, max_field_bytes)
            records = iter(stream)
            columns = _Columns.from_header(records, path)
            stream.column_names = columns.names
            build = columns.build
            for record in records:
                result = build(record)
                if isinstance(result, CaptureRequest):
                    yield result
                elif result is not None:
                    yield from result
    except OSError as exc:
        raise InputError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from None


class _ObservedFile(io.FileIO):
    """A file that shows each chunk it reads to an observer (for hashing and progress)."""

    def __init__(
        self, path: str | os.PathLike[str], observer: Callable[[memoryview], object]
    ) -> None:
        super().__init__(path)
        self._observer = observer

    def readinto(self, buffer: Any) -> int | None:
        count = super().readinto(buffer)
        if count:
            self._observer(memoryview(buffer)[:count])
        return count

    def readall(self) -> bytes:
        data = super().readall()
        if data:
            self._observer(memoryview(data))
        return data


class _Columns:
    """What each column of one file means; turns its records into requests or problems."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.count = len(names)
        self.url = names.index("url")
        self.when = names.index("when")
        self.direction = names.index("direction") if "direction" in names else None
        self.mode = names.index("mode") if "mode" in names else None
        known = {"url", "when", "direction", "mode"}
        self.extras = [(i, name) for i, name in enumerate(names) if name not in known]

    @classmethod
    def from_header(cls, records: Iterator[Record], path: str | os.PathLike[str]) -> "_Columns":
        """Read the first non-blank record as the header; raise CsvFormatError if it is unusable."""
        for line, fields, count, stray in records:
            if _is_blank(fields):
                continue
            if count > MAX_COLUMNS:
                raise CsvFormatError(path, line, f"the header has more than {MAX_COLUMNS} columns")
            if stray is not None:
                raise CsvFormatError(
                    path, line, f"header column {stray + 1} has text after its closing quote"
                )
            names = [field.strip().lower() for field in fields]
            _check_header(path, line, names)
            return cls(names)
        raise CsvFormatError(path, 1, "the file has no header row (it is empty or blank)")

    def build(self, record: Record) -> CaptureRequest | list[RowError] | None:
        """A request, the record's problems in column order, or None for a blank record."""
        line, fields, count, stray = record
        if count < self.count:
            fields = fields + [""] * (self.count - count)
        if count > self.count or stray is not None:
            return self._problems(record, fields)
        try:
            # Optimistic: every normalizer rejects a blank required cell too.
            url = normalize_url(fields[self.url])
            when = normalize_when(fields[self.when])
            direction = (
                DEFAULT_DIRECTION
                if self.direction is None
                else normalize_direction(fields[self.direction])
            )
            mode = DEFAULT_MODE if self.mode is None else normalize_mode(fields[self.mode])
        except ValueError:
            return self._problems(record, fields)
        options: dict[str, str] = {}
        for index, name in self.extras:
            value = fields[index]
            if value and not value.isspace():
                if not name:
                    return self._problems(record, fields)
                options[name] = value
        return CaptureRequest(line, url, when, direction, mode, options)

    def _problems(self, record: Record, fields: list[str]) -> list[RowError] | None:
        """Every problem of a record, in column order; None if the record is blank."""
        line, _, count, stray = record
        raw_url = fields[self.url]
        if (not raw_url or raw_url.isspace()) and _is_blank(fields):
            return None
        problems: list[RowError] = []
        if count > self.count:
            problems.append(RowError(line, None, f"{count} fields but the header has {self.count}"))
        if stray is not None:
            column = self.names[stray] if stray < self.count and self.names[stray] else None
            problems.append(RowError(line, column, "text after the closing quote of a field"))
        _required(problems, line, "url", raw_url, normalize_url)
        _required(problems, line, "when", fields[self.when], normalize_when)
        if self.direction is not None:
            _optional(problems, line, "direction", fields[self.direction], normalize_direction)
        if self.mode is not None:
            _optional(problems, line, "mode", fields[self.mode], normalize_mode)
        for index, name in self.extras:
            value = fields[index]
            if not name and value and not value.isspace():
                reason = f"column {index + 1} has a value but no name in the header"
                problems.append(RowError(line, None, reason))
        return problems


def _required(
    problems: list[RowError], line: int, column: str, raw: str, normalize: Callable[[str], str]
) -> None:
    """Record the problem of a cell that must not be blank, if it has one."""
    if not raw or raw.isspace():
        problems.append(RowError(line, column, "is empty"))
    else:
        _optional(problems, line, column, raw, normalize)


def _optional(
    problems: list[RowError], line: int, column: str, raw: str, normalize: Callable[[str], str]
) -> None:
    """Record the problem of a cell (blank means the column's default), if it has one."""
    try:
        normalize(raw)
    except ValueError as exc:
        problems.append(RowError(line, column, str(exc)))


def _is_blank(fields: list[str]) -> bool:
    return all(not field or field.isspace() for field in fields)


def _check_header(path: str | os.PathLike[str], line: int, names: list[str]) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if "\r" in name:
            raise CsvFormatError(
                path, line, "the header holds a lone carriage return; use LF or CRLF line endings"
            )
        if name in seen:
            raise CsvFormatError(
                path,
                line,
                f"column {name!r} appears twice in the header "
                f"(columns {seen[name] + 1} and {index + 1})",
            )
        if name:
            seen[name] = index
    for required in REQUIRED_COLUMNS:
        if required not in seen:
            found = ", ".join(repr(name) for name in names if name)
            raise CsvFormatError(
                path, line, f"the header has no {required!r} column (found {found[:200]})"
            )
