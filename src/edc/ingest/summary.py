"""Checking a whole file without importing it (`edc jobs import --dry-run`)."""

import os
from dataclasses import dataclass

from edc.ingest.errors import RowError
from edc.ingest.reader import DEFAULT_MAX_FIELD_BYTES, read_requests
from edc.ingest.request import CaptureRequest

DEFAULT_MAX_ERRORS = 20


@dataclass(frozen=True, slots=True)
class ValidationSummary:
    """Counts for a file and its first problems; memory does not grow with the file."""

    valid_rows: int
    invalid_rows: int
    """Records with at least one problem."""
    error_count: int
    """All problems, including those beyond `errors`."""
    errors: tuple[RowError, ...]
    """The first problems, in file order."""

    @property
    def ok(self) -> bool:
        """True when every record is valid."""
        return self.error_count == 0


def validate_file(
    path: str | os.PathLike[str],
    *,
    max_errors: int = DEFAULT_MAX_ERRORS,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
) -> ValidationSummary:
    """Read the whole file and summarize it; CsvFormatError propagates as from read_requests."""
    valid = invalid = total = 0
    last_bad_line = 0
    kept: list[RowError] = []
    for item in read_requests(path, max_field_bytes=max_field_bytes):
        if isinstance(item, CaptureRequest):
            valid += 1
            continue
        total += 1
        if item.line != last_bad_line:
            invalid += 1
            last_bad_line = item.line
        if len(kept) < max_errors:
            kept.append(item)
    return ValidationSummary(valid, invalid, total, tuple(kept))
