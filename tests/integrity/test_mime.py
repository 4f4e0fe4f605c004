"""guess_mime_type: content signatures win over the name; the name decides otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from edc.integrity.hashing import guess_mime_type


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("page.html", b"<!DOCTYPE html><html></html>", "text/html"),
        ("page", b"\xef\xbb\xbf  \n<!doctype HTML>", "text/html"),
        ("page.txt", b"<html lang=de>", "text/html"),
        ("page.html", b"%PDF-1.7\n", "application/pdf"),
        ("shot.jpg", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        ("capture", b"WARC/1.1\r\nWARC-Type: warcinfo\r\n", "application/warc"),
        ("capture.warc", b"WARC/1.0\r\n", "application/warc"),
        ("capture.warc.gz", b"\x1f\x8b\x08\x00", "application/gzip"),
        ("notes.txt", b"plain words", "text/plain"),
        ("data.json", b'{"a": 1}', "application/json"),
        ("capture.warc", b"", "application/warc"),
        ("archive.tar.bz2", b"BZh91AY", "application/x-bzip2"),
        ("archive.tar.Z", b"\x1f\x9d", None),
        ("blob", b"\x00\x01\x02", None),
        ("empty", b"", None),
    ],
)
def test_guess_mime_type(tmp_path: Path, name: str, content: bytes, media_type: str | None) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    assert guess_mime_type(path) == media_type


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        guess_mime_type(tmp_path / "absent.pdf")
