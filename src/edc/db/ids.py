"""Identifiers: time-ordered UUIDs (RFC 9562 version 7).

Version 7 UUIDs sort by creation time, so inserts append to the `uuid` index instead of
touching random pages of it, which is most of the cost of a bulk import (PERF-NOTES).
"""

import os
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def _next_stamps(count: int) -> list[tuple[int, int]]:
    """`count` (milliseconds, counter) pairs, strictly increasing, shared by every caller."""
    global _last_ms, _counter
    stamps: list[tuple[int, int]] = []
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        for _ in range(count):
            if now_ms > _last_ms:
                _last_ms, _counter = now_ms, int.from_bytes(os.urandom(2), "big") & 0x3FF
            else:
                _counter += 1
                if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                    _last_ms, _counter = _last_ms + 1, 0
            stamps.append((_last_ms, _counter))
    return stamps


def new_uuid() -> str:
    """A new version-7 UUID in its canonical 36-character text form: 48-bit Unix milliseconds,
    a 12-bit counter for order within a millisecond, then 62 random bits."""
    ((ms, counter),) = _next_stamps(1)
    return _format(ms, counter, os.urandom(8).hex())


def new_uuids(count: int) -> list[str]:
    """`count` new identifiers in creation order, as `new_uuid` makes them but in one go.

    One lock, one read of the clock and one `os.urandom` for the lot: a bulk import needs two
    per row, and this is about three times as fast as calling `new_uuid` that often.
    """
    if count <= 0:
        return []
    randoms = os.urandom(8 * count).hex()
    return [
        _format(ms, counter, randoms[16 * index : 16 * index + 16])
        for index, (ms, counter) in enumerate(_next_stamps(count))
    ]


def _format(ms: int, counter: int, rand: str) -> str:
    """The text form from the stamp and 16 random hex digits, formatted directly (a `UUID`
    object and its `str` cost twice as much)."""
    head = f"{(ms << 16) | 0x7000 | counter:016x}"
    # the variant's two bits replace the top two of the first random digit: 62 random bits
    return f"{head[:8]}-{head[8:12]}-{head[12:]}-{_VARIANT[rand[0]]}{rand[1:4]}-{rand[4:]}"


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
