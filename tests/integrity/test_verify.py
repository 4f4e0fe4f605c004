"""verify_chain: an intact chain passes; each kind of tampering is named at the right entry.

"The right entry" for each manipulation of a chain E0..E49 (row ids 1..50):
- a field of Ek changed, hash not recomputed: CONTENT_CHANGED at Ek;
- a field of Ek changed and its hash recomputed: CONTENT_CHANGED at Ek, found because E(k+1)
  no longer links to it and the row ids around it leave no room for a deleted row;
- Ek deleted: ENTRY_MISSING at E(k+1), the entry that links into the gap; E0 deleted:
  FIRST_NOT_GENESIS at E1;
- a forged entry with a valid hash inserted before Ek: ENTRY_INSERTED at the forged entry;
- Ek and E(k+1) swapped: ORDER_CHANGED at E(k+1), the first entry read out of place;
- the last t entries removed, checked against a checkpoint: TAIL_MISSING at the new last entry;
- created_at of Ek moved by 1 microsecond: CONTENT_CHANGED at Ek.
"""

from __future__ import annotations

import tracemalloc
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edc.errors import InputError
from edc.integrity.chain import (
    WINDOW,
    Checkpoint,
    Problem,
    RecordRef,
    VerifyResult,
    verify_chain,
)

from .chains import Item, build_chain, forge, iter_chain, make_entry, rewrite
from .support import run_python

LENGTH = 50


@pytest.fixture(scope="module")
def chain() -> list[Item]:
    return build_chain(LENGTH)


def checkpoint_of(items: list[Item]) -> Checkpoint:
    return Checkpoint(count=len(items), last_id=items[-1][2].id, last_hash=items[-1][1])


def assert_bad(result: VerifyResult, problem: Problem, ref: RecordRef | None) -> None:
    assert not result.ok
    assert result.problem is problem, result.message
    assert result.first_bad == ref, result.message
    if ref is not None:
        assert ref.uuid in result.message
        assert f"id {ref.id}" in result.message or ref.id is None


def test_intact_chain_verifies(chain: list[Item]) -> None:
    result = verify_chain(chain, checkpoint_of(chain))

    assert result.ok
    assert result.entries_checked == LENGTH
    assert result.first_bad is None
    assert result.problem is None
    assert result.message == (
        "All 50 audit entries verified: the chain is intact and holds the checkpoint's 50."
    )
    assert result.head == checkpoint_of(chain)


def test_empty_chain_verifies() -> None:
    result = verify_chain([], Checkpoint(0, None, None))

    assert result.ok
    assert result.head == Checkpoint(0, None, None)


@pytest.mark.parametrize("k", [0, 1, 17, LENGTH - 1])
def test_changed_field_is_content_changed(chain: list[Item], k: int) -> None:
    items = list(chain)
    items[k] = rewrite(items[k], rehash=False, description="altered")

    assert_bad(verify_chain(items), Problem.CONTENT_CHANGED, items[k][2])


@pytest.mark.parametrize("k", [0, 17, LENGTH - 2])
def test_changed_field_with_recomputed_hash_is_content_changed(chain: list[Item], k: int) -> None:
    items = list(chain)
    items[k] = rewrite(items[k], rehash=True, actor="someone else")

    assert_bad(verify_chain(items), Problem.CONTENT_CHANGED, items[k][2])


def test_changed_stored_hash_is_content_changed(chain: list[Item]) -> None:
    items = list(chain)
    entry, _, ref = items[9]
    items[9] = (entry, "0" * 64, ref)

    assert_bad(verify_chain(items), Problem.CONTENT_CHANGED, ref)


@pytest.mark.parametrize("k", [1, 17, LENGTH - 2])
def test_timestamp_moved_one_microsecond_is_content_changed(chain: list[Item], k: int) -> None:
    items = list(chain)
    items[k] = rewrite(
        items[k], rehash=False, created_at=items[k][0].created_at + timedelta(microseconds=1)
    )

    assert_bad(verify_chain(items), Problem.CONTENT_CHANGED, items[k][2])


@pytest.mark.parametrize("k", [1, 17, LENGTH - 2])
def test_deleted_entry_is_missing_before_its_successor(chain: list[Item], k: int) -> None:
    items = chain[:k] + chain[k + 1 :]

    result = verify_chain(items)

    assert_bad(result, Problem.ENTRY_MISSING, chain[k + 1][2])
    assert result.entries_checked == LENGTH - 1
    assert result.head == checkpoint_of(items)


def test_deleted_run_of_entries_is_missing(chain: list[Item]) -> None:
    items = chain[:10] + chain[15:]

    assert_bad(verify_chain(items), Problem.ENTRY_MISSING, chain[15][2])


def test_deleted_first_entry_is_first_not_genesis(chain: list[Item]) -> None:
    assert_bad(verify_chain(chain[1:]), Problem.FIRST_NOT_GENESIS, chain[1][2])


@pytest.mark.parametrize("k", [1, 17, LENGTH - 2])
def test_forged_entry_is_inserted(chain: list[Item], k: int) -> None:
    forged = forge(1000, chain[k - 1][1])
    items = [*chain[:k], forged, *chain[k:]]

    assert_bad(verify_chain(items), Problem.ENTRY_INSERTED, forged[2])


def test_forged_entry_linking_nowhere_is_inserted(chain: list[Item]) -> None:
    forged = forge(1000, "f" * 64)
    items = [*chain[:20], forged, *chain[20:]]

    assert_bad(verify_chain(items), Problem.ENTRY_INSERTED, forged[2])


def test_forged_entry_forking_off_an_older_entry_is_inserted(chain: list[Item]) -> None:
    forged = forge(1000, chain[8][1])
    items = [*chain[:10], forged, *chain[10:]]

    assert_bad(verify_chain(items), Problem.ENTRY_INSERTED, forged[2])


def test_forged_genesis_before_the_first_entry_is_inserted(chain: list[Item]) -> None:
    forged = forge(1000, None)
    items = [forged, *chain]

    assert_bad(verify_chain(items), Problem.ENTRY_INSERTED, forged[2])


def test_two_forged_genesis_entries_name_the_first(chain: list[Item]) -> None:
    first, second = forge(1000, None), forge(1001, None)

    assert_bad(verify_chain([first, second, *chain]), Problem.ENTRY_INSERTED, first[2])


def test_forged_run_before_the_chain_is_inserted(chain: list[Item]) -> None:
    first = forge(1000, None)
    second = forge(1001, first[1])
    items = [first, second, *chain]

    result = verify_chain(items)

    assert_bad(result, Problem.ENTRY_INSERTED, first[2])
    assert "links past it and 1 entry after it." in result.message


def test_forged_sibling_of_the_last_entry_is_inserted(chain: list[Item]) -> None:
    """Two entries link to E29 and nothing follows: the later one read is named."""
    forged = forge(1000, chain[29][1])
    items = [*chain[:31], forged]

    assert_bad(verify_chain(items), Problem.ENTRY_INSERTED, forged[2])


@pytest.mark.parametrize("k", [0, 1, 17, LENGTH - 2])
def test_swapped_entries_are_out_of_order(chain: list[Item], k: int) -> None:
    items = list(chain)
    items[k], items[k + 1] = items[k + 1], items[k]

    assert_bad(verify_chain(items), Problem.ORDER_CHANGED, chain[k + 1][2])


@pytest.mark.parametrize("removed", [1, 5, LENGTH])
def test_removed_tail_is_found_with_a_checkpoint(chain: list[Item], removed: int) -> None:
    items = chain[: LENGTH - removed]

    assert verify_chain(items).ok  # a hash chain alone cannot tell
    result = verify_chain(items, checkpoint_of(chain))

    assert_bad(result, Problem.TAIL_MISSING, items[-1][2] if items else None)
    assert f"the last {removed}" in result.message


def test_cut_and_extended_chain_fails_the_checkpoint(chain: list[Item]) -> None:
    items = [*chain[:40], forge(1000, chain[39][1])]
    result = verify_chain(items, checkpoint_of(chain[:41]))

    assert_bad(result, Problem.TAIL_MISSING, items[40][2])


def test_chain_grown_after_the_checkpoint_verifies(chain: list[Item]) -> None:
    assert verify_chain(chain, checkpoint_of(chain[:30])).ok


def test_second_genesis_breaks_the_link(chain: list[Item]) -> None:
    genesis = forge(1000, None)
    items = [*chain[: WINDOW + 5], genesis, forge(1001, genesis[1])]

    assert_bad(verify_chain(items), Problem.LINK_BROKEN, genesis[2])


def test_replaced_entry_breaks_the_link(chain: list[Item]) -> None:
    items = list(chain)
    items[20] = forge(1000, "e" * 64)

    assert_bad(verify_chain(items), Problem.LINK_BROKEN, items[20][2])


def test_deleted_entry_without_ids_is_missing(chain: list[Item]) -> None:
    items = [(entry, stored, RecordRef(None, ref.uuid)) for entry, stored, ref in chain]
    items[10] = rewrite(items[10], rehash=True, description="rewritten")

    assert_bad(verify_chain(items), Problem.ENTRY_MISSING, items[11][2])


def test_time_order_is_checked_on_request() -> None:
    first = make_entry(5, None)
    second = make_entry(4, first.compute_hash())
    items = [
        (first, first.compute_hash(), RecordRef(1, first.uuid)),
        (second, second.compute_hash(), RecordRef(2, second.uuid)),
    ]

    assert verify_chain(items).ok
    assert_bad(verify_chain(items, check_time_order=True), Problem.TIME_ORDER, items[1][2])


def test_first_problem_is_reported_and_the_rest_counted(chain: list[Item]) -> None:
    items = list(chain)
    items[5] = rewrite(items[5], rehash=False, actor="x")
    items[30] = rewrite(items[30], rehash=False, actor="y")

    result = verify_chain(items, checkpoint_of(chain))

    assert_bad(result, Problem.CONTENT_CHANGED, items[5][2])
    assert result.entries_checked == LENGTH
    assert result.head == checkpoint_of(chain)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["delete", "insert", "swap", "modify", "rehash", "time"]),
    st.integers(3, 60),
    st.integers(0, 10_000),
)
def test_one_manipulation_is_named_as_documented(kind: str, length: int, where: int) -> None:
    original = build_chain(length)
    items = list(original)
    k = where % (length - 1) if kind == "swap" else where % length
    last = k == length - 1
    expected: tuple[Problem, RecordRef]
    if kind == "delete":
        del items[k]
        if k == 0:
            expected = (Problem.FIRST_NOT_GENESIS, original[1][2])
        elif last:
            expected = (Problem.TAIL_MISSING, original[k - 1][2])
        else:
            expected = (Problem.ENTRY_MISSING, original[k + 1][2])
    elif kind == "insert":
        items.insert(k, forge(10_000, original[k - 1][1] if k else None))
        expected = (Problem.ENTRY_INSERTED, items[k][2])
    elif kind == "swap":
        items[k], items[k + 1] = items[k + 1], items[k]
        expected = (Problem.ORDER_CHANGED, original[k + 1][2])
    elif kind == "rehash" and last:
        items[k] = rewrite(items[k], rehash=True, actor="x")
        expected = (Problem.TAIL_MISSING, original[k][2])
    else:
        moved = items[k][0].created_at + timedelta(microseconds=1)
        changes = {"created_at": moved} if kind == "time" else {"actor": "x"}
        items[k] = rewrite(items[k], rehash=kind == "rehash", **changes)
        expected = (Problem.CONTENT_CHANGED, original[k][2])

    result = verify_chain(items, checkpoint_of(original))

    assert (result.problem, result.first_bad) == expected, result.message


_MANIPULATION = st.tuples(
    st.sampled_from(["delete", "insert", "swap", "modify", "rehash"]), st.integers(0, 10_000)
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_MANIPULATION, min_size=1, max_size=6), st.integers(2, 40))
def test_no_manipulation_goes_undetected(manipulations: list[tuple[str, int]], length: int) -> None:
    original = build_chain(length)
    items = list(original)
    for forged_number, (kind, where) in enumerate(manipulations, start=10_000):
        if not items:
            break
        k = where % len(items)
        if kind == "delete":
            del items[k]
        elif kind == "insert":
            # Before an existing entry: appending at the end is what the application does.
            items.insert(k, forge(forged_number, items[k - 1][1] if k else None))
        elif kind == "swap" and len(items) > 1:
            k = min(k, len(items) - 2)
            items[k], items[k + 1] = items[k + 1], items[k]
        elif kind in ("modify", "rehash"):
            items[k] = rewrite(items[k], rehash=kind == "rehash", description=f"x{forged_number}")

    result = verify_chain(items, checkpoint_of(original))

    if items == original or _appended_to(original, items):
        assert result.ok  # e.g. swaps that undo each other; a forgery moved to the very end
    else:
        assert not result.ok
        assert result.problem is not None
        assert result.first_bad is not None or result.problem is Problem.TAIL_MISSING


def _appended_to(original: list[Item], items: list[Item]) -> bool:
    """True if `items` is `original` plus correctly linked entries after its tip: what a
    legitimate append makes, so no verifier can (or should) object."""
    if items[: len(original)] != original:
        return False
    tip = original[-1][1] if original else None
    for entry, stored_hash, _ in items[len(original) :]:
        if entry.previous_hash != tip or entry.compute_hash() != stored_hash:
            return False
        tip = stored_hash
    return True


def test_manipulations_that_only_append_are_not_reported() -> None:
    """The example Hypothesis found: swaps that move a forged entry, linked to the last
    entry, to the end of the chain; the result is a valid chain that extends the checkpoint."""
    original = build_chain(2)
    forged = forge(10_000, original[1][1])
    items = [*original, forged]
    assert _appended_to(original, items)
    assert verify_chain(items, checkpoint_of(original)).ok


def test_long_chain_verifies_in_bounded_memory() -> None:
    """200,000 entries from a generator; held in a list they would take over 300 MB."""
    measured = run_python(
        """
        import json
        from integrity.chains import iter_chain
        from edc.integrity.chain import verify_chain
        before = peak_rss_bytes()
        result = verify_chain(iter_chain(200_000))
        print(json.dumps([result.ok, result.entries_checked, peak_rss_bytes() - before]))
        """
    )

    ok, checked, growth = measured
    assert ok
    assert checked == 200_000
    assert growth < 20_000_000, f"peak RSS grew by {growth} bytes"


def test_verify_memory_does_not_grow_with_the_chain() -> None:
    """tracemalloc slows verification sixfold, so it compares two shorter chains instead."""
    peaks = []
    for length in (2_000, 10_000):
        tracemalloc.start()
        try:
            assert verify_chain(iter_chain(length)).ok
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()

    assert peaks[1] < 100_000, peaks
    assert peaks[1] < peaks[0] + 10_000, peaks


def test_checkpoint_round_trips_through_json(chain: list[Item]) -> None:
    checkpoint = checkpoint_of(chain)

    assert Checkpoint.from_json(checkpoint.to_json()) == checkpoint
    assert Checkpoint.from_json(checkpoint.to_json().encode()) == checkpoint
    assert Checkpoint.from_json(Checkpoint(0, None, None).to_json()) == Checkpoint(0, None, None)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "not valid JSON"),
        (b"\xff", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"count": 1, "last_id": 1}', "lacks last_hash"),
        ('{"count": 0, "last_id": null, "last_hash": null, "x": 1}', "unknown member x"),
        ('{"count": 0, "count": 0, "last_id": null, "last_hash": null}', "'count' twice"),
        ('{"count": -1, "last_id": null, "last_hash": null}', "count must be"),
        ('{"count": true, "last_id": null, "last_hash": null}', "count must be"),
        ('{"count": 1.0, "last_id": null, "last_hash": null}', "count must be"),
        ('{"count": 1, "last_id": "7", "last_hash": null}', "last_id must be"),
        ('{"count": 1, "last_id": 7, "last_hash": "ABC"}', "last_hash must be"),
        ('{"count": 1, "last_id": 7, "last_hash": null}', "exactly when count is 0"),
        ('{"count": 0, "last_id": 7, "last_hash": null}', "exactly when count is 0"),
        (f'{{"count": 0, "last_id": null, "last_hash": "{"a" * 64}"}}', "exactly when"),
    ],
)
def test_bad_checkpoint_is_an_input_error(text: str | bytes, complaint: str) -> None:
    with pytest.raises(InputError, match="checkpoint") as raised:
        Checkpoint.from_json(text)

    assert complaint in str(raised.value)
