"""The audit commands seal pending events before they read, and say when they could not."""

import functools
import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from cli_support import run_edc
from edc.db import DatabaseEngine
from edc.db.repositories import JobRepository
from edc.db.sealing import count_pending

Run = Callable[..., subprocess.CompletedProcess[str]]


def _claim(engine: DatabaseEngine, seed: Callable[[int], Any], count: int) -> None:
    seed(count)
    for _ in range(count):
        with engine.session() as session:
            assert JobRepository(session).claim_next("w", 300) is not None


def _pending(engine: DatabaseEngine) -> int:
    with engine.session(read_only=True) as session:
        return count_pending(session)


@pytest.mark.parametrize(
    "command",
    [("audit", "verify", "--json"), ("audit", "head", "--json"), ("audit", "log", "--json")],
)
def test_audit_commands_seal_first(
    edc: Run, engine: DatabaseEngine, seed: Callable[[int], Any], command: tuple[str, ...]
) -> None:
    _claim(engine, seed, 3)
    assert _pending(engine) == 3
    result = edc(*command)
    assert result.returncode == 0, result.stderr
    assert _pending(engine) == 0
    if command[1] == "verify":
        report = json.loads(result.stdout)
        assert report["ok"]
        assert report["pending_events"] == 0
        assert report["entries_checked"] == 1 + 3 + 3  # import, creations, claims


def test_db_status_seals_and_reports_pending(
    edc: Run, engine: DatabaseEngine, seed: Callable[[int], Any]
) -> None:
    _claim(engine, seed, 2)
    result = edc("db", "status", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["audit"]["pending"] == 0
    assert _pending(engine) == 0


def test_a_read_only_database_reports_unsealed_events(
    edc: Run, engine: DatabaseEngine, seed: Callable[[int], Any], backend: str
) -> None:
    _claim(engine, seed, 2)
    if backend == "sqlite":
        path = make_url(str(engine.url)).database
        engine.dispose()
        read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
        _reports_two_unsealed(functools.partial(run_edc, "--database-url", read_only))
        assert _pending(engine) == 2
        return
    name = make_url(str(engine.url)).database
    setting = f'ALTER DATABASE "{name}" {{}} default_transaction_read_only'
    with engine.begin() as connection:
        connection.exec_driver_sql(setting.format("SET") + " = on")
    engine.dispose()
    try:
        _reports_two_unsealed(edc)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql("SET TRANSACTION READ WRITE")
            connection.exec_driver_sql(setting.format("RESET"))
        engine.dispose()
    assert _pending(engine) == 2


def _reports_two_unsealed(edc: Run) -> None:
    result = edc("audit", "verify", "--json")
    assert result.stdout, (result.returncode, result.stderr)
    report = json.loads(result.stdout)
    assert report["ok"], result.stderr
    assert report["pending_events"] == 2
    status = edc("db", "status", "--json")
    assert json.loads(status.stdout)["audit"]["pending"] == 2
    text = edc("audit", "head")
    assert "2 audit events recorded but not yet sealed" in text.stderr + text.stdout
