"""`when` values: Wayback timestamps (4 to 14 digits) or ISO 8601, stored as 14-digit UTC."""

import calendar
import re
from datetime import datetime, timedelta
from functools import lru_cache

from edc.ingest._text import show

WAYBACK_LENGTHS = (4, 6, 8, 10, 12, 14)
MIN_YEAR = 1000

# A short timestamp means the start of its period: pad with "01" months/days and "00" times.
_PAD = "00000101000000"
# Years 1000-9999, months, days 01-28 and times: every match is a real instant, no lookup needed.
_PLAIN14 = re.compile(
    r"[1-9]\d{3}(?:0[1-9]|1[0-2])(?:0[1-9]|1\d|2[0-8])(?:[01]\d|2[0-3])[0-5]\d[0-5]\d", re.ASCII
)
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
    r"(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)?)?",
    re.ASCII,
)


def normalize_when(raw: str) -> str:
    """Return `raw` as a 14-digit UTC timestamp `YYYYMMDDhhmmss`, or raise ValueError saying why."""
    if _PLAIN14.fullmatch(raw):
        return raw
    value = raw.strip()
    if value.isdigit() and value.isascii():
        digits = len(value)
        if digits not in WAYBACK_LENGTHS:
            raise ValueError(f"{digits} digits; a Wayback timestamp has 4, 6, 8, 10, 12 or 14")
        return check_timestamp(value + _PAD[digits:])
    match = _ISO.fullmatch(value)
    if match is None:
        raise ValueError(
            f"{show(value)} is not a Wayback timestamp (YYYYMMDDhhmmss) "
            "or an ISO 8601 date or date-time"
        )
    return _from_iso(match)


def check_timestamp(stamp: str) -> str:
    """Return a 14-digit string if it names a real date and time, else raise ValueError."""
    if _PLAIN14.fullmatch(stamp):
        return stamp
    _check_date(stamp[:8])
    hour, minute, second = stamp[8:10], stamp[10:12], stamp[12:14]
    if hour > "23":
        raise ValueError(f"hour {hour} does not exist (00-23)")
    if minute > "59":
        raise ValueError(f"minute {minute} does not exist (00-59)")
    if second > "59":
        raise ValueError(f"second {second} does not exist (00-59)")
    return stamp


@lru_cache(maxsize=1024)
def _check_date(date: str) -> None:
    """Raise ValueError unless `date` (8 digits) is a real day; cached as rows share dates."""
    year, month, day = int(date[:4]), int(date[4:6]), int(date[6:8])
    if year < MIN_YEAR:
        raise ValueError(f"year {date[:4]} is before {MIN_YEAR}")
    if not 1 <= month <= 12:
        raise ValueError(f"month {date[4:6]} does not exist (01-12)")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise ValueError(f"day {date[6:8]} does not exist in {date[:4]}-{date[4:6]} (01-{last})")


def _from_iso(match: re.Match[str]) -> str:
    """Convert a matched ISO 8601 value to UTC; fractions of a second are dropped."""
    year, month, day, hour, minute, second, sign, off_hours, off_minutes = match.groups()
    stamp = check_timestamp(f"{year}{month}{day}{hour or '00'}{minute or '00'}{second or '00'}")
    if sign is None:
        return stamp
    off_minutes = off_minutes or "00"
    if off_hours > "23" or off_minutes > "59":
        raise ValueError(f"UTC offset {sign}{off_hours}:{off_minutes} does not exist")
    offset = timedelta(hours=int(off_hours), minutes=int(off_minutes))
    local = datetime(int(year), int(month), int(day), int(stamp[8:10]), int(stamp[10:12]))
    try:
        utc = local - offset if sign == "+" else local + offset
    except OverflowError:
        raise ValueError("the time is out of range after conversion to UTC") from None
    if utc.year < MIN_YEAR:
        raise ValueError(f"year {utc.year} (after conversion to UTC) is before {MIN_YEAR}")
    return utc.strftime("%Y%m%d%H%M") + stamp[12:14]
