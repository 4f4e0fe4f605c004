"""Configuration: every field, bound and source, and their precedence."""

from pathlib import Path

import pytest

from edc.config import ConfigError, DatabaseConfig, EDCConfig, load_config
from edc.config.secrets import mask_url, scrub


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


class TestDefaults:
    def test_every_field_has_the_spec_default(self) -> None:
        config = load_config()
        assert config.database == DatabaseConfig(
            url="sqlite:///edc.db", echo=False, pool_size=5, pool_recycle=3600, create_tables=True
        )

    def test_edcconfig_has_database_section(self) -> None:
        assert isinstance(EDCConfig().database, DatabaseConfig)


class TestBounds:
    @pytest.mark.parametrize("value", [1, 5, 20])
    def test_pool_size_in_range(self, value: int) -> None:
        assert DatabaseConfig(pool_size=value).pool_size == value

    @pytest.mark.parametrize("value", [0, -1, 21])
    def test_pool_size_out_of_range(self, monkeypatch: pytest.MonkeyPatch, value: int) -> None:
        monkeypatch.setenv("EDC_DATABASE__POOL_SIZE", str(value))
        with pytest.raises(ConfigError, match=r"database\.pool_size.*EDC_DATABASE__POOL_SIZE"):
            load_config()

    @pytest.mark.parametrize("value", [300, 3600, 86400])
    def test_pool_recycle_in_range(self, value: int) -> None:
        assert DatabaseConfig(pool_recycle=value).pool_recycle == value

    def test_pool_recycle_below_minimum(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.toml", "[database]\npool_recycle = 299\n")
        with pytest.raises(ConfigError, match=r"database\.pool_recycle.*299.*c\.toml"):
            load_config(path)

    @pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("yes", True)])
    def test_booleans_from_environment(
        self, monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
    ) -> None:
        monkeypatch.setenv("EDC_DATABASE__ECHO", raw)
        monkeypatch.setenv("EDC_DATABASE__CREATE_TABLES", raw)
        config = load_config()
        assert config.database.echo is expected
        assert config.database.create_tables is expected

    def test_not_a_boolean(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("EDC_DATABASE__ECHO", "perhaps")
        with pytest.raises(ConfigError, match=r"database\.echo.*'perhaps'"):
            load_config()

    def test_not_an_integer_in_yaml(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.yaml", "database:\n  pool_size: many\n")
        with pytest.raises(ConfigError, match=r"database\.pool_size.*'many'.*c\.yaml"):
            load_config(path)


class TestSources:
    def test_environment_sets_url(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("EDC_DATABASE__URL", "sqlite:///other.db")
        assert load_config().database.url == "sqlite:///other.db"

    def test_environment_is_case_insensitive(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("edc_database__pool_size", "7")
        assert load_config().database.pool_size == 7

    def test_toml_file(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "c.toml",
            '[database]\nurl = "sqlite:///f.db"\necho = true\npool_size = 9\n'
            "pool_recycle = 600\ncreate_tables = false\n",
        )
        assert load_config(path).database == DatabaseConfig(
            url="sqlite:///f.db", echo=True, pool_size=9, pool_recycle=600, create_tables=False
        )

    @pytest.mark.parametrize("suffix", [".yaml", ".yml"])
    def test_yaml_file(self, tmp_path: Path, suffix: str) -> None:
        path = write(tmp_path / f"c{suffix}", "database:\n  url: sqlite:///y.db\n  pool_size: 3\n")
        config = load_config(path)
        assert (config.database.url, config.database.pool_size) == ("sqlite:///y.db", 3)

    def test_empty_yaml_file_is_defaults(self, tmp_path: Path) -> None:
        assert load_config(write(tmp_path / "c.yaml", "")) == load_config()

    def test_edc_config_names_the_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = write(tmp_path / "c.toml", "[database]\npool_size = 4\n")
        monkeypatch.setenv("EDC_CONFIG", str(path))
        assert load_config().database.pool_size == 4

    def test_overrides_beat_everything(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = write(tmp_path / "c.toml", '[database]\nurl = "sqlite:///file.db"\n')
        monkeypatch.setenv("EDC_DATABASE__URL", "sqlite:///env.db")
        config = load_config(path, {"database": {"url": "sqlite:///flag.db"}})
        assert config.database.url == "sqlite:///flag.db"

    def test_bad_override_names_the_command_line(self) -> None:
        with pytest.raises(ConfigError, match=r"database\.pool_size.*the command line"):
            load_config(overrides={"database": {"pool_size": 99}})

    def test_unknown_override_section(self) -> None:
        with pytest.raises(ConfigError, match="unknown configuration section 'nope'"):
            load_config(overrides={"nope": {"x": 1}})


class TestPrecedence:
    def test_environment_beats_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        path = write(tmp_path / "c.toml", "[database]\npool_size = 4\npool_recycle = 900\n")
        monkeypatch.setenv("EDC_DATABASE__POOL_SIZE", "11")
        config = load_config(path)
        assert config.database.pool_size == 11
        assert config.database.pool_recycle == 900  # the file still supplies what env leaves

    def test_argument_beats_edc_config(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from_env = write(tmp_path / "env.toml", "[database]\npool_size = 2\n")
        from_arg = write(tmp_path / "arg.toml", "[database]\npool_size = 3\n")
        monkeypatch.setenv("EDC_CONFIG", str(from_env))
        assert load_config(from_arg).database.pool_size == 3


class TestFileErrors:
    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="does not exist"):
            load_config(tmp_path / "absent.toml")

    def test_malformed_toml(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.toml", "[database\n")
        with pytest.raises(ConfigError, match=r"c\.toml is not valid TOML"):
            load_config(path)

    def test_malformed_yaml(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.yaml", "database: [unclosed\n")
        with pytest.raises(ConfigError, match=r"c\.yaml is not valid YAML"):
            load_config(path)

    def test_unknown_format(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="unknown format"):
            load_config(write(tmp_path / "c.ini", "[database]\n"))

    def test_top_level_not_a_table(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="top level"):
            load_config(write(tmp_path / "c.yaml", "- a\n- b\n"))

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "c.toml"
        path.write_bytes(b"[database]\nurl = '\xff'\n")
        with pytest.raises(ConfigError, match="cannot be read"):
            load_config(path)

    def test_unknown_key_in_file(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.toml", "[database]\npool = 3\n")
        with pytest.raises(ConfigError, match=r"unknown key database\.pool in config file"):
            load_config(path)

    def test_unknown_section_in_file(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.toml", "[databse]\nurl = 'x'\n")
        with pytest.raises(ConfigError, match="unknown key databse"):
            load_config(path)

    def test_unknown_key_in_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("EDC_DATABASE__POOLSIZE", "3")
        with pytest.raises(ConfigError, match="EDC_DATABASE__POOLSIZE"):
            load_config()

    def test_bad_url_value_never_shows_password(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.yaml", "database:\n  url: ['postgresql://u:pw@h/d']\n")
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert "pw" not in str(info.value)
        assert "database.url" in str(info.value)


class TestMasking:
    @pytest.mark.parametrize(
        ("url", "masked"),
        [
            ("postgresql://u:secret@localhost/x", "postgresql://u:***@localhost/x"),
            ("postgresql+psycopg://u:s%40cret@h:5432/d", "postgresql+psycopg://u:***@h:5432/d"),
            ("postgresql://u@localhost/x", "postgresql://u@localhost/x"),
            ("sqlite:///edc.db", "sqlite:///edc.db"),
            ("postgresql://h/d?user=u&password=secret", "postgresql://h/d?user=u&password=***"),
            ("not a url u:secret@x", "not a url u:secret@x"),
        ],
    )
    def test_mask_url(self, url: str, masked: str) -> None:
        assert mask_url(url) == masked

    def test_scrub_removes_given_secret_and_url_passwords(self) -> None:
        text = 'connection to "postgresql://u:pw1@h/d" failed for password=pw2, pw3 rejected'
        cleaned = scrub(text, "pw3")
        assert "pw1" not in cleaned
        assert "pw2" not in cleaned
        assert "pw3" not in cleaned
