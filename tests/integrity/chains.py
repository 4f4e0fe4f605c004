"""Builders of audit entries and chains for the integrity tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from edc.integrity.chain import ChainEntry, RecordRef

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

Item = tuple[ChainEntry, str, RecordRef]


def make_entry(number: int, previous_hash: str | None, *, forged: bool = False) -> ChainEntry:
    """A typical entry; `number` makes it unique, `forged` gives it a uuid no real entry has."""
    return ChainEntry(
        uuid=str(uuid.UUID(int=(1 << 100) + number if forged else number)),
        created_at=START + timedelta(seconds=number, microseconds=number),
        action="create",
        actor="forger" if forged else "system",
        target_type="artifact",
        target_id=None if number % 3 == 0 else str(uuid.UUID(int=(1 << 64) + number)),
        description=f"Artifact {number} stored for https://example.org/{number} — ✓",
        details={"artifact_type": "pdf", "size": 1000 + number, "tags": ["a", number]},
        ip_address="192.0.2.1" if number % 2 else None,
        user_agent=None,
        job_uuid=str(uuid.UUID(int=(1 << 80) + number)),
        previous_hash=previous_hash,
    )


def iter_chain(length: int) -> Iterator[Item]:
    """A valid chain, generated lazily; row ids are 1..length."""
    previous: str | None = None
    for number in range(length):
        entry = make_entry(number, previous)
        previous = entry.compute_hash()
        yield entry, previous, RecordRef(number + 1, entry.uuid)


def build_chain(length: int) -> list[Item]:
    return list(iter_chain(length))


def forge(number: int, previous_hash: str | None) -> Item:
    """An entry a forger adds: valid hash, linked to `previous_hash`, row id unknown."""
    entry = make_entry(number, previous_hash, forged=True)
    return entry, entry.compute_hash(), RecordRef(None, entry.uuid)


def rewrite(item: Item, *, rehash: bool, **changes: object) -> Item:
    """The same row with changed fields, its stored hash recomputed or left as it was."""
    entry, stored, ref = item
    changed = replace(entry, **changes)  # type: ignore[arg-type]
    return changed, changed.compute_hash() if rehash else stored, ref
