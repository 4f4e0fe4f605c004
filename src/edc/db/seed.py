"""A believable sample case for development and demos: jobs in every status, real evidence
files with real hashes, and the audit trail that doing all of it for real leaves behind."""

import base64
import zlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from edc.db.engine import DatabaseEngine
from edc.db.models import ArtifactType, Job, JobStatus
from edc.db.repositories import ArtifactRepository, AuditContext, JobRepository
from edc.errors import InputError

SEED_ACTOR = AuditContext(actor="edc-seed", user_agent="edc db seed")
WORKER = "seed-worker-1"

_C, _F, _R = JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.RUNNING
_X, _P = JobStatus.CANCELLED, JobStatus.PENDING

# (url, when, direction, final status)
SAMPLE_REQUESTS: tuple[tuple[str, str, str, JobStatus], ...] = (
    ("https://www.example.com/press/2019-annual-report", "20190315000000", "closest", _C),
    ("https://news.example.org/politics/council-vote-delayed", "20200611093000", "before", _C),
    ("https://shop.example.net/terms-and-conditions", "20210101000000", "after", _C),
    ("https://blog.example.com/2018/06/product-recall-statement", "20180620120000", "closest", _C),
    ("https://www.example.org/about/leadership", "20170901000000", "closest", _F),
    ("https://forum.example.net/thread/48213", "20220214000000", "before", _F),
    ("https://www.example.com/privacy-policy", "20230501000000", "closest", _R),
    ("https://news.example.org/local/flood-warning-issued", "20240112060000", "after", _R),
    ("https://www.example.net/careers", "20160101000000", "closest", _X),
    ("https://docs.example.com/api/v1/changelog", "20200101000000", "closest", _P),
    ("https://www.example.org/contact", "20190901000000", "before", _P),
    ("https://status.example.com/incidents/2021-07-outage", "20210708000000", "closest", _P),
)  # fmt: skip

# A 1x1 PNG and a one-page PDF: small, but real files of their type.
_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@dataclass(frozen=True)
class SeedResult:
    """How much the seed created and where the evidence files are."""

    jobs: int
    artifacts: int
    directory: str


def seed_sample_case(db: DatabaseEngine, directory: Path, *, force: bool = False) -> SeedResult:
    """Create the sample case; refuses a database that already holds jobs unless `force`."""
    directory.mkdir(parents=True, exist_ok=True)
    artifacts = 0
    with db.session() as session:
        existing = session.scalar(select(func.count()).select_from(Job)) or 0
        if existing and not force:
            raise InputError(
                f"the database already holds {existing} job(s); seed only an empty database, "
                "or pass --force to add the sample case anyway"
            )
        jobs = JobRepository(session, SEED_ACTOR)
        files = ArtifactRepository(session, SEED_ACTOR, audit=jobs.audit)
        for index, (url, when, direction, final) in enumerate(SAMPLE_REQUESTS, start=1):
            job = jobs.create(url, when, direction, "fetch", options={"case": "SAMPLE-001"})
            if final is JobStatus.CANCELLED:
                jobs.cancel(job, reason="withdrawn by the requesting party")
                continue
            if final is JobStatus.PENDING:
                continue
            jobs.claim(job, WORKER, lease_seconds=3600)
            memento = f"https://web.archive.org/web/{when}/{url}"
            if final is JobStatus.FAILED:
                jobs.fail(job, WORKER, "no memento within 365 days of the requested time")
            elif final is JobStatus.COMPLETED:
                for artifact_type, path in _write_evidence(directory, index, url, when):
                    files.register_file(job, path, artifact_type, metadata={"memento": memento})
                    artifacts += 1
                jobs.complete(job, WORKER, memento_url=memento, variance_days=0.5 * index)
    return SeedResult(len(SAMPLE_REQUESTS), artifacts, str(directory.resolve()))


def _write_evidence(
    directory: Path, index: int, url: str, when: str
) -> list[tuple[ArtifactType, Path]]:
    """Write one file of each type for a completed job; return them with their types."""
    stem = directory / f"job-{index:02d}"
    html = (
        f"<!doctype html><html><head><title>Archived copy of {url}</title></head>"
        f"<body><h1>{url}</h1><p>Captured from the Wayback Machine at {when}.</p></body></html>\n"
    ).encode()
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html
    warc = (
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: " + url.encode()
        + b"\r\nContent-Length: " + str(len(raw)).encode() + b"\r\n\r\n" + raw + b"\r\n\r\n"
    )  # fmt: skip
    contents = {
        ArtifactType.HTML: (".html", html),
        ArtifactType.RAW: (".raw", raw),
        ArtifactType.WARC: (".warc", warc),
        ArtifactType.PNG: (".png", _PNG),
        ArtifactType.PDF: (".pdf", _pdf(f"Archived copy of {url} at {when}")),
    }
    written = []
    for artifact_type, (suffix, data) in contents.items():
        path = stem.with_suffix(suffix)
        path.write_bytes(data)
        written.append((artifact_type, path))
    return written


def _pdf(text: str) -> bytes:
    """A minimal one-page PDF showing `text` (valid enough for any reader)."""
    stream = zlib.compress(f"BT /F1 10 Tf 40 800 Td ({text}) Tj ET".encode("latin-1", "replace"))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
