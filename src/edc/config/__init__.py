"""Configuration: the schema and how it is loaded from files and the environment."""

from edc.config.errors import ConfigError
from edc.config.loader import load_config
from edc.config.schema import DatabaseConfig, EDCConfig

__all__ = ["ConfigError", "DatabaseConfig", "EDCConfig", "load_config"]
