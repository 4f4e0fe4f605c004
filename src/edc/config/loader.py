"""Load `EDCConfig` from defaults, a TOML or YAML file, the environment and command-line overrides.

Precedence, lowest first: defaults < config file < `EDC_*` environment < overrides (CLI flags).
Every failure is a `ConfigError` naming the key, the problem, the value (passwords masked) and
where the value came from.
"""

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from edc.config.errors import ConfigError
from edc.config.schema import EDCConfig
from edc.config.secrets import mask_url

CONFIG_ENV_VAR = "EDC_CONFIG"
ENV_PREFIX = "EDC_"
ENV_DELIMITER = "__"
COMMAND_LINE = "the command line"


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> EDCConfig:
    """Return the effective configuration.

    `path` names a config file; without it `EDC_CONFIG` may name one; without both there is none.
    `overrides` maps section -> key -> value and beats everything else (used for CLI flags).
    """
    file_path = _resolve_path(path)
    file_data = _read_file(file_path) if file_path is not None else {}
    try:
        config = EDCConfig(**file_data)
    except ValidationError as exc:
        raise _explain(exc, file_path, file_data, {}) from None
    if overrides:
        config = _apply_overrides(config, overrides, file_path, file_data)
    return config


def _resolve_path(path: str | os.PathLike[str] | None) -> Path | None:
    if path is not None:
        return Path(path)
    from_env = os.environ.get(CONFIG_ENV_VAR)
    return Path(from_env) if from_env else None


def _read_file(path: Path) -> dict[str, Any]:
    """Parse a TOML or YAML config file into a mapping, or explain why it cannot be read."""
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist or is not a file")
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    data: object
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    elif suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if data is None:
            data = {}
    else:
        raise ConfigError(
            f"config file {path} has an unknown format: use a .toml, .yaml or .yml file"
        )
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a table of settings at the top level")
    return data


def _apply_overrides(
    config: EDCConfig,
    overrides: Mapping[str, Mapping[str, Any]],
    file_path: Path | None,
    file_data: Mapping[str, Any],
) -> EDCConfig:
    """Re-validate each overridden section so flags get the same checks as every other source."""
    updates: dict[str, BaseModel] = {}
    for section, values in overrides.items():
        if section not in EDCConfig.model_fields:
            raise ConfigError(f"unknown configuration section {section!r} from {COMMAND_LINE}")
        current = getattr(config, section)
        try:
            updates[section] = type(current).model_validate({**current.model_dump(), **values})
        except ValidationError as exc:
            prefixed = {section: dict(values)}
            raise _explain(exc, file_path, file_data, prefixed, prefix=(section,)) from None
    return config.model_copy(update=updates)


def _explain(
    exc: ValidationError,
    file_path: Path | None,
    file_data: Mapping[str, Any],
    overrides: Mapping[str, Any],
    prefix: tuple[str, ...] = (),
) -> ConfigError:
    """Turn pydantic's error into one sentence per problem, naming key, value and source."""
    lines = []
    for error in exc.errors():
        loc = prefix + tuple(str(part) for part in error["loc"])
        key = ".".join(loc)
        source = _source_of(loc, file_path, file_data, overrides)
        if error["type"] == "extra_forbidden":
            lines.append(f"unknown key {key} in {source}")
            continue
        shown = _show_value(loc, error.get("input"))
        lines.append(f"{key}: {error['msg'].lower()} (got {shown}) in {source}")
    return ConfigError("invalid configuration: " + "; ".join(lines))


def _source_of(
    loc: tuple[str, ...],
    file_path: Path | None,
    file_data: Mapping[str, Any],
    overrides: Mapping[str, Any],
) -> str:
    if _lookup(overrides, loc):
        return COMMAND_LINE
    environ = {name.upper(): name for name in os.environ}
    for depth in range(len(loc), 0, -1):
        name = ENV_PREFIX + ENV_DELIMITER.join(part.upper() for part in loc[:depth])
        if name in environ:
            return f"environment variable {environ[name]}"
    if file_path is not None and _lookup(file_data, loc):
        return f"config file {file_path}"
    return "the defaults"


def _lookup(data: Mapping[str, Any], loc: tuple[str, ...]) -> bool:
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _show_value(loc: tuple[str, ...], value: object) -> str:
    """Render a rejected value for a message, never revealing a password."""
    if isinstance(value, str) and any("url" in part or "password" in part for part in loc):
        return repr(mask_url(value))
    if isinstance(value, dict | list):
        return "a " + type(value).__name__
    return repr(value)
