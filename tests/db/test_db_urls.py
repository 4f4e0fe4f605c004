"""SQLite URLs name their file also in SQLite's URI form (used to open evidence read-only)."""

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from edc.db.urls import sqlite_file


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////data/case.db", Path("/data/case.db")),
        ("sqlite:///case.db", Path("case.db")),
        ("sqlite:///file:/data/case.db?mode=ro&uri=true", Path("/data/case.db")),
        ("sqlite:///file:/data/my%20case.db?immutable=1&uri=true", Path("/data/my case.db")),
        ("sqlite:///file:/data/case.db", Path("file:/data/case.db")),  # not a URI without uri=true
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://u@h/db", None),
    ],
)
def test_sqlite_file(url: str, path: Path | None) -> None:
    assert sqlite_file(make_url(url)) == path
