"""stored_entry_hash, the fast path of verification, agrees with ChainEntry on every input:
it gives the same hash, or None (the caller then takes ChainEntry's path)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edc.integrity.chain import ChainEntry
from edc.integrity.stored import stored_entry_hash

from .test_chain_entry import _ENTRIES, fields


def _hash(entry: ChainEntry, details_json: str) -> str | None:
    return stored_entry_hash(
        entry.uuid, entry.time_text, entry.action, entry.actor, entry.target_type,
        entry.target_id, entry.description, details_json, entry.ip_address, entry.user_agent,
        entry.job_uuid, entry.previous_hash,
    )  # fmt: skip


def _stored_forms(details: dict[str, Any]) -> list[str]:
    """The texts a database may hold for `details`: compact, spaced, escaped, reordered."""
    return [
        json.dumps(details),
        json.dumps(details, ensure_ascii=False, separators=(",", ":")),
        json.dumps(details, sort_keys=True),
        json.dumps(dict(reversed(list(details.items())))),
    ]


@settings(max_examples=300, deadline=None)
@given(_ENTRIES)
def test_same_hash_as_chain_entry_or_none(entry: ChainEntry) -> None:
    expected = entry.compute_hash()
    for text in _stored_forms(entry.details):
        assert _hash(entry, text) in (expected, None)


def test_common_entries_take_the_fast_path() -> None:
    entry = ChainEntry(**fields(details={"n": 7, "url": "https://example.org/", "ok": True}))
    for text in _stored_forms(entry.details):
        assert _hash(entry, text) == entry.compute_hash()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_details_text_is_hashed_as_chain_entry_would_or_left_alone(text: str) -> None:
    entry = ChainEntry(**fields())
    fast = _hash(entry, text)
    if fast is None:
        return
    details = json.loads(text)  # the fast path only accepts what the general path reads
    assert fast == ChainEntry(**fields(details=details)).compute_hash()


def test_what_the_general_path_refuses_is_left_to_it() -> None:
    entry = ChainEntry(**fields())
    refused = [
        '{"a": 1.5}', '{"a": 1e3}', '{"a": NaN}', '{"a": Infinity}', '{"a": 9007199254740992}',
        '{"a": -9007199254740992}', "[1]", '"text"', '{"a": 1} ', ' {"a": 1}', '{"a": 1}x',
        '{"\\ud800": 1}', "{", "",
    ]  # fmt: skip
    for text in refused:
        assert _hash(entry, text) is None, text
    names = ChainEntry(**fields(details={"\U0001f600": 1, "\uffff": 2}))  # UTF-16 order differs
    assert _hash(names, '{"\\ud83d\\ude00": 1, "\\uffff": 2}') == names.compute_hash()
    assert _hash(names, '{"\U0001f600": 1, "\uffff": 2}') == names.compute_hash()
    assert _hash(entry, b"{}") is None  # type: ignore[arg-type]
    args = dict(entry=entry, details_json="{}")
    assert _hash(**args) == entry.compute_hash()
    for name in ("uuid", "actor", "target_type", "description", "target_id", "previous_hash"):
        values = [entry.uuid, entry.time_text, entry.action, entry.actor, entry.target_type,
                  entry.target_id, entry.description, "{}", entry.ip_address, entry.user_agent,
                  entry.job_uuid, entry.previous_hash]  # fmt: skip
        position = {"uuid": 0, "actor": 3, "target_type": 4, "target_id": 5,
                    "description": 6, "previous_hash": 11}[name]  # fmt: skip
        values[position] = 5
        assert stored_entry_hash(*values) is None, name
