"""Figure `hashing`: `hash_file` (md5 + sha1 + sha256 in one read) on a `--mib` file (default
1 GiB) against hashlib md5 alone over the same file, page cache warm. MB/s = 10^6 bytes/s.

The figure uses `ArtifactRepository.register_file` (hashing plus recording the artifact and its
audit entry, in-process on SQLite), the path users take; plain `hash_file` is printed too.
Median of `--repeat` (default 3) runs each, alternating. The file holds random bytes and lives
in the work directory; it is deleted afterwards. The database does not matter here: it runs
once, whatever `--db` says.
"""

import hashlib
import os
import statistics
import sys
import time
from pathlib import Path

from bench.common import (
    MB,
    MIB,
    Reporter,
    Result,
    Workspace,
    at_least,
    parser,
    run_main,
)
from edc.integrity.hashing import hash_file

TARGET = 0.85
CHUNK = MIB


def make_file(path: Path, mib: int) -> Path:
    if path.exists() and path.stat().st_size == mib * MIB:
        return path
    with open(path, "wb") as stream:
        for _ in range(mib):
            stream.write(os.urandom(MIB))
    return path


def warm(path: Path) -> None:
    with open(path, "rb", buffering=0) as stream:
        while stream.read(8 * MIB):
            pass


def md5_alone(path: Path) -> str:
    hasher = hashlib.md5(usedforsecurity=False)
    buffer = memoryview(bytearray(CHUNK))
    with open(path, "rb", buffering=0) as stream:
        while n := stream.readinto(buffer):
            hasher.update(buffer[:n])
    return hasher.hexdigest()


def main(args, ws: Workspace, rep: Reporter) -> None:
    from edc.config import DatabaseConfig
    from edc.db import DatabaseEngine
    from edc.db.migrate import init_schema
    from edc.db.models import ArtifactType
    from edc.db.repositories import ArtifactRepository, JobRepository

    path = make_file(ws.dir / f"hash-{args.mib}MiB.bin", args.mib)
    size = path.stat().st_size
    print(f"# hashing, {args.mib:,} MiB file of random bytes at {path}; cpu(s): {os.cpu_count()}")
    warm(path)
    db = DatabaseEngine(DatabaseConfig(url=f"sqlite:///{ws.dir / 'hashing.db'}"))
    init_schema(db)
    with db.session() as session:
        job = JobRepository(session).create("https://example.com/", "20200101000000")

    def register() -> None:
        with db.session() as session:
            artifact = ArtifactRepository(session).register_file(job, path, ArtifactType.RAW)
            assert artifact.md5 == expected

    expected = md5_alone(path)
    times: dict[str, list[float]] = {"register_file": [], "hash_file": [], "md5": []}
    calls = {
        "register_file": register,
        "hash_file": lambda: hash_file(path),
        "md5": lambda: md5_alone(path),
    }
    try:
        for _ in range(args.repeat):
            for name, fn in calls.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    finally:
        db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ws.dir / 'hashing.db'}{suffix}").unlink(missing_ok=True)
        if not args.keep_file:
            path.unlink(missing_ok=True)
    rate = {name: size / statistics.median(values) / MB for name, values in times.items()}
    rep.info(
        f"median MB/s: register_file {rate['register_file']:,.0f}, hash_file "
        f"{rate['hash_file']:,.0f}, md5 alone {rate['md5']:,.0f}"
    )
    ratio = rate["register_file"] / rate["md5"]
    target, passed = at_least(ratio, TARGET)
    rep.add(
        Result(
            "hashing",
            "file",
            rate["register_file"],
            rate["md5"],
            "MB/s",
            ratio,
            target,
            passed,
            note=f"{args.mib:,} MiB, median of {args.repeat}; hash_file alone "
            f"{rate['hash_file']:,.0f} MB/s = {rate['hash_file'] / rate['md5']:.2f}x md5",
            extra={"mib": args.mib, "rates": rate},
        )
    )


def cli(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--mib", type=int, default=1024)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--keep-file", action="store_true", help="leave the file for hashing_tools")
    return run_main(main, p.parse_args(argv), "hashing")


if __name__ == "__main__":
    sys.exit(cli())
