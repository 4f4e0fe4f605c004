"""The CLI skeleton through the installed `edc` executable: help, version, config show, errors."""

import json
import subprocess
import sys
from pathlib import Path

from cli_support import run_edc
from edc import __version__


def test_help_lists_command_groups() -> None:
    result = run_edc("--help")
    assert result.returncode == 0
    assert "config" in result.stdout


def test_version() -> None:
    result = run_edc("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"edc {__version__}"


def test_python_dash_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "edc", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_config_show_defaults_as_json() -> None:
    result = run_edc("config", "show", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["database"] == {
        "url": "sqlite:///edc.db",
        "echo": False,
        "pool_size": 5,
        "pool_recycle": 3600,
        "create_tables": True,
    }


def test_config_show_table() -> None:
    result = run_edc("config", "show")
    assert result.returncode == 0
    assert "database.pool_recycle" in result.stdout
    assert "3600" in result.stdout


def test_password_is_masked() -> None:
    env = {"EDC_DATABASE__URL": "postgresql://u:secret@localhost/x"}
    for args in (("config", "show"), ("config", "show", "--json")):
        result = run_edc(*args, env=env)
        assert result.returncode == 0
        assert "secret" not in result.stdout + result.stderr
        assert "postgresql://u:***@localhost/x" in result.stdout


def test_bad_environment_value_exits_2_naming_the_key() -> None:
    result = run_edc("config", "show", env={"EDC_DATABASE__POOL_SIZE": "0"})
    assert result.returncode == 2
    assert "database.pool_size" in result.stderr
    assert "EDC_DATABASE__POOL_SIZE" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_file_value_exits_2_naming_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[database]\npool_recycle = 10\n")
    result = run_edc("--config", str(path), "config", "show")
    assert result.returncode == 2
    assert "database.pool_recycle" in result.stderr
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_config_flag_beats_edc_config(tmp_path: Path) -> None:
    env_file = tmp_path / "env.toml"
    env_file.write_text("[database]\npool_size = 2\n")
    flag_file = tmp_path / "flag.toml"
    flag_file.write_text("[database]\npool_size = 3\n")
    result = run_edc(
        "--config", str(flag_file), "config", "show", "--json", env={"EDC_CONFIG": str(env_file)}
    )
    assert json.loads(result.stdout)["database"]["pool_size"] == 3


def test_database_url_flag_beats_environment() -> None:
    result = run_edc(
        "--database-url",
        "sqlite:///flag.db",
        "config",
        "show",
        "--json",
        env={"EDC_DATABASE__URL": "sqlite:///env.db"},
    )
    assert json.loads(result.stdout)["database"]["url"] == "sqlite:///flag.db"


def test_debug_shows_traceback() -> None:
    result = run_edc("--debug", "config", "show", env={"EDC_DATABASE__POOL_SIZE": "0"})
    assert result.returncode != 0
    assert "Traceback" in result.stderr
