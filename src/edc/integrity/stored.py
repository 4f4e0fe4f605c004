"""The hash of an entry straight from stored column values, for verifying long chains fast.

`stored_entry_hash` builds exactly ChainEntry.canonical_bytes() from values that are already
in their hashed form (time as `YYYY-MM-DDTHH:MM:SS.ffffffZ` text, details as JSON text) without
building a ChainEntry. It handles the common shape only: every text field a str, details a
JSON object without float, NaN or integer of more than 15 characters (ASCII text without `\\u`
escapes is re-encoded by json's C encoder, as its names sort the same by code point as by
UTF-16 unit; other text by canonical_json). For anything else it returns None
and the caller takes the general path (ChainEntry), so both paths agree on every input:
`tests/integrity/test_stored.py` checks that on generated entries.
"""

from collections.abc import Callable
from hashlib import sha256
from json import JSONDecoder
from typing import Any, NoReturn

from edc.integrity.canonical import canonical_json, encode_checked_json
from edc.integrity.entry import TIME_PATTERN, hashed_text

__all__ = ["TIME_PATTERN", "stored_entry_hash"]


class _NotFastError(Exception):
    """A value the fast path leaves to the general one."""


def _refuse(_text: str) -> NoReturn:
    raise _NotFastError


def _short_int(text: str) -> int:
    """Integers of up to 15 characters are within ±(2**53 - 1); longer ones are checked later."""
    if len(text) > 15:
        raise _NotFastError
    return int(text)


# scan_once is raw_decode without its Python wrapper: (value, end), StopIteration if no value
_scan_once: Callable[[str, int], tuple[Any, int]] = JSONDecoder(
    parse_float=_refuse, parse_int=_short_int, parse_constant=_refuse
).scan_once  # type: ignore[attr-defined]


def stored_entry_hash(
    uuid: Any,
    time_text: str,
    action: str,
    actor: Any,
    target_type: Any,
    target_id: Any,
    description: Any,
    details_json: Any,
    ip_address: Any,
    user_agent: Any,
    job_uuid: Any,
    previous_hash: Any,
) -> str | None:
    """`entry_hash` of these stored values, or None if they need the general path.

    `time_text` must already be a valid instant matching TIME_PATTERN (checked by the caller
    when it converts the database's form) and `action` a known action value.
    """
    if not (
        type(uuid) is str
        and type(actor) is str
        and type(target_type) is str
        and type(description) is str
        and type(details_json) is str
        and (target_id is None or type(target_id) is str)
        and (ip_address is None or type(ip_address) is str)
        and (user_agent is None or type(user_agent) is str)
        and (job_uuid is None or type(job_uuid) is str)
        and (previous_hash is None or type(previous_hash) is str)
    ):
        return None
    try:
        details, end = _scan_once(details_json, 0)
    except (_NotFastError, ValueError, StopIteration):
        return None
    if end != len(details_json) or type(details) is not dict:
        return None
    if details_json.isascii() and "\\u" not in details_json:
        details_text = encode_checked_json(details)  # names ASCII: code point order is JCS's
    else:
        try:  # names may sort differently by UTF-16 unit; lone surrogates are refused
            details_text = canonical_json(details).decode("utf-8")
        except (TypeError, ValueError):
            return None
    text = hashed_text(
        uuid, time_text, action, actor, target_type, target_id, description, details_text,
        ip_address, user_agent, job_uuid, previous_hash,
    )  # fmt: skip
    try:
        return sha256(text.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:  # a lone surrogate: the general path names it
        return None
