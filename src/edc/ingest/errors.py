"""The two kinds of problem a capture-request CSV can have: a bad row, or an unreadable file."""

import os
from dataclasses import dataclass

from edc.errors import InputError


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem with one record; the rest of the file is still read."""

    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        if self.column is None:
            return f"line {self.line}: {self.reason}"
        return f"line {self.line}, column {self.column!r}: {self.reason}"


class CsvFormatError(InputError):
    """The file as a whole cannot be read (encoding, quoting, header); names the path and line."""

    def __init__(self, path: str | os.PathLike[str], line: int, reason: str) -> None:
        self.path = os.fspath(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.path}, line {line}: {reason}")

    def __reduce__(self) -> tuple[type["CsvFormatError"], tuple[str, int, str]]:
        """Picklable (the import's preparing process sends it to the writing one)."""
        return (type(self), (self.path, self.line, self.reason))
