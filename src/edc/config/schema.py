"""The configuration schema: every setting edc reads, with its default and bounds."""

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class DatabaseConfig(BaseModel):
    """Database connection configuration."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        default="sqlite:///edc.db",
        description="Database connection URL (SQLite or PostgreSQL)",
    )
    echo: bool = Field(default=False, description="Echo SQL statements to log")
    pool_size: int = Field(
        default=5, ge=1, le=20, description="Connection pool size (PostgreSQL only)"
    )
    pool_recycle: int = Field(
        default=3600, ge=300, description="Seconds before connection recycling"
    )
    create_tables: bool = Field(
        default=True, description="Auto-create tables on startup (dev only)"
    )


class EDCConfig(BaseSettings):
    """Top-level configuration; `EDC_SECTION__KEY` environment variables override file values."""

    model_config = SettingsConfigDict(
        env_prefix="EDC_",
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
    )

    database: DatabaseConfig = Field(default_factory=DatabaseConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment beats values passed in (which the loader reads from the config file)."""
        return (env_settings, init_settings)
