"""`edc db` through the installed executable, on both backends, and once from a fresh wheel."""

import json
import shutil
import socket
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from cli_support import run_edc
from edc.cli import db as db_cli
from edc.cli.app import app
from edc.config import DatabaseConfig
from edc.db import DatabaseEngine, migrate
from edc.db.models import Job

SENTINEL = "S3ntinel-pw"
REPO = Path(__file__).resolve().parent.parent


def edc_db(url: str, *args: str, cwd: str | Path = "/tmp") -> subprocess.CompletedProcess[str]:
    """`edc --database-url URL db ARGS...`, run from another directory than the checkout."""
    return run_edc("--database-url", url, "db", *args, cwd=cwd)


def status(url: str) -> dict[str, Any]:
    result = edc_db(url, "status", "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def engine(database_url: str) -> Iterator[DatabaseEngine]:
    db = DatabaseEngine(DatabaseConfig(url=database_url))
    yield db
    db.dispose()


def test_upgrade_from_another_directory(database_url: str, backend: str, tmp_path: Path) -> None:
    before = status(database_url)
    assert before["pending"] == ["0001", "0002", "0003"]
    assert (before["current"], before["head"], before["state"]) == (None, "0003", "empty")
    if backend == "sqlite":  # status does not create the file it was asked about
        assert not Path(make_url(database_url).database or "").exists()

    result = edc_db(database_url, "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "to revision 0003" in result.stdout

    after = status(database_url)
    assert (after["current"], after["pending"], after["state"]) == ("0003", [], "current")
    assert set(after) >= {"url", "current", "head", "pending"}


def test_status_table(database_url: str) -> None:
    result = edc_db(database_url, "status")
    assert result.returncode == 0, result.stderr
    assert "0001, 0002, 0003" in result.stdout
    assert "head revision" in result.stdout


def test_init_then_upgrade_is_a_no_op(database_url: str, engine: DatabaseEngine) -> None:
    result = edc_db(database_url, "init")
    assert result.returncode == 0, result.stderr
    assert "created the edc schema at revision 0003" in result.stdout
    assert engine.masked_url in result.stdout

    again = edc_db(database_url, "init")
    assert again.returncode == 0
    assert "already has the edc schema" in again.stdout

    upgrade = edc_db(database_url, "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert "nothing to do" in upgrade.stdout
    assert status(database_url)["pending"] == []


def _add_job(db: DatabaseEngine) -> None:
    with db.session() as session:
        session.add(Job(url="https://example.org/", when="2020-01-01"))


def test_downgrade_with_rows_needs_yes(database_url: str, engine: DatabaseEngine) -> None:
    assert edc_db(database_url, "upgrade").returncode == 0
    _add_job(engine)

    refused = edc_db(database_url, "downgrade")
    line = one_line_error(refused)
    assert "jobs holds 1 row(s)" in line
    assert "--yes" in line
    assert status(database_url)["current"] == "0003"
    assert migrate.row_counts(engine)["jobs"] == 1

    done = edc_db(database_url, "downgrade", "--yes")
    assert done.returncode == 0, done.stderr
    assert "from revision 0003 to revision 0002" in done.stdout
    assert status(database_url)["current"] == "0002"
    assert migrate.row_counts(engine)["jobs"] == 1


def test_downgrade_of_an_empty_schema_needs_no_yes(database_url: str) -> None:
    assert edc_db(database_url, "upgrade").returncode == 0
    assert "nothing to do" in edc_db(database_url, "downgrade", "--revision", "0003").stdout
    result = edc_db(database_url, "downgrade", "--revision", "base")
    assert result.returncode == 0, result.stderr
    assert "to no schema (base)" in result.stdout
    assert status(database_url)["state"] == "empty"
    assert "nothing to downgrade" in one_line_error(edc_db(database_url, "downgrade"))


def test_upgrade_sql_prints_and_touches_nothing(
    database_url: str, backend: str, engine: DatabaseEngine, tmp_path: Path
) -> None:
    result = edc_db(database_url, "upgrade", "--sql")
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE jobs" in result.stdout
    assert "CREATE TRIGGER" in result.stdout
    if backend == "sqlite":
        assert not Path(make_url(database_url).database or "").exists()
    else:
        assert migrate.read_state(engine).tables == ()
    offline = run_edc(
        "--database-url", f"postgresql://u:{SENTINEL}@127.0.0.1:1/x", "db", "upgrade", "--sql"
    )
    assert offline.returncode == 0  # no connection needed
    assert "JSONB" in offline.stdout


def test_behind_head_says_run_upgrade(database_url: str) -> None:
    assert edc_db(database_url, "upgrade", "--revision", "0001").returncode == 0
    data = status(database_url)
    assert (data["current"], data["pending"], data["state"]) == ("0001", ["0002", "0003"], "behind")
    assert "0003" in edc_db(database_url, "upgrade").stdout


def test_config_file_and_environment_choose_the_database(tmp_path: Path) -> None:
    from_file = tmp_path / "file.db"
    config = tmp_path / "edc.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{from_file}"\n')
    result = run_edc("--config", str(config), "db", "upgrade", cwd="/tmp")
    assert result.returncode == 0, result.stderr
    assert str(from_file) in result.stdout

    from_env = tmp_path / "env.db"
    env = {"EDC_DATABASE__URL": f"sqlite:///{from_env}"}
    result = run_edc("db", "status", "--json", env=env, cwd="/tmp")
    assert json.loads(result.stdout)["url"] == f"sqlite:///{from_env}"


def test_bad_revision_is_one_line(database_url: str) -> None:
    line = one_line_error(edc_db(database_url, "upgrade", "--revision", "nope"))
    assert "Can't locate revision" in line


# --- failures: one sentence, masked URL, no password ----------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_hidden(result: subprocess.CompletedProcess[str], masked: str) -> None:
    line = one_line_error(result)
    assert SENTINEL not in result.stdout + result.stderr
    assert masked in line


def test_closed_port_is_one_line_without_password() -> None:
    port = _closed_port()
    url = f"postgresql://edc:{SENTINEL}@127.0.0.1:{port}/edc"
    for command in (("status",), ("status", "--json"), ("upgrade",), ("init",)):
        _assert_hidden(edc_db(url, *command), f"edc:***@127.0.0.1:{port}/edc")


@pytest.mark.postgresql
@pytest.mark.parametrize("part", ["username", "database"])
def test_unknown_role_or_database_is_one_line_without_password(
    postgres_database_url: str, part: str
) -> None:
    # The test server trusts every login, so a wrong password cannot fail; an unknown role or
    # database does, with the password still in the URL.
    server = make_url(postgres_database_url)
    url = server.set(password=SENTINEL, **{part: f"nobody_{uuid.uuid4().hex[:8]}"})
    masked = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=True)
    _assert_hidden(edc_db(url.render_as_string(hide_password=False), "status"), masked)


def test_foreign_alembic_version_table_is_one_line(
    database_url: str, engine: DatabaseEngine
) -> None:
    """A table edc did not make, where edc expects its own: an error in one line, not a crash."""
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE alembic_version (something TEXT)")
    line = one_line_error(edc_db(database_url, "status"))
    assert "version_num" in line
    assert engine.masked_url in line or "database error" in line


def test_sqlalchemy_errors_become_one_scrubbed_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process: whatever SQLAlchemy raises unexplained is scrubbed; --debug re-raises it."""

    def broken(_: DatabaseEngine) -> None:
        raise OperationalError("SELECT 1", {}, RuntimeError(f"lost postgresql://u:{SENTINEL}@h/d"))

    monkeypatch.setattr(db_cli, "gather_status", broken)
    url = f"postgresql://u:{SENTINEL}@127.0.0.1:1/d"
    result = CliRunner().invoke(app, ["--database-url", url, "db", "status"])
    assert result.exit_code == 2
    assert SENTINEL not in result.output
    assert "database error: lost postgresql://u:***@h/d" in result.output

    debug = CliRunner().invoke(app, ["--debug", "--database-url", url, "db", "status"])
    assert isinstance(debug.exception, OperationalError)


# --- from an installed wheel ----------------------------------------------------------------


@pytest.mark.slow
def test_installed_wheel_migrates_from_anywhere(tmp_path: Path) -> None:
    """Build the wheel, install it alone into a new venv (dependencies borrowed), run it in /tmp."""
    wheels, venv = tmp_path / "wheels", tmp_path / "venv"
    # A copy of the sources, so that the build leaves nothing in the shared checkout.
    source = tmp_path / "source"
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(REPO / "src", source / "src", ignore=junk)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)], check=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", purelib],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # The dependencies come from the test environment, as a plain path: its .pth files (the
    # editable install of this checkout among them) are not processed.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next(wheels.glob("edc-*.whl"))
    subprocess.run(
        [*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", str(wheel)],
        check=True,
    )

    edc = str(venv / "bin" / "edc")
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import edc; print(edc.__file__)"],
        capture_output=True, text=True, check=True, cwd="/tmp",
    )  # fmt: skip
    assert where.stdout.startswith(str(site))
    url = f"sqlite:///{tmp_path / 'wheel.db'}"
    upgrade = subprocess.run(
        [edc, "--database-url", url, "db", "upgrade"], capture_output=True, text=True, cwd="/tmp"
    )
    assert upgrade.returncode == 0, upgrade.stderr
    shown = subprocess.run(
        [edc, "--database-url", url, "db", "status", "--json"],
        capture_output=True, text=True, cwd="/tmp",
    )  # fmt: skip
    assert json.loads(shown.stdout)["pending"] == []
