"""The error raised for any configuration problem; the CLI turns it into exit code 2."""

from edc.errors import InputError


class ConfigError(InputError):
    """Configuration could not be loaded: the message names the key, the problem and the source."""
