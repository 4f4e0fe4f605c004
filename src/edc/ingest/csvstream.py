"""Splitting a UTF-8 CSV byte stream into records (RFC 4180) in bounded memory.

The csv module cannot say which line holds a bad UTF-8 byte, counts field sizes in characters
under a process-global limit, and keeps a whole newline-free line in memory; this reader reads
at most one piece of `max_field_bytes` plus a margin at a time and counts physical lines itself.
"""

import codecs
import os
from collections.abc import Iterator, Sequence
from typing import Final, Protocol

from edc.ingest.errors import CsvFormatError

MAX_COLUMNS: Final = 1024
"""Fields kept per record; beyond it a record is only counted, so `,,,,...` cannot fill memory."""

_BOM: Final = codecs.BOM_UTF8
_PIECE_MARGIN: Final = 4096

# Parser states inside a record.
_START, _UNQUOTED, _QUOTED, _QUOTE, _QUOTE_CR = range(5)

Record = tuple[int, list[str], int, int | None]
"""(line where the record starts, fields, number of fields, index of a field with text after
its closing quote or None). `fields` holds at most MAX_COLUMNS + 1 items."""


class ByteSource(Protocol):
    """A buffered binary stream, such as io.BufferedReader."""

    def peek(self, size: int = 0, /) -> bytes: ...
    def read(self, size: int | None = -1, /) -> bytes: ...
    def readline(self, size: int | None = -1, /) -> bytes: ...


class RecordStream:
    """The records of one binary stream, with the physical line (LF or CRLF) each starts on."""

    def __init__(
        self,
        stream: ByteSource,
        path: str | os.PathLike[str],
        max_field_bytes: int,
        *,
        piece_bytes: int | None = None,
    ) -> None:
        """`piece_bytes` (default `max_field_bytes` plus a margin) is the most read at once."""
        if stream.peek(3)[:3] == _BOM:
            stream.read(3)
        self._readline = stream.readline
        self._path = path
        self._limit = max_field_bytes
        self._cap = piece_bytes or max_field_bytes + _PIECE_MARGIN
        self._pending = b""
        self._at_line_start = True
        self.line = 0
        """The physical line of the last piece read."""
        self.column_names: Sequence[str] = ()
        """Header names, once known, to name a field in messages."""

    def __iter__(self) -> Iterator[Record]:
        readline, cap, limit = self._readline, self._cap, self._limit
        line = 0
        while raw := readline(cap):
            line += 1
            if raw.endswith(b"\n") or len(raw) < cap:
                try:
                    text = raw.decode()
                except UnicodeDecodeError as exc:
                    self.line = line
                    raise self._encoding_error(exc) from None
                if '"' not in text:
                    # Fast path: a whole line without quotes is a whole record.
                    if text.endswith("\n"):
                        text = text[:-2] if text.endswith("\r\n") else text[:-1]
                    fields = text.split(",")
                    if len(raw) > limit:
                        self._check_sizes(line, fields)
                    yield line, fields, len(fields), None
                    continue
                self._at_line_start = raw.endswith(b"\n")
            else:
                self._at_line_start = False
                text = self._decode(raw, line)
            self.line = line
            yield self._parse(text)
            line = self.line

    def _parse(self, text: str | None) -> Record:
        """Parse one record starting at the beginning of `text`, reading more pieces as needed."""
        start = field_line = self.line
        fields: list[str] = []
        count = 0
        stray: int | None = None
        parts: list[str] = []
        size = 0
        state = _START
        while text is not None:
            n = len(text)
            ended = text.endswith("\n")
            pos = 0
            while pos < n:
                if state == _START:
                    field_line = self.line
                    if text[pos] == '"':
                        state = _QUOTED
                        pos += 1
                        continue
                    state = _UNQUOTED
                if state == _UNQUOTED:
                    end = n - 1 if ended else n
                    comma = text.find(",", pos, end)
                    chunk = text[pos : comma if comma >= 0 else end]
                    parts.append(chunk)
                    size += len(chunk)
                    if size > self._limit:
                        raise self._too_large(field_line, count)
                    if comma < 0:
                        if ended:
                            value = "".join(parts)
                            if value.endswith("\r"):
                                value = value[:-1]
                            return self._finish(start, fields, count, stray, value, field_line)
                        break
                    count = self._add(fields, count, parts, size, field_line)
                    parts, size, state, pos = [], 0, _START, comma + 1
                elif state == _QUOTED:
                    quote = text.find('"', pos)
                    chunk = text[pos:] if quote < 0 else text[pos:quote]
                    parts.append(chunk)
                    size += len(chunk)
                    if size > self._limit:
                        raise self._too_large(field_line, count)
                    if quote < 0:
                        break
                    state, pos = _QUOTE, quote + 1
                elif state == _QUOTE:
                    char = text[pos]
                    if char == '"':
                        parts.append('"')
                        size += 1
                        state, pos = _QUOTED, pos + 1
                    elif char == ",":
                        count = self._add(fields, count, parts, size, field_line)
                        parts, size, state, pos = [], 0, _START, pos + 1
                    elif char == "\n" or text.startswith("\r\n", pos):
                        return self._finish(start, fields, count, stray, "".join(parts), field_line)
                    elif char == "\r" and pos + 1 == n:
                        state, pos = _QUOTE_CR, n
                    else:
                        stray = count if stray is None else stray
                        state = _UNQUOTED
                else:  # _QUOTE_CR: a piece ended between a closing quote and "\r"
                    if text.startswith("\n"):
                        return self._finish(start, fields, count, stray, "".join(parts), field_line)
                    stray = count if stray is None else stray
                    parts.append("\r")
                    size += 1
                    state = _UNQUOTED
            text = self._next_piece()
        if state == _QUOTED:
            raise CsvFormatError(
                self._path, field_line, "a quoted field starts here and its quote is never closed"
            )
        return self._finish(start, fields, count, stray, "".join(parts), field_line)

    def _add(self, fields: list[str], count: int, parts: list[str], size: int, line: int) -> int:
        """Append a finished field (unless MAX_COLUMNS are kept already); return the new count."""
        value = "".join(parts)
        if size * 4 > self._limit and len(value.encode()) > self._limit:
            raise self._too_large(line, count)
        if count <= MAX_COLUMNS:
            fields.append(value)
        return count + 1

    def _finish(
        self, start: int, fields: list[str], count: int, stray: int | None, value: str, line: int
    ) -> Record:
        count = self._add(fields, count, [value], len(value), line)
        return start, fields, count, stray

    def _next_piece(self) -> str | None:
        """The next piece of the current record: up to a newline, or `cap` bytes; None at EOF."""
        raw = self._readline(self._cap)
        if not raw:
            if self._pending:
                raise self._encoding_error(
                    UnicodeDecodeError("utf-8", self._pending, 0, 1, "truncated at end of file")
                )
            return None
        if self._at_line_start:
            self.line += 1
        self._at_line_start = raw.endswith(b"\n")
        return self._decode(raw, self.line)

    def _decode(self, raw: bytes, line: int) -> str:
        """Decode a piece that may end inside a multi-byte character (kept for the next piece)."""
        data = self._pending + raw if self._pending else raw
        try:
            text, used = codecs.utf_8_decode(data, "strict", False)
        except UnicodeDecodeError as exc:
            self.line = line
            raise self._encoding_error(exc) from None
        self._pending = data[used:]
        return text

    def _check_sizes(self, line: int, fields: list[str]) -> None:
        for index, field in enumerate(fields):
            if len(field) * 4 > self._limit and len(field.encode()) > self._limit:
                raise self._too_large(line, index)

    def _too_large(self, line: int, index: int) -> CsvFormatError:
        return CsvFormatError(
            self._path, line, f"{self._field_name(index)} is larger than {self._limit} bytes"
        )

    def _field_name(self, index: int) -> str:
        if index < len(self.column_names) and self.column_names[index]:
            return f"field {index + 1} (column {self.column_names[index]!r})"
        return f"field {index + 1}"

    def _encoding_error(self, exc: UnicodeDecodeError) -> CsvFormatError:
        if self.line == 1 and exc.object[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return CsvFormatError(self._path, 1, "the file is UTF-16; save it as UTF-8")
        byte = exc.object[exc.start]
        return CsvFormatError(
            self._path, self.line, f"not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8"
        )
