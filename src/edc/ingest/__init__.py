"""Reading and validating capture-request CSV files (`url, when, direction, mode`, extras).

Pure Python, no database: `edc jobs import` stores what `read_requests` yields.
"""

from edc.ingest.csvstream import MAX_COLUMNS
from edc.ingest.errors import CsvFormatError, RowError
from edc.ingest.fields import DIRECTIONS, normalize_direction, normalize_mode
from edc.ingest.reader import DEFAULT_MAX_FIELD_BYTES, read_requests
from edc.ingest.request import CaptureRequest
from edc.ingest.summary import ValidationSummary, validate_file
from edc.ingest.timestamps import normalize_when
from edc.ingest.urls import MAX_URL_LENGTH, normalize_url

__all__ = [
    "DEFAULT_MAX_FIELD_BYTES",
    "DIRECTIONS",
    "MAX_COLUMNS",
    "MAX_URL_LENGTH",
    "CaptureRequest",
    "CsvFormatError",
    "RowError",
    "ValidationSummary",
    "normalize_direction",
    "normalize_mode",
    "normalize_url",
    "normalize_when",
    "read_requests",
    "validate_file",
]
