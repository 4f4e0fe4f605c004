"""normalize_when: Wayback timestamps of every length and ISO 8601 forms, all to 14-digit UTC."""

import re

import pytest

from edc.ingest import normalize_when


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("2020", "20200101000000"),
        ("202002", "20200201000000"),
        ("20200229", "20200229000000"),
        ("2020022913", "20200229130000"),
        ("202002291345", "20200229134500"),
        ("20200229134510", "20200229134510"),
        ("19961231235959", "19961231235959"),
        ("1000", "10000101000000"),
        ("9999", "99990101000000"),
        ("99991231235959", "99991231235959"),
        ("  20200229134510\t", "20200229134510"),
        ("20000229", "20000229000000"),  # divisible by 400: leap
        ("20240229", "20240229000000"),
        ("20200131", "20200131000000"),
        ("20200430", "20200430000000"),
    ],
)
def test_wayback_timestamps_are_padded_to_the_start_of_their_period(raw: str, stored: str) -> None:
    assert normalize_when(raw) == stored


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("2020-02-29", "20200229000000"),
        ("2020-02-29T13:45", "20200229134500"),
        ("2020-02-29T13:45:10", "20200229134510"),
        ("2020-02-29 13:45:10", "20200229134510"),
        ("2020-02-29t13:45:10z", "20200229134510"),
        ("2020-02-29T13:45:10.5", "20200229134510"),
        ("2020-02-29T13:45:10.999999Z", "20200229134510"),
        ("2020-02-29T13:45:10,25Z", "20200229134510"),
        ("2020-02-29T13:45:10Z", "20200229134510"),
        ("2020-02-29T13:45Z", "20200229134500"),
        ("2020-02-29T13:45:10+00:00", "20200229134510"),
        ("2020-02-29T13:45:10-00:00", "20200229134510"),
        ("2020-02-29T13:45:10+05:30", "20200229081510"),
        ("2020-02-29T13:45:10+0530", "20200229081510"),
        ("2020-02-29T13:45:10+05", "20200229084510"),
        ("2020-02-29T13:45:10-08:00", "20200229214510"),
        ("2020-02-29T13:45-08:00", "20200229214500"),
        # Offsets that move the instant to another day, month or year in UTC.
        ("2020-03-01T00:30+01:00", "20200229233000"),
        ("2020-02-28T23:30-01:00", "20200229003000"),
        ("2019-02-28T23:30-01:00", "20190301003000"),
        ("1999-12-31T23:30-02:00", "20000101013000"),
        ("2000-01-01T00:59:59+01:00", "19991231235959"),
        ("2020-02-29T13:45:10.987+01:00", "20200229124510"),
        (" 2020-02-29T13:45 ", "20200229134500"),
    ],
)
def test_iso_8601_is_converted_to_utc(raw: str, stored: str) -> None:
    assert normalize_when(raw) == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("202", "3 digits; a Wayback timestamp has 4, 6, 8, 10, 12 or 14"),
        ("20200", "5 digits"),
        ("2020022", "7 digits"),
        ("2020022913450", "13 digits"),
        ("202002291345100", "15 digits"),
        ("202013", "month 13 does not exist"),
        ("202000", "month 00 does not exist"),
        ("20200230", "day 30 does not exist in 2020-02 (01-29)"),
        ("20190229", "day 29 does not exist in 2019-02 (01-28)"),
        ("21000229", "day 29 does not exist in 2100-02"),  # divisible by 100: not leap
        ("20200431", "day 31 does not exist in 2020-04"),
        ("20200100", "day 00 does not exist"),
        ("2020022924", "hour 24 does not exist"),
        ("202002291360", "minute 60 does not exist"),
        ("20200229134560", "second 60 does not exist"),
        ("0999", "year 0999 is before 1000"),
        ("0000", "year 0000 is before 1000"),
        ("2020-02-30", "day 30 does not exist"),
        ("2020-13-01", "month 13 does not exist"),
        ("2020-02-29T24:00", "hour 24 does not exist"),
        ("2020-02-29T13:60", "minute 60 does not exist"),
        ("2020-02-29T13:45:10+24:00", "UTC offset +24:00 does not exist"),
        ("2020-02-29T13:45:10+01:60", "UTC offset +01:60 does not exist"),
        ("9999-12-31T23:30-01:00", "out of range after conversion to UTC"),
        ("1000-01-01T00:30+01:00", "year 999 (after conversion to UTC) is before 1000"),
        ("", "is not a Wayback timestamp"),
        ("yesterday", "'yesterday' is not a Wayback timestamp"),
        ("2020/02/29", "is not a Wayback timestamp"),
        ("2020-2-29", "is not a Wayback timestamp"),
        ("29.02.2020", "is not a Wayback timestamp"),
        ("2020-02-29T13", "is not a Wayback timestamp"),
        ("2020-02-29Z", "is not a Wayback timestamp"),
        ("2020-02-29T13:45:10 +01:00", "is not a Wayback timestamp"),
        ("２０２０", "is not a Wayback timestamp"),  # full-width digits
        ("2020²", "is not a Wayback timestamp"),
        ("x" * 500, "…' is not a Wayback timestamp"),
    ],
)
def test_bad_values_give_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        normalize_when(raw)
