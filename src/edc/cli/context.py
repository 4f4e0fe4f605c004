"""Per-invocation state shared by all commands: global options and the loaded configuration."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from edc.config import EDCConfig, load_config


@dataclass
class AppContext:
    """What the global options chose; configuration is loaded once, on first use."""

    config_path: Path | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    debug: bool = False
    _config: EDCConfig | None = None

    @property
    def config(self) -> EDCConfig:
        if self._config is None:
            self._config = load_config(self.config_path, self.overrides or None)
        return self._config


def app_context(ctx: typer.Context) -> AppContext:
    """Return the AppContext set up by the root callback."""
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # pragma: no cover - the root callback always sets it
        raise RuntimeError("edc command invoked without its root callback")
    return obj
