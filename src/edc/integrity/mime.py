"""Media type of an evidence file: a sniff of its first bytes, then its file name's extension.

The content wins over the name, so a PDF saved as `page.html` is reported as a PDF. The
extension table is Python's built-in one (not the host's /etc/mime.types), so every machine
gives the same answer for the same file.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

__all__ = ["guess_mime_type"]

_SNIFF_BYTES = 512
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"WARC/1.", "application/warc"),
    (b"\x1f\x8b", "application/gzip"),
)
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")
_ENCODING_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
}

_TYPES = mimetypes.MimeTypes()
_TYPES.add_type("application/warc", ".warc")


def guess_mime_type(path: Path) -> str | None:
    """The media type of the file at `path`, or None when neither content nor name tells.

    Compressed files (`.warc.gz`) are reported by their compression, as the bytes on disk are.
    """
    with open(path, "rb") as stream:
        head = stream.read(_SNIFF_BYTES)
    for signature, sniffed in _SIGNATURES:
        if head.startswith(signature):
            return sniffed
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith(_HTML_STARTS):
        return "text/html"
    media_type, encoding = _TYPES.guess_type(path.name, strict=False)
    if encoding is not None:
        return _ENCODING_TYPES.get(encoding)
    return media_type
