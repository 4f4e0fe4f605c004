"""RFC 8785 (JSON Canonicalization Scheme) for the JSON values edc hashes: no floats.

Rules, so that another language can reproduce the bytes:

- objects: members sorted by their names compared as UTF-16 code units (RFC 8785 §3.2.3), no
  whitespace anywhere, `:` and `,` as separators; names must be strings;
- strings: `"` and `\\` escaped with a backslash; U+0008, U+0009, U+000A, U+000C, U+000D as
  `\\b \\t \\n \\f \\r`; other characters below U+0020 as `\\u00xx` (lower-case hex); every other
  character as itself in UTF-8 (no `\\u` escapes, U+007F and U+2028 included); lone surrogates
  are not Unicode and are rejected;
- numbers: integers only, within ±(2**53 - 1), written in decimal without sign for positives,
  leading zeros or exponent (what ECMAScript prints for them); floats, NaN and Infinity are
  rejected, so no number formatting rule beyond that is needed;
- `true`, `false`, `null`; arrays keep their order (Python lists and tuples);
- the output is UTF-8 without a byte-order mark.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]

__all__ = ["MAX_SAFE_INTEGER", "canonical_json", "encode_checked_json", "scan_json_value"]

MAX_SAFE_INTEGER = (1 << 53) - 1
"""Largest integer every JSON reader (IEEE 754 doubles) represents exactly: RFC 7493 §2.2."""

# json's C encoder escapes exactly as RFC 8785 asks (see _ESCAPES), and for names that are all
# ASCII its code-point sort equals the UTF-16 sort; the scan below decides when it may be used.
_FAST_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


def _c_encoder() -> Callable[[object], str]:
    """json's C encoder, made once (JSONEncoder.encode makes a new one per call)."""
    if c_make_encoder is None:  # not CPython: the pure-Python encoder does the same
        return _FAST_ENCODER.encode
    # markers None: no cycle check; the values encoded are scanned, a cycle fails there first
    encode = c_make_encoder(
        None, _FAST_ENCODER.default, encode_basestring, None, ":", ",", True, False, False
    )
    return lambda value: "".join(encode(value, 0))


encode_checked_json: Callable[[object], str] = _c_encoder()
"""RFC 8785 text of a value that passed scan_json_value and whose object names are all ASCII."""

_SHORT_ESCAPES = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}
_ESCAPES: dict[int, str] = {
    code: _SHORT_ESCAPES.get(code, f"\\u{code:04x}") for code in range(0x20)
} | {ord('"'): '\\"', ord("\\"): "\\\\"}


def canonical_json(value: object) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of `value` (dict, list, tuple, str, int, bool, None).

    Raises TypeError for floats, non-string names and other types; ValueError for integers
    outside ±(2**53 - 1) and strings that are not valid Unicode.
    """
    try:
        ascii_names = _scan(value)
        text = encode_checked_json(value) if ascii_names else _encode(value)
        return text.encode("utf-8")
    except _InvalidError as invalid:
        raise invalid.kind(f"{invalid.reason} at {invalid.location()}") from None
    except UnicodeEncodeError as exc:
        raise ValueError(f"a string is not valid Unicode (lone surrogate): {exc.reason}") from None


def scan_json_value(value: object, root: str = "$") -> bool:
    """Check that `value` is hashable JSON (see canonical_json); True if all names are ASCII.

    Errors are canonical_json's and name the offending place from `root`, e.g. `$["a"][2]`.
    """
    try:
        return _scan(value)
    except _InvalidError as invalid:
        raise invalid.kind(f"{invalid.reason} at {invalid.location(root)}") from None


class _InvalidError(Exception):
    """A value canonical_json refuses; `path` grows from the inside out while unwinding."""

    def __init__(self, kind: type[Exception], reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.path: list[str | int] = []

    def location(self, root: str = "$") -> str:
        return root + "".join(
            f"[{json.dumps(part, ensure_ascii=False)}]" for part in reversed(self.path)
        )


def _scan(value: object) -> bool:
    """Validate types and ranges recursively; True if every object name is ASCII."""
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is dict:  # the common case, with the leaves checked in line
        ascii_names = True
        for name, member in value.items():  # type: ignore[attr-defined]
            if type(name) is not str and not isinstance(name, str):
                raise _InvalidError(TypeError, f"object name {name!r} is not a string")
            leaf = type(member)
            if not (
                leaf is str
                or member is None
                or leaf is bool
                or (leaf is int and -MAX_SAFE_INTEGER <= member <= MAX_SAFE_INTEGER)
            ):
                try:
                    ascii_names = _scan(member) and ascii_names
                except _InvalidError as invalid:
                    invalid.path.append(name)
                    raise
            ascii_names = ascii_names and name.isascii()
        return ascii_names
    if isinstance(value, str):
        return True
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return True
        raise _InvalidError(ValueError, f"integer {value} is outside ±(2**53 - 1)")
    if isinstance(value, dict):
        ascii_names = True
        for name, member in value.items():
            if not isinstance(name, str):
                raise _InvalidError(TypeError, f"object name {name!r} is not a string")
            try:
                ascii_names = _scan(member) and ascii_names and name.isascii()
            except _InvalidError as invalid:
                invalid.path.append(name)
                raise
        return ascii_names
    if isinstance(value, list | tuple):
        ascii_names = True
        for index, item in enumerate(value):
            try:
                ascii_names = _scan(item) and ascii_names
            except _InvalidError as invalid:
                invalid.path.append(index)
                raise
        return ascii_names
    if isinstance(value, float):
        raise _InvalidError(
            TypeError, f"float {value!r} is not allowed (use an integer or a string)"
        )
    raise _InvalidError(TypeError, f"type {type(value).__name__} is not JSON")


def _encode(value: object) -> str:
    """The general RFC 8785 serialisation of an already scanned value."""
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts)


def _write(value: object, emit: Callable[[str], object]) -> None:
    if value is None:
        emit("null")
    elif value is True:
        emit("true")
    elif value is False:
        emit("false")
    elif isinstance(value, str):
        emit(_quote(value))
    elif isinstance(value, int):
        emit(int.__repr__(value))
    elif isinstance(value, dict):
        emit("{")
        members = sorted(value.items(), key=lambda member: member[0].encode("utf-16-be"))
        for position, (name, member) in enumerate(members):
            emit(',"' if position else '"')
            emit(name.translate(_ESCAPES))
            emit('":')
            _write(member, emit)
        emit("}")
    else:
        assert isinstance(value, list | tuple)  # guaranteed by _scan
        emit("[")
        for position, item in enumerate(value):
            if position:
                emit(",")
            _write(item, emit)
        emit("]")


def _quote(text: str) -> str:
    return '"' + text.translate(_ESCAPES) + '"'
