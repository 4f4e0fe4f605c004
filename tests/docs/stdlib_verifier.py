"""Audit-chain verifier written from docs/audit-chain.md alone, with the standard library only."""

import hashlib
import json
import re

TEXT = ("uuid", "action", "actor", "target_type", "description")
OPTIONAL = ("target_id", "ip_address", "user_agent", "job_uuid", "previous_hash")
FIELDS = ("v", "created_at", "details", *TEXT, *OPTIONAL)  # canonical() sorts them anyway
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z", re.ASCII)


def need(condition: object, problem: str) -> None:
    if not condition:
        raise ValueError(problem)


def unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
    need(len(dict(pairs)) == len(pairs), "duplicate member name")
    return dict(pairs)


def canonical(value: object) -> str:
    """RFC 8785 for JSON without floats: names sorted by UTF-16 code units, no whitespace."""
    if isinstance(value, dict):
        members = sorted(value.items(), key=lambda member: member[0].encode("utf-16-be"))
        return "{" + ",".join(f"{canonical(k)}:{canonical(v)}" for k, v in members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(canonical, value)) + "]"
    need(value is None or isinstance(value, str | int), f"{value!r} is not allowed (a float?)")
    need(not isinstance(value, int) or abs(value) < 2**53, f"integer {value} is out of range")
    return json.dumps(value, ensure_ascii=False)  # bool is an int: true, false


def verify_export(path: str, checkpoint: dict | None = None) -> tuple[bool, int | None, str]:
    """(ok, first bad line counted from 1 or None, reason) for an `edc audit export` file."""
    expected, hashes = None, []
    with open(path, encoding="utf-8", newline="\n") as lines:
        for n, line in enumerate(lines, 1):
            try:  # ValueError: also bad JSON, and lone surrogates when encoding
                r = json.loads(line, object_pairs_hook=unique)
                need(type(r) is dict and set(r) == {*FIELDS, "entry_hash"}, "wrong members")
                need(type(r["v"]) is int and r["v"] == 1, "v is not the integer 1")
                need(all(type(r[k]) is str for k in (*TEXT, "created_at", "entry_hash")), "type")
                need(all(r[k] is None or type(r[k]) is str for k in OPTIONAL), "not str or null")
                need(type(r["details"]) is dict and TIME.fullmatch(r["created_at"]), "format")
                digest = hashlib.sha256(canonical({k: r[k] for k in FIELDS}).encode()).hexdigest()
            except ValueError as exc:
                return False, n, f"malformed entry: {exc}"
            if digest != r["entry_hash"]:
                return False, n, "entry_hash is not the hash of the entry: content changed"
            if r["previous_hash"] != expected:
                return False, n, "first entry is not genesis" if n == 1 else "link broken"
            expected = r["entry_hash"]
            hashes.append(expected)
    count = (checkpoint or {}).get("count", 0)
    if count > len(hashes) or (count and hashes[count - 1] != checkpoint["last_hash"]):
        return False, min(count, len(hashes)) or None, "checkpoint does not hold: tail missing"
    return True, None, f"{len(hashes)} entries verified"
