"""edc: forensic web-archive capture with a tamper-evident record of everything it does."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edc")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
