"""One audit-log entry as it is hashed: the fixed field set, its canonical bytes and its hash.

`entry_hash = sha256(canonical_json(hashed_fields))` in lower-case hex, where the hashed fields
are exactly HASHED_FIELDS (all always present, absent values as JSON null) and the canonical
form is RFC 8785 (see edc.integrity.canonical). Left out on purpose:

- `id`: a surrogate key the database assigns; it says nothing about the event;
- `job_id`: `ON DELETE SET NULL` may change it after the fact; `job_uuid` is hashed instead;
- `updated_at`: an append-only row is never updated, so it adds nothing but a way to differ;
- `entry_hash`: the result itself.
"""

from __future__ import annotations

import re
import uuid as uuid_module
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from hashlib import sha256
from json.encoder import encode_basestring
from typing import Any, Final

from edc.integrity.canonical import canonical_json, scan_json_value

__all__ = [
    "CHAIN_FORMAT_VERSION",
    "GENESIS_PREVIOUS_HASH",
    "HASHED_FIELDS",
    "ChainEntry",
    "format_time",
    "parse_time",
]

CHAIN_FORMAT_VERSION: Final = 1
"""Value of the hashed field `v`: the version of these rules, so that they can evolve."""

GENESIS_PREVIOUS_HASH: Final = None
"""`previous_hash` of the first entry: JSON null (the column is nullable), not a made-up hash."""

HASHED_FIELDS: Final = (
    "v",
    "uuid",
    "created_at",
    "action",
    "actor",
    "target_type",
    "target_id",
    "description",
    "details",
    "ip_address",
    "user_agent",
    "job_uuid",
    "previous_hash",
)
"""Names of the members of the hashed JSON object, in documentation order (JCS sorts them)."""

TIME_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", re.ASCII)
"""The hashed form of a time: `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always UTC."""
_STR_FIELDS = ("uuid", "action", "actor", "target_type", "description")
_OPTIONAL_STR_FIELDS = ("target_id", "ip_address", "user_agent", "job_uuid", "previous_hash")


def format_time(moment: datetime) -> str:
    """`moment` in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`: always six fraction digits and `Z`.

    Naive datetimes are refused (ValueError): their instant is unknown.
    """
    if moment.tzinfo is UTC:  # the common case, a third faster
        text = moment.isoformat()  # without timespec: faster, but no fraction when it is 0
        if len(text) == 32:
            return text[:-6] + "Z"
        return moment.isoformat(timespec="microseconds")[:-6] + "Z"
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone; use UTC")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """The aware UTC datetime that format_time wrote as `text`; any other form is a ValueError."""
    if not isinstance(text, str) or not TIME_PATTERN.fullmatch(text):
        raise ValueError(f"time {text!r} is not in the form YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True, init=False)
class ChainEntry:
    """The hashed fields of one audit-log entry, checked when built.

    `uuid`/`job_uuid` may be given as uuid.UUID (kept as lower-case hyphenated text) and
    `action` as an enum member (kept as its value). `details` must hold only str, int within
    ±(2**53 - 1), bool, None, lists and str-keyed dicts, and must not be changed afterwards.
    """

    uuid: str
    created_at: datetime
    action: str
    actor: str
    target_type: str
    target_id: str | None
    description: str
    details: dict[str, Any]
    ip_address: str | None
    user_agent: str | None
    job_uuid: str | None
    previous_hash: str | None
    _time: str = field(init=False, repr=False, compare=False)

    def __init__(  # written out: the generated one of a frozen dataclass is twice as slow
        self,
        uuid: str,
        created_at: datetime,
        action: str,
        actor: str,
        target_type: str,
        target_id: str | None,
        description: str,
        details: dict[str, Any],
        ip_address: str | None,
        user_agent: str | None,
        job_uuid: str | None,
        previous_hash: str | None,
    ) -> None:
        put = object.__setattr__
        put(self, "uuid", uuid)
        put(self, "created_at", created_at)
        put(self, "action", action)
        put(self, "actor", actor)
        put(self, "target_type", target_type)
        put(self, "target_id", target_id)
        put(self, "description", description)
        put(self, "details", details)
        put(self, "ip_address", ip_address)
        put(self, "user_agent", user_agent)
        put(self, "job_uuid", job_uuid)
        put(self, "previous_hash", previous_hash)
        if not (
            type(uuid) is str
            and type(action) is str
            and type(actor) is str
            and type(target_type) is str
            and type(description) is str
            and (target_id is None or type(target_id) is str)
            and (ip_address is None or type(ip_address) is str)
            and (user_agent is None or type(user_agent) is str)
            and (job_uuid is None or type(job_uuid) is str)
            and (previous_hash is None or type(previous_hash) is str)
        ):
            self._normalise_and_check()
        if not isinstance(created_at, datetime):
            raise TypeError(f"created_at must be a datetime, not {type(created_at).__name__}")
        put(self, "_time", format_time(created_at))
        if created_at.tzinfo is not UTC:  # one zone, so equal instants compare equal
            put(self, "created_at", created_at.astimezone(UTC))
        _check_details(details)

    def _normalise_and_check(self) -> None:
        """The slow path of __post_init__: convert UUIDs and enum members, name a wrong type."""
        for name in ("uuid", "job_uuid"):
            value = getattr(self, name)
            if isinstance(value, uuid_module.UUID):
                object.__setattr__(self, name, str(value))
        if isinstance(self.action, Enum):
            object.__setattr__(self, "action", self.action.value)
        for name in _STR_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, not {type(value).__name__}")
        for name in _OPTIONAL_STR_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a string or None, not {type(value).__name__}")

    def hashed_fields(self) -> dict[str, Any]:
        """The JSON object that is canonicalized and hashed, members in HASHED_FIELDS order."""
        return {
            "v": CHAIN_FORMAT_VERSION,
            "uuid": self.uuid,
            "created_at": self._time,
            "action": self.action,
            "actor": self.actor,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "description": self.description,
            "details": self.details,
            "ip_address": self.ip_address,
            "user_agent": self.user_agent,
            "job_uuid": self.job_uuid,
            "previous_hash": self.previous_hash,
        }

    def canonical_bytes(self) -> bytes:
        """RFC 8785 bytes of hashed_fields(); written directly, as the member names are fixed."""
        return self._canonical_bytes(_canonical_details(self.details))

    def compute_hash(self) -> str:
        """`entry_hash`: lower-case hex SHA-256 of canonical_bytes()."""
        return sha256(self.canonical_bytes()).hexdigest()

    def hash_and_details_json(self) -> tuple[str, str]:
        """`entry_hash` and the canonical JSON text of `details` that went into it.

        For writers that store `details` as text: the stored text is then the hashed one.
        """
        details_json = _canonical_details(self.details)
        return sha256(self._canonical_bytes(details_json)).hexdigest(), details_json

    def _canonical_bytes(self, details_json: str) -> bytes:
        text = hashed_text(
            self.uuid, self._time, self.action, self.actor, self.target_type, self.target_id,
            self.description, details_json, self.ip_address, self.user_agent, self.job_uuid,
            self.previous_hash,
        )  # fmt: skip
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"a string is not valid Unicode (lone surrogate): {exc.reason}"
            ) from None

    @property
    def time_text(self) -> str:
        """`created_at` as it is hashed: `YYYY-MM-DDTHH:MM:SS.ffffffZ`."""
        return self._time

    def to_export_dict(self, entry_hash: str | None = None) -> dict[str, Any]:
        """The JSON Lines export record: the hashed fields plus `entry_hash`.

        `entry_hash` is the stored hash when given (an export shows what the database holds),
        else the computed one. Records carry no database id; their order is the line order.
        """
        record = self.hashed_fields()
        record["entry_hash"] = self.compute_hash() if entry_hash is None else entry_hash
        return record

    @classmethod
    def from_export_dict(cls, record: Mapping[str, Any]) -> tuple[ChainEntry, str]:
        """The entry and stored `entry_hash` of one export record; ValueError if malformed."""
        expected = {*HASHED_FIELDS, "entry_hash"}
        if set(record) != expected:
            missing = sorted(expected - set(record))
            unknown = sorted(set(record) - expected)
            raise ValueError(f"export record: missing fields {missing}, unknown fields {unknown}")
        if record["v"] != CHAIN_FORMAT_VERSION or isinstance(record["v"], bool):
            raise ValueError(f"export record: format version {record['v']!r} is not supported")
        entry_hash = record["entry_hash"]
        if not isinstance(entry_hash, str):
            raise ValueError("export record: entry_hash must be a string")
        fields = {name: record[name] for name in HASHED_FIELDS if name != "v"}
        fields["created_at"] = parse_time(record["created_at"])
        try:
            return cls(**fields), entry_hash
        except TypeError as exc:
            raise ValueError(f"export record: {exc}") from None


def hashed_text(
    uuid: str,
    time_text: str,
    action: str,
    actor: str,
    target_type: str,
    target_id: str | None,
    description: str,
    details_json: str,
    ip_address: str | None,
    user_agent: str | None,
    job_uuid: str | None,
    previous_hash: str | None,
) -> str:
    """The canonical JSON text that is hashed, from field values already in their hashed form
    (time as TIME_PATTERN text, details as canonical JSON). Members in JCS order (sorted
    names); test_chain_entry checks this equals canonical_json(hashed_fields())."""
    return (
        f'{{"action":{_q(action)},"actor":{_q(actor)},'
        f'"created_at":"{time_text}","description":{_q(description)},'
        f'"details":{details_json},"ip_address":{_o(ip_address)},'
        f'"job_uuid":{_o(job_uuid)},"previous_hash":{_o(previous_hash)},'
        f'"target_id":{_o(target_id)},"target_type":{_q(target_type)},'
        f'"user_agent":{_o(user_agent)},"uuid":{_q(uuid)},'
        f'"v":{CHAIN_FORMAT_VERSION}}}'
    )


def _check_details(details: object) -> None:
    if not isinstance(details, dict):
        raise ValueError(f"details must be a JSON object (dict), not {type(details).__name__}")
    try:
        scan_json_value(details, root="details")
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def _canonical_details(details: dict[str, Any]) -> str:
    """Checked again at each hashing, so a dict changed after construction cannot slip a float."""
    return canonical_json(details).decode("utf-8")


_q = encode_basestring
"""A JSON string literal; json's encoder escapes exactly as RFC 8785 §3.2.2.2 asks."""


def _o(text: str | None) -> str:
    return "null" if text is None else encode_basestring(text)
