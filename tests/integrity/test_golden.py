"""Golden vectors of the audit hash chain: fixed entries, their canonical bytes and hashes.

These values are the contract: a change here breaks every stored chain. docs/ copies them so a
verifier in another language can be checked against them. The second entry exercises string
escapes and member names that sort differently by UTF-16 code units than by code points.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from edc.integrity.chain import ChainEntry, RecordRef, verify_chain

GENESIS = ChainEntry(
    uuid="5f0c1c9e-8d0b-4a57-9c1b-2f3e4d5a6b7c",
    created_at=datetime(2024, 5, 1, 12, 34, 56, 789012, tzinfo=UTC),
    action="create",
    actor="system",
    target_type="job",
    target_id=None,
    description="Zugriff auf München — ✓",
    details={
        "request": {"url": "https://example.org/", "when": "2020-01-01", "direction": "closest"},
        "row": 7,
    },
    ip_address="192.0.2.10",
    user_agent="edc/0.1.0",
    job_uuid="0d6a3c1e-2b4f-4e8a-9c7d-1e2f3a4b5c6d",
    previous_hash=None,
)
GENESIS_CANONICAL = (
    '{"action":"create","actor":"system","created_at":"2024-05-01T12:34:56.789012Z",'
    '"description":"Zugriff auf München — ✓","details":{"request":{"direction":"closest",'
    '"url":"https://example.org/","when":"2020-01-01"},"row":7},"ip_address":"192.0.2.10",'
    '"job_uuid":"0d6a3c1e-2b4f-4e8a-9c7d-1e2f3a4b5c6d","previous_hash":null,"target_id":null,'
    '"target_type":"job","user_agent":"edc/0.1.0","uuid":"5f0c1c9e-8d0b-4a57-9c1b-2f3e4d5a6b7c",'
    '"v":1}'
)
GENESIS_HASH = "ca6fc470c5d582f1162ace8afc0612c820034dfa8ac95dfc463147e4f7d36e68"

SECOND = ChainEntry(
    uuid="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    created_at=datetime(2024, 5, 1, 12, 34, 57, 5, tzinfo=UTC),
    action="access",
    actor="analyst@example.org",
    target_type="artifact",
    target_id="3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f",
    description='Zugriff auf München — ✓\n"Ansicht"\t2',
    details={
        "artifact": {"type": "pdf", "size": 48213},
        "count": 2,
        "\ufb33": "dalet",
        "\U0001f600": "grinning",
        "note": None,
        "ok": True,
        "tags": ["a", 1],
    },
    ip_address=None,
    user_agent=None,
    job_uuid="0d6a3c1e-2b4f-4e8a-9c7d-1e2f3a4b5c6d",
    previous_hash=GENESIS_HASH,
)
SECOND_CANONICAL = (
    '{"action":"access","actor":"analyst@example.org","created_at":"2024-05-01T12:34:57.000005Z",'
    '"description":"Zugriff auf München — ✓\\n\\"Ansicht\\"\\t2","details":{"artifact":'
    '{"size":48213,"type":"pdf"},"count":2,"note":null,"ok":true,"tags":["a",1],'
    '"\U0001f600":"grinning","\ufb33":"dalet"},"ip_address":null,'
    '"job_uuid":"0d6a3c1e-2b4f-4e8a-9c7d-1e2f3a4b5c6d",'
    '"previous_hash":"ca6fc470c5d582f1162ace8afc0612c820034dfa8ac95dfc463147e4f7d36e68",'
    '"target_id":"3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f","target_type":"artifact",'
    '"user_agent":null,"uuid":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d","v":1}'
)
SECOND_HASH = "bf57985f22e23aa4a26ea71667f832def075a17cc07ba046fac33e543c053d65"

VECTORS = [
    pytest.param(GENESIS, GENESIS_CANONICAL, GENESIS_HASH, id="genesis"),
    pytest.param(SECOND, SECOND_CANONICAL, SECOND_HASH, id="second"),
]


@pytest.mark.parametrize(("entry", "canonical", "entry_hash"), VECTORS)
def test_canonical_bytes_and_hash(entry: ChainEntry, canonical: str, entry_hash: str) -> None:
    assert entry.canonical_bytes() == canonical.encode("utf-8")
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == entry_hash
    assert entry.compute_hash() == entry_hash


def test_golden_chain_verifies() -> None:
    chain = [
        (GENESIS, GENESIS_HASH, RecordRef(1, GENESIS.uuid)),
        (SECOND, SECOND_HASH, RecordRef(2, SECOND.uuid)),
    ]

    result = verify_chain(chain)

    assert result.ok
    assert result.head.last_hash == SECOND_HASH


# RFC 8785 for strings, integers, booleans, null, arrays and objects: JavaScript compares
# strings by UTF-16 code units and JSON.stringify escapes as RFC 8785 asks.
_JCS_IN_JAVASCRIPT = """
const crypto = require('crypto');
function canon(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  const members = Object.keys(v).sort().map(k => JSON.stringify(k) + ':' + canon(v[k]));
  return '{' + members.join(',') + '}';
}
const sha256 = text => crypto.createHash('sha256').update(text, 'utf8').digest('hex');
const records = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(records.map(r => sha256(canon(r)))));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_an_independent_javascript_verifier_agrees() -> None:
    records = [GENESIS.hashed_fields(), SECOND.hashed_fields()]

    completed = subprocess.run(
        ["node", "-e", _JCS_IN_JAVASCRIPT],
        input=json.dumps(records),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert json.loads(completed.stdout) == [GENESIS_HASH, SECOND_HASH]
