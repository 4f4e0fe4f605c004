"""Consoles for results (stdout) and messages (stderr), shared by every command."""

import json
from typing import Any

from rich.console import Console

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True, highlight=False)


def print_json(data: Any) -> None:
    """Print machine-readable JSON on stdout without Rich markup or wrapping."""
    stdout.out(json.dumps(data, indent=2, sort_keys=False, default=str), highlight=False)


def error(message: str) -> None:
    """Print a one-line error on stderr."""
    stderr.print(f"edc: error: {message}", markup=False, highlight=False)
