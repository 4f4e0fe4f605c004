"""normalize_direction and normalize_mode: defaults, case rules and reasons."""

import re

import pytest

from edc.ingest import DIRECTIONS, normalize_direction, normalize_mode


def test_directions_are_the_memento_ones() -> None:
    assert DIRECTIONS == ("closest", "before", "after")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("", "closest"),
        ("   ", "closest"),
        ("closest", "closest"),
        ("before", "before"),
        ("after", "after"),
        ("BEFORE", "before"),
        (" After ", "after"),
        ("Closest", "closest"),
    ],
)
def test_direction_is_case_insensitive_and_defaults_to_closest(raw: str, stored: str) -> None:
    assert normalize_direction(raw) == stored


@pytest.mark.parametrize("raw", ["nearest", "befor", "before after", "-"])
def test_unknown_direction_is_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="is not closest, before or after"):
        normalize_direction(raw)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("", "fetch"),
        (" ", "fetch"),
        ("fetch", "fetch"),
        (" screenshot ", "screenshot"),
        ("a", "a"),
        ("warc_only-2", "warc_only-2"),
        ("a" * 16, "a" * 16),
    ],
)
def test_mode_is_a_lower_case_token_defaulting_to_fetch(raw: str, stored: str) -> None:
    assert normalize_mode(raw) == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("FETCH", "'FETCH' must be lower-case"),
        ("Fetch", "'Fetch' must be lower-case"),
        ("a" * 17, "mode is longer than 16 characters"),
        ("1fetch", "must start with a-z"),
        ("_x", "must start with a-z"),
        ("fe tch", "must start with a-z and hold only a-z, 0-9, '_' and '-'"),
        ("fetch!", "must start with a-z"),
        ("fétch", "must start with a-z"),
    ],
)
def test_bad_mode_is_rejected_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        normalize_mode(raw)
