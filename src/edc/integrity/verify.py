"""Streaming verification of an audit hash chain, in bounded memory, naming the first bad entry.

Entries are checked in the order given (the chain order: ascending id). For entry j:

1. CONTENT_CHANGED at j if its stored entry_hash is not the hash of its stored fields.
2. Its previous_hash must equal the stored entry_hash of entry j-1 (null for the first entry).
   If not, the next WINDOW entries are read ahead and the first matching rule names it:
   a. previous_hash is the hash of one of those entries: ORDER_CHANGED at j;
   b. previous_hash is the hash of entry j-m, m >= 2 (null counts as the hash before the
      first entry): entries j-m+1 .. j-1 and entry j fork off the same predecessor. Entry j
      is the intruder (ENTRY_INSERTED at j) if an entry read ahead links to entry j-1, or if
      none links to entry j (a dead end, e.g. the last), none forks off that predecessor too
      and entry j is not the checkpoint's last entry; otherwise ENTRY_INSERTED at j-m+1, the
      first of the entries j skips;
   c. a following entry links to entry j-1 (skipping j): ENTRY_INSERTED at j;
   d. j is the first entry: FIRST_NOT_GENESIS at j (entries before it are missing);
   e. previous_hash is null: LINK_BROKEN at j (a second chain starts there);
   f. entry j+1 links to entry j, or j is the last: the chain is intact after j, so entry j-1
      or entries between j-1 and j were altered. If both ids are known and consecutive no row
      can be missing between them, so entry j-1 was rewritten with a recomputed hash:
      CONTENT_CHANGED at j-1; otherwise ENTRY_MISSING at j (entries were deleted before it);
   g. otherwise LINK_BROKEN at j (entry j was replaced: nothing links to it either).
3. Optionally TIME_ORDER at j if its created_at is earlier than entry j-1's.
4. With a checkpoint, only if the chain itself showed no problem: TAIL_MISSING at the entry
   at the checkpoint's last position (count - 1) if its stored entry_hash differs from the
   checkpoint's (the chain was cut back and extended), or at the last entry read (first_bad
   None if there is none) if fewer than `count` entries were read.

Only the first problem is reported; the rest of the input is still read to count it and to
report the head (count, last id, last stored hash) of the chain as read.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from itertools import islice
from typing import Any, Protocol

from edc.errors import InputError

__all__ = [
    "WINDOW",
    "Checkpoint",
    "HashedEntry",
    "Problem",
    "RecordRef",
    "VerifyResult",
    "verify_chain",
]

WINDOW = 32
"""Entries kept behind and read ahead to classify a broken link; memory use is O(WINDOW)."""

_HASH_PATTERN = re.compile(r"[0-9a-f]{64}", re.ASCII)


class Problem(Enum):
    """Why an audit chain failed verification."""

    CONTENT_CHANGED = "content_changed"
    LINK_BROKEN = "link_broken"
    ENTRY_MISSING = "entry_missing"
    ENTRY_INSERTED = "entry_inserted"
    ORDER_CHANGED = "order_changed"
    FIRST_NOT_GENESIS = "first_not_genesis"
    TAIL_MISSING = "tail_missing"
    TIME_ORDER = "time_order"


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Which stored row an entry came from: database id (None outside a database) and uuid."""

    id: int | None
    uuid: str

    def __str__(self) -> str:
        return f"uuid {self.uuid}" if self.id is None else f"id {self.id} (uuid {self.uuid})"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Entry count and last entry's id and stored hash, kept outside the database.

    A hash chain cannot reveal a removed tail by itself; a checkpoint taken earlier can. The
    hash decides; `last_id` is there for people to find the row.
    """

    count: int
    last_id: int | None
    last_hash: str | None

    def to_json(self) -> str:
        """One line of JSON: `{"count": 3, "last_id": 7, "last_hash": "..."}`."""
        return json.dumps(
            {"count": self.count, "last_id": self.last_id, "last_hash": self.last_hash}
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Checkpoint:
        """Parse what to_json wrote, strictly; anything else is an InputError saying what."""
        try:
            data = json.loads(text, object_pairs_hook=_unique_members)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"checkpoint is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InputError(f"checkpoint must be a JSON object, not {type(data).__name__}")
        expected = {"count", "last_id", "last_hash"}
        if missing := sorted(expected - data.keys()):
            raise InputError(f"checkpoint lacks {', '.join(missing)}")
        if unknown := sorted(data.keys() - expected):
            raise InputError(f"checkpoint has unknown member {', '.join(unknown)}")
        count, last_id, last_hash = data["count"], data["last_id"], data["last_hash"]
        if not _is_int(count) or count < 0:
            raise InputError(f"checkpoint count must be a non-negative integer, not {count!r}")
        if last_id is not None and not _is_int(last_id):
            raise InputError(f"checkpoint last_id must be an integer or null, not {last_id!r}")
        if last_hash is not None and not (
            isinstance(last_hash, str) and _HASH_PATTERN.fullmatch(last_hash)
        ):
            raise InputError(
                f"checkpoint last_hash must be 64 lower-case hex digits or null, not {last_hash!r}"
            )
        if (count == 0) != (last_hash is None) or (count == 0 and last_id is not None):
            raise InputError(
                "checkpoint last_id and last_hash must be null exactly when count is 0"
            )
        return cls(count=count, last_id=last_id, last_hash=last_hash)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of verify_chain: the first problem found, if any, and the head as read."""

    ok: bool
    entries_checked: int
    first_bad: RecordRef | None
    problem: Problem | None
    message: str
    head: Checkpoint


@dataclass(frozen=True, slots=True)
class _Finding:
    problem: Problem
    ref: RecordRef | None
    message: str


class HashedEntry(Protocol):
    """What verify_chain needs of an entry: ChainEntry, or a stored row hashed on demand."""

    @property
    def previous_hash(self) -> str | None: ...

    @property
    def created_at(self) -> datetime: ...

    def compute_hash(self) -> str: ...


_Item = tuple[HashedEntry, str, RecordRef]
_GENESIS: tuple[str | None, RecordRef | None] = (None, None)
"""The virtual entry before the first: its "hash" is the genesis previous_hash, null."""


def verify_chain(
    entries: Iterable[_Item],
    checkpoint: Checkpoint | None = None,
    *,
    check_time_order: bool = False,
) -> VerifyResult:
    """Check `(entry, stored entry_hash, row)` triples in chain order by the rules of this module.

    Entries that cannot be built as ChainEntry (ValueError) cannot have been written by edc;
    the caller reports such a row as CONTENT_CHANGED.
    """
    stream: Iterator[_Item] = iter(entries)
    behind: deque[tuple[str | None, RecordRef | None]] = deque([_GENESIS], maxlen=WINDOW + 1)
    finding: _Finding | None = None
    tail_finding: _Finding | None = None
    count = 0
    last: _Item | None = None
    previous_time: datetime | None = None
    for item in stream:
        entry, stored, ref = item
        count += 1
        last = item
        if entry.compute_hash() != stored:
            finding = _content_changed(ref)
        elif entry.previous_hash != behind[-1][0]:
            ahead = list(islice(stream, WINDOW))
            trusted = None if checkpoint is None else checkpoint.last_hash
            finding = _classify_link(item, behind, ahead, trusted)
            count += len(ahead)
            last = ahead[-1] if ahead else last
        elif check_time_order and previous_time is not None and entry.created_at < previous_time:
            finding = _Finding(
                Problem.TIME_ORDER,
                ref,
                f"Entry {ref} was created before the entry preceding it in the chain.",
            )
        if finding is not None:
            break
        if checkpoint is not None and count == checkpoint.count:
            tail_finding = _check_checkpoint(item, checkpoint)
        behind.append((stored, ref))
        if check_time_order:
            previous_time = entry.created_at
    if finding is None and checkpoint is not None and count < checkpoint.count:
        tail_finding = _tail_missing(last, count, checkpoint)
    finding = finding or tail_finding
    for item in stream:
        count += 1
        last = item
    head = Checkpoint(
        count=count,
        last_id=None if last is None else last[2].id,
        last_hash=None if last is None else last[1],
    )
    if finding is None:
        message = f"All {count} audit entries verified: the chain is intact"
        if checkpoint is not None:
            message += f" and holds the checkpoint's {checkpoint.count}"
        message += "."
        return VerifyResult(True, count, None, None, message, head)
    return VerifyResult(False, count, finding.ref, finding.problem, finding.message, head)


def _content_changed(ref: RecordRef) -> _Finding:
    return _Finding(
        Problem.CONTENT_CHANGED,
        ref,
        f"Entry {ref} does not match its stored entry_hash: "
        "its content or hash was changed after it was written.",
    )


def _classify_link(
    item: _Item,
    behind: deque[tuple[str | None, RecordRef | None]],
    ahead: list[_Item],
    trusted: str | None,
) -> _Finding:
    """Name the problem when entry j's previous_hash is not entry j-1's hash (rules 2a-2g)."""
    entry, stored, ref = item
    link = entry.previous_hash
    before_hash, before_ref = behind[-1]
    if link is not None and any(later_hash == link for _, later_hash, _ in ahead):
        return _Finding(
            Problem.ORDER_CHANGED,
            ref,
            f"Entry {ref} comes before the entry it links to: the entries are out of order.",
        )
    continues_before = any(later.previous_hash == before_hash for later, _, _ in ahead)
    for distance in range(2, len(behind) + 1):
        if behind[-distance][0] == link:
            if continues_before:
                return _inserted(ref, "the chain goes on from the entry before it")
            sibling_ahead = any(later.previous_hash == link for later, _, _ in ahead)
            dead_end = not any(later.previous_hash == stored for later, _, _ in ahead)
            if dead_end and not sibling_ahead and stored != trusted:
                return _inserted(ref, "it forks off an earlier entry and nothing links to it")
            first_skipped = behind[-distance + 1][1]
            assert first_skipped is not None  # the genesis is never skipped
            after = distance - 2
            others = (
                "" if not after else f" and {after} entr{'y' if after == 1 else 'ies'} after it"
            )
            return _inserted(first_skipped, f"entry {ref} links past it{others}")
    if continues_before:
        return _inserted(ref, "the chain goes on from the entry before it")
    if before_ref is None:
        return _Finding(
            Problem.FIRST_NOT_GENESIS,
            ref,
            f"The first entry, {ref}, links to a predecessor: entries before it are missing.",
        )
    if link is None:
        return _Finding(
            Problem.LINK_BROKEN,
            ref,
            f"Entry {ref} has no predecessor but is not the first entry: a second chain starts.",
        )
    if not ahead or ahead[0][0].previous_hash == stored:
        if _consecutive(before_ref, ref):
            return _Finding(
                Problem.CONTENT_CHANGED,
                before_ref,
                f"Entry {before_ref} was rewritten with a recomputed hash: "
                f"its successor {ref} links to a different one.",
            )
        return _Finding(
            Problem.ENTRY_MISSING,
            ref,
            f"Entry {ref} links to an entry that is not in the chain: "
            f"entries between {before_ref} and it are missing.",
        )
    return _Finding(
        Problem.LINK_BROKEN,
        ref,
        f"Entry {ref} links neither to the entry before it nor is linked by the entry after it: "
        "it was replaced.",
    )


def _inserted(ref: RecordRef, why: str) -> _Finding:
    return _Finding(
        Problem.ENTRY_INSERTED,
        ref,
        f"Entry {ref} does not belong in the chain: {why}.",
    )


def _consecutive(before: RecordRef, after: RecordRef) -> bool:
    return before.id is not None and after.id is not None and after.id == before.id + 1


def _check_checkpoint(item: _Item, checkpoint: Checkpoint) -> _Finding | None:
    _, stored, ref = item
    if stored == checkpoint.last_hash:
        return None
    return _Finding(
        Problem.TAIL_MISSING,
        ref,
        f"Entry {ref}, number {checkpoint.count} in the chain, is not the checkpoint's last entry: "
        "the chain was cut back and extended since the checkpoint.",
    )


def _tail_missing(last: _Item | None, count: int, checkpoint: Checkpoint) -> _Finding:
    ref = None if last is None else last[2]
    after = "" if ref is None else f" after entry {ref}"
    return _Finding(
        Problem.TAIL_MISSING,
        ref,
        f"The chain has {count} entries but the checkpoint counts {checkpoint.count}: "
        f"the last {checkpoint.count - count} are missing{after}.",
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise InputError(f"checkpoint has member {name!r} twice")
        result[name] = value
    return result
