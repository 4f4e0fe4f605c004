"""The audit log's hash chain: what is hashed, how, and how a chain is verified.

`entry_hash = sha256(RFC 8785 JSON of HASHED_FIELDS)` in lower-case hex; the first entry's
`previous_hash` is null and every other entry's is its predecessor's `entry_hash`.
"""

from edc.integrity.entry import (
    CHAIN_FORMAT_VERSION,
    GENESIS_PREVIOUS_HASH,
    HASHED_FIELDS,
    ChainEntry,
    format_time,
    parse_time,
)
from edc.integrity.verify import (
    WINDOW,
    Checkpoint,
    Problem,
    RecordRef,
    VerifyResult,
    verify_chain,
)

__all__ = [
    "CHAIN_FORMAT_VERSION",
    "GENESIS_PREVIOUS_HASH",
    "HASHED_FIELDS",
    "WINDOW",
    "ChainEntry",
    "Checkpoint",
    "Problem",
    "RecordRef",
    "VerifyResult",
    "format_time",
    "parse_time",
    "verify_chain",
]
