"""ChainEntry: time format, validation, canonical bytes against canonical_json, export records."""

from __future__ import annotations

import enum
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edc.integrity.canonical import MAX_SAFE_INTEGER, _encode, canonical_json
from edc.integrity.chain import (
    CHAIN_FORMAT_VERSION,
    GENESIS_PREVIOUS_HASH,
    HASHED_FIELDS,
    ChainEntry,
    format_time,
    parse_time,
)

from .chains import make_entry


class Action(enum.StrEnum):
    CREATE = "create"


def fields(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uuid": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "created_at": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        "action": "create",
        "actor": "system",
        "target_type": "job",
        "target_id": None,
        "description": "created",
        "details": {},
        "ip_address": None,
        "user_agent": None,
        "job_uuid": None,
        "previous_hash": None,
    }
    return base | changes


def test_format_time_is_utc_with_six_digits_and_z() -> None:
    plus_two = timezone(timedelta(hours=2))

    assert format_time(datetime(2024, 5, 1, 12, 0, tzinfo=UTC)) == "2024-05-01T12:00:00.000000Z"
    assert format_time(datetime(2024, 5, 1, 1, 2, 3, 4, tzinfo=plus_two)) == (
        "2024-04-30T23:02:03.000004Z"
    )
    assert format_time(
        datetime(999, 1, 2, 3, 4, 5, 999999, tzinfo=timezone(timedelta(0), "Z"))
    ) == ("0999-01-02T03:04:05.999999Z")


def test_format_time_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2024, 5, 1, 12, 0))


def test_parse_time_is_the_strict_inverse() -> None:
    moment = datetime(2024, 5, 1, 12, 0, 0, 7, tzinfo=UTC)

    assert parse_time(format_time(moment)) == moment
    assert parse_time(format_time(moment)).tzinfo is UTC
    for bad in [
        "2024-05-01T12:00:00Z",
        "2024-05-01 12:00:00.000000Z",
        "2024-05-01T12:00:00.0+00:00",
    ]:
        with pytest.raises(ValueError, match="YYYY"):
            parse_time(bad)


def test_genesis_and_field_list() -> None:
    assert GENESIS_PREVIOUS_HASH is None
    assert set(HASHED_FIELDS) == set(ChainEntry(**fields()).hashed_fields())
    assert {"id", "job_id", "updated_at", "entry_hash"}.isdisjoint(HASHED_FIELDS)
    assert ChainEntry(**fields()).hashed_fields()["v"] == CHAIN_FORMAT_VERSION == 1


def test_uuid_and_enum_values_are_normalised() -> None:
    entry = ChainEntry(
        **fields(
            uuid=uuid.UUID("7C9E6679-7425-40DE-944B-E07FC1F90AE7"),
            job_uuid=uuid.UUID(int=1),
            action=Action.CREATE,
        )
    )

    assert entry.uuid == "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    assert entry.job_uuid == "00000000-0000-0000-0000-000000000001"
    assert entry.action == "create"
    assert type(entry.action) is str
    assert entry.compute_hash() == ChainEntry(**fields(job_uuid=entry.job_uuid)).compute_hash()


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"uuid": 5}, "uuid must be a string"),
        ({"actor": None}, "actor must be a string"),
        ({"target_id": 7}, "target_id must be a string or None"),
        ({"created_at": "2024-05-01T12:00:00.000000Z"}, "created_at must be a datetime"),
    ],
)
def test_wrong_field_types_are_type_errors(changes: dict[str, Any], complaint: str) -> None:
    with pytest.raises(TypeError, match=complaint):
        ChainEntry(**fields(**changes))


@pytest.mark.parametrize(
    ("details", "complaint"),
    [
        ({"a": {"b": [1, 2.5]}}, r'float 2.5 is not allowed .* at details\["a"\]\["b"\]\[1\]$'),
        ({"a": object()}, r'type object is not JSON at details\["a"\]$'),
        ({"a": 2**60}, r'outside .* at details\["a"\]$'),
        ({"a": {3: "x"}}, r'not a string at details\["a"\]$'),
        (None, "details must be a JSON object"),
        ([1], "details must be a JSON object"),
    ],
)
def test_bad_details_are_value_errors_naming_the_key(details: Any, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        ChainEntry(**fields(details=details))


def test_naive_created_at_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="naive"):
        ChainEntry(**fields(created_at=datetime(2024, 5, 1)))


def test_lone_surrogate_in_text_is_a_value_error() -> None:
    entry = ChainEntry(**fields(description="bad \ud800"))

    with pytest.raises(ValueError, match="not valid Unicode"):
        entry.compute_hash()


def test_details_changed_after_construction_are_checked_when_hashing() -> None:
    entry = ChainEntry(**fields(details={"a": 1}))
    entry.details["b"] = 0.5

    with pytest.raises(TypeError, match="float"):
        entry.compute_hash()


def test_entry_is_frozen() -> None:
    entry = ChainEntry(**fields())

    with pytest.raises(AttributeError):
        entry.actor = "other"  # type: ignore[misc]


def test_every_hashed_field_changes_the_hash() -> None:
    entry = make_entry(4, "a" * 64)
    changes: dict[str, Any] = {
        "uuid": "other",
        "created_at": entry.created_at + timedelta(microseconds=1),
        "action": "read",
        "actor": "someone",
        "target_type": "job",
        "target_id": "x",
        "description": entry.description + " ",
        "details": {**entry.details, "size": 0},
        "ip_address": "198.51.100.1",
        "user_agent": "curl",
        "job_uuid": None,
        "previous_hash": "b" * 64,
    }

    hashes = {replace(entry, **{name: value}).compute_hash() for name, value in changes.items()}

    assert len(hashes | {entry.compute_hash()}) == len(changes) + 1


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    entry = make_entry(3, None)
    elsewhere = entry.created_at.astimezone(timezone(timedelta(hours=-5)))

    assert replace(entry, created_at=elsewhere).compute_hash() == entry.compute_hash()


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
_OPTIONAL_TEXT = st.none() | _TEXT
_DETAILS = st.dictionaries(
    _TEXT,
    st.recursive(
        st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | _TEXT,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3)
        ),
        max_leaves=10,
    ),
    max_size=5,
)
_ENTRIES = st.builds(
    ChainEntry,
    uuid=_TEXT,
    created_at=st.datetimes(timezones=st.timezones(), allow_imaginary=False).filter(
        lambda moment: moment.utcoffset() is not None and 2 <= moment.year <= 9998
    ),
    action=_TEXT,
    actor=_TEXT,
    target_type=_TEXT,
    target_id=_OPTIONAL_TEXT,
    description=_TEXT,
    details=_DETAILS,
    ip_address=_OPTIONAL_TEXT,
    user_agent=_OPTIONAL_TEXT,
    job_uuid=_OPTIONAL_TEXT,
    previous_hash=_OPTIONAL_TEXT,
)


@settings(max_examples=300, deadline=None)
@given(_ENTRIES)
def test_canonical_bytes_are_rfc8785_of_the_hashed_fields(entry: ChainEntry) -> None:
    hashed = entry.hashed_fields()

    assert entry.canonical_bytes() == canonical_json(hashed) == _encode(hashed).encode()
    assert json.loads(entry.canonical_bytes()) == hashed


@settings(max_examples=100, deadline=None)
@given(_ENTRIES)
def test_export_record_round_trips(entry: ChainEntry) -> None:
    record = json.loads(json.dumps(entry.to_export_dict()))

    restored, stored = ChainEntry.from_export_dict(record)

    assert stored == entry.compute_hash()
    assert restored.compute_hash() == stored
    assert restored.created_at == entry.created_at


def test_export_record_carries_the_stored_hash_when_given() -> None:
    record = make_entry(1, None).to_export_dict("f" * 64)

    assert record["entry_hash"] == "f" * 64
    assert list(record) == [*HASHED_FIELDS, "entry_hash"]


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"id": 7}, "unknown fields"),
        ({"v": 2}, "format version 2"),
        ({"v": True}, "format version True"),
        ({"entry_hash": None}, "entry_hash must be a string"),
        ({"created_at": "2024-05-01"}, "YYYY"),
        ({"actor": 3}, "actor must be a string"),
        ({"details": {"a": 0.5}}, "float"),
    ],
)
def test_malformed_export_records_are_value_errors(changes: dict[str, Any], complaint: str) -> None:
    record = make_entry(1, None).to_export_dict() | changes

    with pytest.raises(ValueError, match=complaint):
        ChainEntry.from_export_dict(record)


def test_export_record_missing_a_field_is_a_value_error() -> None:
    record = make_entry(1, None).to_export_dict()
    del record["user_agent"]

    with pytest.raises(ValueError, match=r"missing fields \['user_agent'\]"):
        ChainEntry.from_export_dict(record)
