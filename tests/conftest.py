"""Shared fixtures: every test that touches SQL runs on SQLite and on PostgreSQL.

`make test` starts a throwaway PostgreSQL and exports `EDC_TEST_POSTGRES_URL` (a server URL for
a superuser); each test gets a fresh database on it. Without that variable the PostgreSQL cases
are skipped, unless `EDC_TEST_REQUIRE_POSTGRES=1` (set by `make test` and CI), where they fail.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from edc.db import DatabaseEngine

POSTGRES_ENV = "EDC_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "EDC_TEST_REQUIRE_POSTGRES"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own EDC_* settings out of every test."""
    for name in list(os.environ):
        if name.upper().startswith("EDC_") and not name.upper().startswith("EDC_TEST_"):
            monkeypatch.delenv(name)


def postgres_server_url() -> str:
    """The test server's URL, or skip/fail as the environment demands."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get(REQUIRE_POSTGRES_ENV) == "1" or os.environ.get("CI") == "true":
        pytest.fail(f"{POSTGRES_ENV} is not set but PostgreSQL tests are required")
    pytest.skip(f"{POSTGRES_ENV} not set; run `make test` for PostgreSQL")


def _admin_conninfo(server_url: str) -> str:
    return make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    server_url = postgres_server_url()
    name = f"edc_test_{uuid.uuid4().hex[:16]}"
    admin = _admin_conninfo(server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    """A fresh SQLite database file for one test."""
    return f"sqlite:///{tmp_path / 'edc.db'}"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database kind under test: 'sqlite' or 'postgresql'."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """An empty database of each kind in turn; tests using it run once per backend."""
    name = "postgres_database_url" if backend == "postgresql" else "sqlite_database_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def db(database_url: str) -> Iterator["DatabaseEngine"]:
    """A DatabaseEngine on a fresh database of each backend, schema as `edc db init` makes it."""
    from edc.config import DatabaseConfig
    from edc.db import DatabaseEngine
    from edc.db.migrate import init_schema

    engine = DatabaseEngine(DatabaseConfig(url=database_url))
    init_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def memory_db() -> Iterator["DatabaseEngine"]:
    """In-memory SQLite with the schema: fast, for logic that does not depend on the backend."""
    from edc.config import DatabaseConfig
    from edc.db import DatabaseEngine

    engine = DatabaseEngine(DatabaseConfig(url="sqlite://"))
    engine.create_tables()
    try:
        yield engine
    finally:
        engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show how many tests ran on each backend, so a skipped PostgreSQL run cannot hide."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if getattr(report, "when", "call") not in ("call", "setup") or "[" not in nodeid:
                continue
            if outcome == "passed" and report.when != "call":
                continue
            for backend in ("sqlite", "postgresql"):
                if f"[{backend}" in nodeid or f"-{backend}]" in nodeid or f"-{backend}-" in nodeid:
                    bucket = counts.setdefault(backend, {})
                    bucket[outcome] = bucket.get(outcome, 0) + 1
    if counts:
        terminalreporter.section("tests per database backend")
        for backend, outcomes in sorted(counts.items()):
            summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
            terminalreporter.write_line(f"{backend}: {summary}")
