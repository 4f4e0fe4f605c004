"""One valid, normalized capture request read from a CSV file."""

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    """A row that passed validation: stored forms of url and when, plus extra columns as given."""

    line: int
    """Physical line (1-based) where the record starts."""
    url: str
    when: str
    """14-digit UTC timestamp, YYYYMMDDhhmmss."""
    direction: str
    mode: str
    options: dict[str, str] = field(default_factory=dict)
    """Extra columns by lower-case header name; blank values are left out."""
