"""The import's Bloom filter of its own keys, and uuid7s made in batches."""

import uuid

from hypothesis import given
from hypothesis import strategies as st

from edc.db.ids import new_uuid, new_uuids
from edc.ingest.seen import SeenKeys


@given(st.lists(st.tuples(st.text(max_size=8), st.integers(0, 3)), max_size=200))
def test_a_key_added_before_is_always_claimed(keys: list[tuple[str, int]]) -> None:
    seen = SeenKeys[tuple[str, int]]()
    first = seen.add_all(keys)
    assert set(seen.add_all(keys)) == set(keys)  # never a miss
    repeated = [key for index, key in enumerate(keys) if key in keys[:index]]
    assert set(repeated) <= set(first)


def test_false_claims_are_rare() -> None:
    seen = SeenKeys[str]()
    seen.add_all(f"key {i}" for i in range(100_000))
    assert len(seen.add_all(f"other {i}" for i in range(100_000))) < 100


def test_batched_uuids_are_version_7_and_ordered_with_single_ones() -> None:
    ids = [new_uuid(), *new_uuids(5_000), new_uuid()]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 7 for i in ids)
    assert all(uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
    assert new_uuids(0) == []
