"""canonical_json: RFC 8785 examples, escaping, refusals, fast path against the general one."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edc.integrity.canonical import MAX_SAFE_INTEGER, _encode, canonical_json, scan_json_value


def test_rfc8785_name_sorting_example() -> None:
    """RFC 8785 §3.2.3: names sort by UTF-16 code units, so U+1F600 sorts before U+FB33."""
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }

    names = list(json.loads(canonical_json(value)))

    assert names == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert sorted(value) != names  # Python's own sort differs here
    assert (
        canonical_json(value)
        == (
            '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
            '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
            '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
        ).encode()
    )


def test_rfc8785_main_example_without_its_floats() -> None:
    """RFC 8785 §3.2.4, with the "numbers" member left out: edc refuses floats."""
    value = json.loads(
        '{"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )

    assert (
        canonical_json(value)
        == (
            '{"literals":[null,true,false],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
        ).encode()
    )


@pytest.mark.parametrize(
    ("char", "escaped"),
    [
        ("\b", "\\b"),
        ("\t", "\\t"),
        ("\n", "\\n"),
        ("\f", "\\f"),
        ("\r", "\\r"),
        ("\x00", "\\u0000"),
        ("\x1f", "\\u001f"),
        ("\x0b", "\\u000b"),
        ('"', '\\"'),
        ("\\", "\\\\"),
        ("/", "/"),
        ("\x7f", "\x7f"),
        ("\u2028", "\u2028"),
        ("é", "é"),
        ("\U0001f600", "\U0001f600"),
    ],
)
def test_string_escapes(char: str, escaped: str) -> None:
    expected = f'"{escaped}"'.encode()

    assert canonical_json(char) == expected
    assert canonical_json({char: char}) == b"{" + expected + b":" + expected + b"}"


def test_fast_encoder_escapes_every_ascii_character_like_rfc8785() -> None:
    text = "".join(chr(code) for code in range(128))

    assert canonical_json({"a": text}) == _encode({"a": text}).encode()


def test_scalars_and_arrays() -> None:
    assert canonical_json(None) == b"null"
    assert canonical_json(True) == b"true"
    assert canonical_json(0) == b"0"
    assert canonical_json(-MAX_SAFE_INTEGER) == b"-9007199254740991"
    assert canonical_json([1, "a", (None, False)]) == b'[1,"a",[null,false]]'
    assert canonical_json({"é": [{"b": 1, "a": 2}]}) == '{"é":[{"a":2,"b":1}]}'.encode()
    assert canonical_json({}) == b"{}"


@pytest.mark.parametrize(
    ("value", "error", "where"),
    [
        (1.0, TypeError, "$"),
        (float("nan"), TypeError, "$"),
        ({"a": [1, float("inf")]}, TypeError, '$["a"][1]'),
        ({"a": {1: "x"}}, TypeError, '$["a"]'),
        ({"é": {"b": {"c"}}}, TypeError, '$["é"]["b"]'),
        ([MAX_SAFE_INTEGER + 1], ValueError, "$[0]"),
        ({"a": -(2**63)}, ValueError, '$["a"]'),
    ],
)
def test_refusals_name_the_place(value: object, error: type[Exception], where: str) -> None:
    with pytest.raises(error, match=f"at {re.escape(where)}$"):
        canonical_json(value)


@pytest.mark.parametrize("value", ["\ud800", {"a": "x\udfff"}, {"\ud800": 1}, {"é\ud800": 1}])
def test_lone_surrogates_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="not valid Unicode"):
        canonical_json(value)


def test_scan_reports_ascii_names_and_its_root() -> None:
    assert scan_json_value({"a": [{"b": 1}]}) is True
    assert scan_json_value({"a": [{"é": 1}]}) is False
    with pytest.raises(TypeError, match=r'at details\["x"\]$'):
        scan_json_value({"x": 0.5}, root="details")


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text(st.characters(exclude_categories=["Cs"]))
)


def _json_values(names: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        _SCALARS,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(names, children, max_size=5)
        ),
        max_leaves=20,
    )


_ASCII_NAMES = st.text(st.characters(max_codepoint=127), max_size=8)
_ANY_NAMES = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)


@settings(max_examples=300)
@given(_json_values(_ASCII_NAMES))
def test_fast_path_equals_general_path_for_ascii_names(value: Any) -> None:
    assert scan_json_value(value) is True
    assert canonical_json(value) == _encode(value).encode()


@settings(max_examples=300)
@given(_json_values(_ANY_NAMES))
def test_output_parses_back_to_an_equal_value(value: Any) -> None:
    encoded = canonical_json(value)

    assert json.loads(encoded) == value
    assert canonical_json(json.loads(encoded)) == encoded  # idempotent


@given(st.dictionaries(_ANY_NAMES, st.integers(0, 9), min_size=2))
def test_names_sort_by_utf16_code_units(value: dict[str, int]) -> None:
    names = list(json.loads(canonical_json(value)))

    assert names == sorted(value, key=lambda name: name.encode("utf-16-be"))
