"""The two small columns of a capture request: `direction` and `mode`."""

import re

from edc.ingest._text import show

DIRECTIONS = ("closest", "before", "after")
DEFAULT_DIRECTION = "closest"
DEFAULT_MODE = "fetch"
MODE_MAX_LENGTH = 16

_MODE = re.compile(r"[a-z][a-z0-9_-]{0,15}", re.ASCII)


def normalize_direction(raw: str) -> str:
    """Return the direction in lower case; blank means `closest` (Memento's default)."""
    value = raw.strip()
    if not value:
        return DEFAULT_DIRECTION
    lowered = value.lower()
    if lowered in DIRECTIONS:
        return lowered
    raise ValueError(f"{show(value)} is not closest, before or after")


def normalize_mode(raw: str) -> str:
    """Return the mode token; blank means `fetch`. Not lower-cased: a token is an exact name."""
    value = raw.strip()
    if not value:
        return DEFAULT_MODE
    if _MODE.fullmatch(value):
        return value
    if len(value) > MODE_MAX_LENGTH:
        raise ValueError(f"mode is longer than {MODE_MAX_LENGTH} characters")
    if _MODE.fullmatch(value.lower()):
        raise ValueError(f"{show(value)} must be lower-case")
    raise ValueError(f"{show(value)} must start with a-z and hold only a-z, 0-9, '_' and '-'")
