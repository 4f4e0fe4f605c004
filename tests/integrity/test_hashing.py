"""hash_file: digests equal hashlib's at every size boundary, errors propagate, memory stays low."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edc.integrity import hashing
from edc.integrity.hashing import SMALL_FILE_THRESHOLD, FileDigest, hash_file

from .support import run_python

CHUNK = 1 << 16


def expected(data: bytes) -> FileDigest:
    return FileDigest(
        size=len(data),
        md5=hashlib.md5(data).hexdigest(),
        sha1=hashlib.sha1(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
    )


@pytest.fixture
def write(tmp_path: Path) -> Callable[[bytes], Path]:
    def _write(data: bytes) -> Path:
        path = tmp_path / "evidence.bin"
        path.write_bytes(data)
        return path

    return _write


@pytest.fixture
def no_lingering_threads() -> Iterator[None]:
    before = threading.active_count()
    yield
    assert threading.active_count() == before
    assert not [t for t in threading.enumerate() if t.name.startswith("edc-hash-")]


@pytest.mark.parametrize(
    "size",
    [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * (1 << 20) + 3],
    ids=lambda size: f"{size}B",
)
def test_small_chunks_match_hashlib(write: Callable[[bytes], Path], size: int) -> None:
    data = os.urandom(size)

    assert hash_file(write(data), chunk_size=CHUNK) == expected(data)


@pytest.mark.parametrize(
    "size",
    [
        SMALL_FILE_THRESHOLD - 1,
        SMALL_FILE_THRESHOLD,
        SMALL_FILE_THRESHOLD + 1,
        SMALL_FILE_THRESHOLD + (1 << 20) - 1,
        3 * SMALL_FILE_THRESHOLD,
    ],
    ids=lambda size: f"{size}B",
)
def test_threaded_path_matches_hashlib(
    write: Callable[[bytes], Path], size: int, no_lingering_threads: None
) -> None:
    data = os.urandom(size)

    assert hash_file(write(data)) == expected(data)


def test_one_byte_chunks_match_hashlib(write: Callable[[bytes], Path]) -> None:
    data = os.urandom(100)

    assert hash_file(write(data), chunk_size=1) == expected(data)


def test_bad_chunk_size_is_refused(write: Callable[[bytes], Path]) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        hash_file(write(b"x"), chunk_size=0)


def test_missing_file_and_directory_raise(tmp_path: Path, no_lingering_threads: None) -> None:
    with pytest.raises(FileNotFoundError):
        hash_file(tmp_path / "absent")
    with pytest.raises(IsADirectoryError):
        hash_file(tmp_path)


def test_fifo_is_hashed_in_one_thread(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = os.urandom(SMALL_FILE_THRESHOLD + 5)

    def feed() -> None:
        with open(fifo, "wb") as sink:
            sink.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert hash_file(fifo) == expected(data)
    finally:
        writer.join()


class FailingFile(io.FileIO):
    """A real file whose n-th read fails, as a disk or network share can."""

    def __init__(self, path: Any, mode: str, *, fail_at: int) -> None:
        super().__init__(path, mode)
        self.reads = 0
        self.fail_at = fail_at

    def readinto(self, buffer: Any) -> int:
        self.reads += 1
        if self.reads == self.fail_at:
            raise OSError(5, "Input/output error")
        return super().readinto(buffer)


@pytest.mark.parametrize("fail_at", [1, 4, 30])
def test_read_error_mid_file_propagates_and_stops_threads(
    write: Callable[[bytes], Path],
    monkeypatch: pytest.MonkeyPatch,
    fail_at: int,
    no_lingering_threads: None,
) -> None:
    path = write(os.urandom(SMALL_FILE_THRESHOLD * 8))
    opened: list[FailingFile] = []

    def failing_open(file: Any, mode: str = "r", buffering: int = -1) -> FailingFile:
        opened.append(FailingFile(file, mode, fail_at=fail_at))
        return opened[-1]

    monkeypatch.setattr(hashing, "open", failing_open, raising=False)

    with pytest.raises(OSError, match="Input/output error"):
        hash_file(path)
    assert opened[0].closed


def test_hasher_error_propagates_and_stops_reading(
    write: Callable[[bytes], Path], monkeypatch: pytest.MonkeyPatch, no_lingering_threads: None
) -> None:
    path = write(os.urandom(SMALL_FILE_THRESHOLD * 8))

    class BrokenHash:
        name = "sha1"

        def __init__(self) -> None:
            self.updates = 0

        def update(self, data: Any) -> None:
            self.updates += 1
            if self.updates == 3:
                raise MemoryError("hash state lost")

    broken = BrokenHash()
    real = hashing._new_hasher
    monkeypatch.setattr(
        hashing, "_new_hasher", lambda name: broken if name == "sha1" else real(name)
    )

    with pytest.raises(MemoryError, match="hash state lost"):
        hash_file(path)
    assert broken.updates == 3


def test_threads_are_gone_after_success(
    write: Callable[[bytes], Path], no_lingering_threads: None
) -> None:
    data = os.urandom(SMALL_FILE_THRESHOLD * 2)
    for _ in range(3):
        assert hash_file(write(data)) == expected(data)


def test_one_gib_sparse_file_in_bounded_memory(tmp_path: Path) -> None:
    """1 GiB of holes takes no disk; at ~600 MB/s both passes take a few seconds."""
    path = tmp_path / "sparse.bin"
    with open(path, "wb") as sparse:
        sparse.truncate(1 << 30)

    result = run_python(
        f"""
        import hashlib, json, threading
        from pathlib import Path
        from edc.integrity.hashing import hash_file
        path = Path({str(path)!r})
        before = peak_rss_bytes()
        digest = hash_file(path)
        growth = peak_rss_bytes() - before
        # The reference: each algorithm streams the file on its own (in parallel, for time).
        reference = {{}}
        def stream_hash(name):
            h, view = hashlib.new(name), memoryview(bytearray(1 << 20))
            with open(path, "rb", buffering=0) as stream:
                while n := stream.readinto(view):
                    h.update(view[:n])
            reference[name] = h.hexdigest()
        names = ("md5", "sha1", "sha256")
        threads = [threading.Thread(target=stream_hash, args=(name,)) for name in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps({{
            "growth": growth,
            "got": [digest.size, digest.md5, digest.sha1, digest.sha256],
            "want": [1 << 30, *(reference[name] for name in names)],
        }}))
        """
    )

    assert result["got"] == result["want"]
    assert result["growth"] < 100_000_000, f"peak RSS grew by {result['growth']} bytes"
