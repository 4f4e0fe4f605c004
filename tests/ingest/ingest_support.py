"""Helpers for the ingest tests: write a CSV file, read it back as plain values."""

from pathlib import Path

from edc.ingest import CaptureRequest, RowError, read_requests

DATA = Path(__file__).parent / "data"


def write_csv(directory: Path, content: bytes | str, name: str = "requests.csv") -> Path:
    """Write `content` byte for byte (str as UTF-8, newlines untouched) and return the path."""
    path = directory / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def read_all(path: Path, **kwargs: int) -> list[CaptureRequest | RowError]:
    return list(read_requests(path, **kwargs))


def as_dict(request: CaptureRequest) -> dict[str, object]:
    return {
        "line": request.line,
        "url": request.url,
        "when": request.when,
        "direction": request.direction,
        "mode": request.mode,
        "options": request.options,
    }
