"""Audit-log rows for bulk appends: chained and hashed exactly as `AuditLogRepository.append`
links one entry, in the stored form `edc.db.bulk.BulkWriter` inserts.

Every entry of one call shares one `created_at` (one clock read, one formatted time); each gets
its own uuid7, in order, and names its predecessor's hash.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from edc.db.bulk import StoredForms
from edc.db.ids import new_uuids
from edc.integrity.chain import ChainEntry

AUDIT_COLUMNS = (
    "uuid", "created_at", "updated_at", "job_uuid", "action", "actor", "target_type",
    "target_id", "description", "details", "ip_address", "user_agent", "previous_hash",
    "entry_hash", "job_id",
)  # fmt: skip
"""Column order of the rows `chain_rows` makes: `job_id` last, so it can be filled in later."""
PREVIOUS_HASH = AUDIT_COLUMNS.index("previous_hash")


class EntryFields(NamedTuple):
    """What one bulk entry says; time, actor, uuid and the chain links are added when chained."""

    action: str
    target_type: str
    description: str
    target_id: str | None
    job_id: int | None
    job_uuid: str | None
    details: dict[str, Any]


class Actor(NamedTuple):
    """Who is acting, as recorded on every entry of a bulk append."""

    actor: str
    ip_address: str | None
    user_agent: str | None


def chain_rows(
    entries: Iterable[EntryFields],
    tip: str | None,
    actor: Actor,
    now: datetime,
    forms: StoredForms,
) -> tuple[list[tuple[Any, ...]], str | None]:
    """The rows (AUDIT_COLUMNS order) of `entries` chained after `tip`, and the new tip."""
    items = entries if isinstance(entries, list) else list(entries)
    uuids = new_uuids(len(items))
    stored_now = forms.time(now)
    name, ip_address, user_agent = actor
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for entry_uuid, fields in zip(uuids, items, strict=True):
        action, target_type, description, target_id, job_id, job_uuid, details = fields
        entry = ChainEntry(
            entry_uuid, now, action, name, target_type, target_id, description, details,
            ip_address, user_agent, job_uuid, tip,
        )  # fmt: skip
        # `details` is stored as the canonical text that was hashed, like every audit writer.
        previous = tip
        tip, details_json = entry.hash_and_details_json()
        append(
            (
                entry_uuid, stored_now, stored_now, entry.job_uuid, entry.action, name,
                target_type, target_id, description, details_json,
                ip_address, user_agent,
                previous, tip, job_id,
            )
        )  # fmt: skip
    return rows, tip


def with_ids(rows: list[tuple[Any, ...]], ids: list[int]) -> list[tuple[Any, ...]]:
    """`rows` with their last value (an id not known when they were made) replaced by `ids`."""
    return [(*row[:-1], row_id) for row, row_id in zip(rows, ids, strict=True)]
