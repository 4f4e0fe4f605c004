"""Per-invocation state shared by all commands: global options and the loaded configuration."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from edc.config import EDCConfig, load_config
from edc.config.secrets import scrub

if TYPE_CHECKING:
    from edc.db.engine import DatabaseEngine


@dataclass
class AppContext:
    """What the global options chose; configuration is loaded once, on first use."""

    config_path: Path | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    debug: bool = False
    _config: EDCConfig | None = None
    _database: "DatabaseEngine | None" = None

    @property
    def config(self) -> EDCConfig:
        if self._config is None:
            self._config = load_config(self.config_path, self.overrides or None)
        return self._config

    def database(self) -> "DatabaseEngine":
        """The configured database (one engine per invocation; nothing connects until used)."""
        if self._database is None:
            from edc.db.engine import DatabaseEngine

            self._database = DatabaseEngine(self.config)
        return self._database

    def ready_database(self) -> "DatabaseEngine":
        """The database with its schema at head, created first if empty and `create_tables` is on.

        Otherwise a SchemaNotReadyError says what to run (`edc db upgrade`).
        """
        from edc.db.migrate import ensure_schema

        database = self.database()
        ensure_schema(database, self.config.database.create_tables)
        return database

    def scrub(self, text: str) -> str:
        """`text` without the database password, for messages about unexpected errors."""
        password = self._database.url.password if self._database is not None else None
        return scrub(text, password if isinstance(password, str) else None)

    def close(self) -> None:
        """Release the database connections at the end of the invocation."""
        if self._database is not None:
            self._database.dispose()


def app_context(ctx: typer.Context) -> AppContext:
    """Return the AppContext set up by the root callback."""
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # pragma: no cover - the root callback always sets it
        raise RuntimeError("edc command invoked without its root callback")
    return obj
