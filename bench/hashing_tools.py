"""Figure `hashing vs tools`: edc's one-pass md5 + sha1 + sha256 (`register_file`, as in the
`hashing` figure) against coreutils `md5sum`, `sha1sum` and `sha256sum` run one after another
over the same `--mib` file (page cache warm). MB/s = file size / total wall time.

Median of `--repeat` (default 3) runs each, alternating. Runs once, whatever `--db` says.
"""

import statistics
import subprocess
import sys
import time

from bench.common import MB, Reporter, Result, Workspace, at_least, parser, run_main
from bench.hashing import make_file, warm

TARGET = 2.0
TOOLS = ("md5sum", "sha1sum", "sha256sum")


def main(args, ws: Workspace, rep: Reporter) -> None:
    from edc.config import DatabaseConfig
    from edc.db import DatabaseEngine
    from edc.db.migrate import init_schema
    from edc.db.models import ArtifactType
    from edc.db.repositories import ArtifactRepository, JobRepository

    path = make_file(ws.dir / f"hash-{args.mib}MiB.bin", args.mib)
    size = path.stat().st_size
    print(f"# hashing vs tools, {args.mib:,} MiB file at {path}")
    warm(path)
    db = DatabaseEngine(DatabaseConfig(url=f"sqlite:///{ws.dir / 'hashing_tools.db'}"))
    init_schema(db)
    with db.session() as session:
        job = JobRepository(session).create("https://example.com/", "20200101000000")

    digests: dict[str, str] = {}

    def edc() -> None:
        with db.session() as session:
            artifact = ArtifactRepository(session).register_file(job, path, ArtifactType.RAW)
            digests.update(md5sum=artifact.md5, sha1sum=artifact.sha1, sha256sum=artifact.sha256)

    def tools() -> None:
        for tool in TOOLS:
            out = subprocess.run([tool, str(path)], check=True, capture_output=True, text=True)
            assert not digests or out.stdout.split()[0] == digests[tool], tool

    edc_times, tool_times = [], []
    try:
        for _ in range(args.repeat):
            for fn, times in ((edc, edc_times), (tools, tool_times)):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
    finally:
        db.dispose()
        for suffix in ("", "-wal", "-shm"):
            (ws.dir / f"hashing_tools.db{suffix}").unlink(missing_ok=True)
        if not args.keep_file:
            path.unlink(missing_ok=True)
    edc_rate = size / statistics.median(edc_times) / MB
    tool_rate = size / statistics.median(tool_times) / MB
    ratio = edc_rate / tool_rate
    target, passed = at_least(ratio, TARGET)
    rep.add(
        Result(
            "hashing vs tools",
            "file",
            edc_rate,
            tool_rate,
            "MB/s",
            ratio,
            target,
            passed,
            note=f"{args.mib:,} MiB, median of {args.repeat}; tools = md5sum, sha1sum, "
            "sha256sum in sequence (digests checked equal)",
            extra={"mib": args.mib},
        )
    )


def cli(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--mib", type=int, default=1024)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--keep-file", action="store_true", help="leave the file in --workdir")
    return run_main(main, p.parse_args(argv), "hashing_tools")


if __name__ == "__main__":
    sys.exit(cli())
