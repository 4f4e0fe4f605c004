"""One-pass md5 + sha1 + sha256 of evidence files, in bounded memory, at the speed of md5 alone.

Large files are read once by the calling thread into a small ring of reused buffers; three
long-lived threads (one per algorithm) hash every chunk in order. hashlib releases the GIL for
updates over 2047 bytes, so the three run in parallel and md5, the slowest, sets the pace.
"""

from __future__ import annotations

import hashlib
import os
import queue
import stat
import threading
from dataclasses import dataclass
from io import FileIO
from pathlib import Path
from typing import TYPE_CHECKING

from edc.integrity.mime import guess_mime_type

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = ["SMALL_FILE_THRESHOLD", "FileDigest", "guess_mime_type", "hash_file"]

SMALL_FILE_THRESHOLD = 4 << 20
"""Files smaller than this are hashed in the calling thread: starting threads costs more."""

_RING_SIZE = 8
"""Chunk buffers in flight at most: memory use is about `_RING_SIZE * chunk_size`."""

_ALGORITHMS = ("md5", "sha1", "sha256")


@dataclass(frozen=True)
class FileDigest:
    """Size in bytes and lower-case hex digests of one file's content."""

    size: int
    md5: str
    sha1: str
    sha256: str


def hash_file(path: Path, chunk_size: int = 1 << 20) -> FileDigest:
    """Hash the file at `path` with md5, sha1 and sha256 in a single read, in bounded memory.

    Raises the OSError of opening or reading; no thread outlives the call, also on error.
    """
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, not {chunk_size}")
    with open(path, "rb", buffering=0) as stream:
        hashers = [_new_hasher(name) for name in _ALGORITHMS]
        size = _file_size(stream)
        if size is not None and size >= SMALL_FILE_THRESHOLD:
            total = _hash_parallel(stream, hashers, chunk_size)
        else:
            total = _hash_sequential(stream, hashers, chunk_size)
    md5, sha1, sha256 = (hasher.hexdigest() for hasher in hashers)
    return FileDigest(size=total, md5=md5, sha1=sha1, sha256=sha256)


def _new_hasher(name: str) -> _Hash:
    """A fresh hash object; md5 and sha1 identify evidence here, they are not used for security."""
    return hashlib.new(name, usedforsecurity=False)


def _file_size(stream: FileIO) -> int | None:
    """The size of a regular file (read sequentially), or None for a pipe or a device."""
    info = os.fstat(stream.fileno())
    if not stat.S_ISREG(info.st_mode):
        return None
    if hasattr(os, "posix_fadvise"):  # larger read-ahead when the file is not cached yet
        os.posix_fadvise(stream.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
    return info.st_size


def _hash_sequential(stream: FileIO, hashers: list[_Hash], chunk_size: int) -> int:
    """Read and hash chunk by chunk in the calling thread; returns the number of bytes read."""
    view = memoryview(bytearray(chunk_size))
    total = 0
    while n := stream.readinto(view):
        chunk = view[:n]
        for hasher in hashers:
            hasher.update(chunk)
        total += n
    return total


class _Ring:
    """Preallocated chunk buffers; a buffer returns to the free list when every hasher is done."""

    def __init__(self, count: int, chunk_size: int, consumers: int) -> None:
        self.views = [memoryview(bytearray(chunk_size)) for _ in range(count)]
        self.consumers = consumers
        self._pending = [0] * count
        self._lock = threading.Lock()
        self.free: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(count):
            self.free.put(index)

    def dispatch(self, index: int) -> None:
        """Mark buffer `index` as filled and owed to every consumer."""
        self._pending[index] = self.consumers

    def release(self, index: int) -> None:
        """One consumer is done with buffer `index`; the last one puts it back on the free list."""
        with self._lock:
            self._pending[index] -= 1
            last = self._pending[index] == 0
        if last:
            self.free.put(index)


class _HasherThread(threading.Thread):
    """Feeds every chunk, in order, to one hash object until it receives the end marker."""

    def __init__(self, hasher: _Hash, ring: _Ring, failed: threading.Event) -> None:
        super().__init__(name=f"edc-hash-{hasher.name}", daemon=True)
        self.hasher = hasher
        self.inbox: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self._ring = ring
        self._failed = failed

    def run(self) -> None:
        views = self._ring.views
        while (item := self.inbox.get()) is not None:
            index, length = item
            try:
                if self.error is None:
                    self.hasher.update(views[index][:length])
            except BaseException as exc:  # re-raised in the calling thread
                self.error = exc
                self._failed.set()
            finally:
                self._ring.release(index)


def _hash_parallel(stream: FileIO, hashers: list[_Hash], chunk_size: int) -> int:
    """Read into the ring in this thread while one thread per algorithm hashes each chunk."""
    ring = _Ring(_RING_SIZE, chunk_size, consumers=len(hashers))
    failed = threading.Event()
    workers = [_HasherThread(hasher, ring, failed) for hasher in hashers]
    for worker in workers:
        worker.start()
    total = 0
    try:
        while not failed.is_set():
            index = ring.free.get()
            n = stream.readinto(ring.views[index])
            if not n:
                break
            ring.dispatch(index)
            for worker in workers:
                worker.inbox.put((index, n))
            total += n
    finally:
        for worker in workers:
            worker.inbox.put(None)
        for worker in workers:
            worker.join()
    for worker in workers:
        if worker.error is not None:
            raise worker.error
    return total
