"""Identifiers: time-ordered UUIDs (RFC 9562 version 7).

Version 7 UUIDs sort by creation time, so inserts append to the `uuid` index instead of
touching random pages of it, which is most of the cost of a bulk import (PERF-NOTES).
"""

import os
import threading
import time
from uuid import UUID

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> UUID:
    """A new version-7 UUID: 48-bit Unix milliseconds, a 12-bit counter for order within a
    millisecond, then 62 random bits."""
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _counter = now_ms, int.from_bytes(os.urandom(2), "big") & 0x3FF
        else:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms, _counter = _last_ms + 1, 0
        ms, counter = _last_ms, _counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    return UUID(int=value)


def new_uuid() -> str:
    """A new identifier in its canonical 36-character text form."""
    return str(uuid7())
