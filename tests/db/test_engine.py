"""DatabaseEngine: URLs and drivers, SQLite connection setup, units of work, clear failures."""

import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from edc.config import DatabaseConfig, EDCConfig
from edc.db import DatabaseEngine
from edc.db import engine as engine_module
from edc.db.models import Job
from edc.errors import DatabaseUnavailableError, InputError

SENTINEL = "S3ntinel-pw"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestUrls:
    @pytest.mark.parametrize(
        "url", ["postgresql://u:p@h/d", "postgres://u:p@h/d", "postgresql+psycopg://u:p@h/d"]
    )
    def test_postgresql_urls_use_psycopg3(self, url: str) -> None:
        db = DatabaseEngine(DatabaseConfig(url=url))
        assert db.url.drivername == "postgresql+psycopg"
        assert db.dialect_name == "postgresql"

    def test_accepts_whole_config(self) -> None:
        assert DatabaseEngine(EDCConfig()).config == DatabaseConfig()

    def test_masked_url_hides_password(self) -> None:
        db = DatabaseEngine(DatabaseConfig(url=f"postgresql://u:{SENTINEL}@h/d"))
        assert SENTINEL not in db.masked_url
        assert "***" in db.masked_url

    @pytest.mark.parametrize("url", ["mysql://u:pw@h/d", "not a url"])
    def test_unsupported_or_invalid(self, url: str) -> None:
        with pytest.raises(InputError, match="database URL"):
            DatabaseEngine(DatabaseConfig(url=url))


class TestSQLiteSetup:
    def test_pragmas_on_every_connection(self, sqlite_database_url: str) -> None:
        db = DatabaseEngine(DatabaseConfig(url=sqlite_database_url))
        with db.begin(read_only=True) as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("foreign_keys", "journal_mode", "busy_timeout", "synchronous")
            }
        db.dispose()
        assert pragma == {
            "foreign_keys": 1,
            "journal_mode": "wal",
            "busy_timeout": engine_module.SQLITE_BUSY_TIMEOUT_MS,
            "synchronous": 2,  # FULL
        }

    def test_in_memory_database_is_shared_across_sessions(self, memory_db: DatabaseEngine) -> None:
        with memory_db.session() as s:
            s.add(Job(url="https://e.com", when="2020"))
        with memory_db.session(read_only=True) as s:
            assert s.scalars(select(Job.url)).one() == "https://e.com"

    def test_write_sessions_take_the_lock_up_front(
        self, sqlite_database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
        first = DatabaseEngine(DatabaseConfig(url=sqlite_database_url))
        second = DatabaseEngine(DatabaseConfig(url=sqlite_database_url))
        first.create_tables()
        try:
            with first.session() as writer:
                writer.add(Job(url="https://e.com", when="2020"))
                writer.flush()
                with second.session(read_only=True) as reader:  # readers are never blocked
                    assert reader.scalars(select(Job)).all() == []
                with pytest.raises(DatabaseUnavailableError, match="locked"), second.session():
                    pass  # pragma: no cover - BEGIN IMMEDIATE fails before the body
        finally:
            first.dispose()
            second.dispose()

    def test_unopenable_file(self, tmp_path: Path) -> None:
        db = DatabaseEngine(DatabaseConfig(url=f"sqlite:///{tmp_path}/missing/dir/edc.db"))
        with pytest.raises(DatabaseUnavailableError, match="cannot use database sqlite"):
            db.ping()


class TestUnitOfWork:
    def test_commit_on_success(self, db: DatabaseEngine) -> None:
        with db.session() as s:
            s.add(Job(url="https://e.com", when="2020"))
        with db.session(read_only=True) as s:
            assert len(s.scalars(select(Job)).all()) == 1

    def test_rollback_on_exception(self, db: DatabaseEngine) -> None:
        with pytest.raises(RuntimeError), db.session() as s:
            s.add(Job(url="https://e.com", when="2020"))
            s.flush()
            raise RuntimeError("boom")
        with db.session(read_only=True) as s:
            assert s.scalars(select(Job)).all() == []

    def test_core_connection_rolls_back_too(self, db: DatabaseEngine) -> None:
        with pytest.raises(RuntimeError), db.begin() as conn:
            conn.execute(Job.__table__.insert(), {"url": "u", "when": "w", "uuid": "x" * 36})
            raise RuntimeError("boom")
        with db.begin(read_only=True) as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM jobs").scalar() == 0

    def test_ping(self, db: DatabaseEngine) -> None:
        db.ping()

    def test_dispose_then_reuse(self, db: DatabaseEngine) -> None:
        db.dispose()
        db.dispose()  # idempotent
        db.ping()  # a new engine is made on demand


@pytest.mark.postgresql
class TestPostgreSQL:
    def test_pool_settings_applied(self, postgres_database_url: str) -> None:
        db = DatabaseEngine(
            DatabaseConfig(url=postgres_database_url, pool_size=3, pool_recycle=600)
        )
        pool = db.engine.pool
        assert pool.size() == 3  # type: ignore[attr-defined]
        assert pool._recycle == 600  # type: ignore[attr-defined]
        assert pool._pre_ping is True  # type: ignore[attr-defined]
        db.ping()
        db.dispose()

    def test_closed_port_is_one_clear_sentence(self) -> None:
        url = f"postgresql://edc:{SENTINEL}@127.0.0.1:{closed_port()}/edc"
        db = DatabaseEngine(DatabaseConfig(url=url))
        with pytest.raises(DatabaseUnavailableError) as info:
            db.ping()
        message = str(info.value)
        assert SENTINEL not in message
        assert "cannot use database postgresql+psycopg://edc:***@127.0.0.1" in message
        assert "\n" not in message

    def test_unknown_database(self, postgres_database_url: str) -> None:
        url = DatabaseEngine(DatabaseConfig(url=postgres_database_url)).url
        bad = url.set(database="no_such_db", password=SENTINEL)
        db = DatabaseEngine(DatabaseConfig(url=bad.render_as_string(hide_password=False)))
        with pytest.raises(DatabaseUnavailableError, match="no_such_db") as info:
            db.ping()
        assert SENTINEL not in str(info.value)
