"""ArtifactRepository: evidence files with their hashes, registered and re-verified on disk."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from edc.db.models import Artifact, ArtifactType, AuditAction, Job
from edc.db.repositories.base import AuditedRepository
from edc.errors import InputError
from edc.integrity.hashing import hash_file
from edc.integrity.mime import guess_mime_type

TARGET = "artifact"
STREAM_BATCH = 1_000


class FileProblemKind(StrEnum):
    """Why a file no longer matches its record."""

    MISSING = "missing"
    CHANGED = "changed"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class FileProblem:
    """One artifact whose file is missing, unreadable or different from what was recorded."""

    artifact_uuid: str
    job_uuid: str
    path: str
    kind: FileProblemKind
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.path} (artifact {self.artifact_uuid}): {self.detail}"


@dataclass
class FilesReport:
    """Result of re-hashing artifact files: how many were checked and what was wrong."""

    checked: int = 0
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class ArtifactRepository(AuditedRepository):
    """Repository for Artifact CRUD operations; flushes, never commits."""

    def create(
        self,
        job_id: int,
        artifact_type: ArtifactType,
        file_path: str,
        file_size: int | None = None,
        md5: str | None = None,
        sha1: str | None = None,
        sha256: str | None = None,
        **kwargs: Any,
    ) -> Artifact:
        """Create a new artifact record and audit it."""
        job = self.session.get(Job, job_id)
        if job is None:
            raise InputError(f"no job with id {job_id} for artifact {file_path}")
        artifact = Artifact(
            job=job,
            artifact_type=artifact_type,
            file_path=file_path,
            file_size=file_size,
            md5=md5,
            sha1=sha1,
            sha256=sha256,
            **kwargs,
        )
        self.session.add(artifact)
        self.session.flush()
        self._audit_created(artifact, job)
        return artifact

    def create_bulk(self, artifacts: list[dict[str, Any]]) -> list[Artifact]:
        """Create many artifacts in one flush; each is audited."""
        job_ids = {data["job_id"] for data in artifacts}
        jobs = {job.id: job for job in self.session.scalars(select(Job).where(Job.id.in_(job_ids)))}
        missing = job_ids - set(jobs)
        if missing:
            raise InputError(f"no job with id {min(missing)} for bulk artifacts")
        records = [Artifact(**data) for data in artifacts]
        self.session.add_all(records)
        self.session.flush()
        for record in records:
            self._audit_created(record, jobs[record.job_id])
        return records

    def register_file(
        self,
        job: Job,
        path: Path,
        artifact_type: ArtifactType,
        *,
        source: str = "archived",
        metadata: dict[str, Any] | None = None,
    ) -> Artifact:
        """Hash a file once (md5, sha1, sha256 together, bounded memory) and record it."""
        resolved = Path(path).resolve()
        try:
            digest = hash_file(resolved)
        except FileNotFoundError:
            raise InputError(f"artifact file {path} does not exist") from None
        except IsADirectoryError:
            raise InputError(f"artifact file {path} is a directory") from None
        except OSError as exc:
            raise InputError(f"artifact file {path} cannot be read: {exc.strerror}") from None
        return self.create(
            job.id,
            artifact_type,
            str(resolved),
            file_size=digest.size,
            md5=digest.md5,
            sha1=digest.sha1,
            sha256=digest.sha256,
            mime_type=guess_mime_type(resolved),
            source=source,
            metadata_=metadata or {},
        )

    def _audit_created(self, artifact: Artifact, job: Job) -> None:
        self.audit.append(
            AuditAction.CREATE,
            TARGET,
            f"{artifact.artifact_type.value} artifact registered: {artifact.file_path}",
            target_id=artifact.uuid,
            job=job,
            details={
                "artifact_type": artifact.artifact_type.value,
                "file_path": artifact.file_path,
                "file_size": artifact.file_size,
                "md5": artifact.md5,
                "sha1": artifact.sha1,
                "sha256": artifact.sha256,
            },
        )

    def get_by_job(self, job_id: int, artifact_type: ArtifactType | None = None) -> list[Artifact]:
        """Get all artifacts for a job, optionally filtered by type."""
        statement = select(Artifact).where(Artifact.job_id == job_id).order_by(Artifact.id)
        if artifact_type is not None:
            statement = statement.where(Artifact.artifact_type == artifact_type)
        return list(self.session.scalars(statement))

    def get_by_uuid(self, uuid: str) -> Artifact | None:
        """Get an artifact by its public UUID."""
        return self.session.scalar(select(Artifact).where(Artifact.uuid == uuid))

    def verify_hash(self, artifact_id: int, sha256: str) -> bool:
        """Whether the artifact exists and its recorded sha256 equals `sha256` (any case)."""
        stored = self.session.scalar(select(Artifact.sha256).where(Artifact.id == artifact_id))
        return stored is not None and stored == sha256.lower()

    def count(self, job: Job | None = None) -> int:
        """Number of artifacts, of one job or all."""
        statement = select(func.count()).select_from(Artifact)
        if job is not None:
            statement = statement.where(Artifact.job_id == job.id)
        return int(self.session.scalar(statement) or 0)

    def verify_files(
        self,
        job: Job | None = None,
        on_file: Callable[[Artifact], None] | None = None,
    ) -> FilesReport:
        """Re-hash every artifact file (of one job, or all) and report each missing or changed.

        Reads only; record the outcome with `AuditLogRepository` in a write transaction.
        """
        report = FilesReport()
        for artifact, job_uuid in self._stream(job):
            report.checked += 1
            problem = _check_file(artifact, job_uuid)
            if problem is not None:
                report.problems.append(problem)
            if on_file is not None:
                on_file(artifact)
        return report

    def _stream(self, job: Job | None) -> Iterator[tuple[Artifact, str]]:
        statement = select(Artifact, Job.uuid).join(Job).order_by(Artifact.id)
        if job is not None:
            statement = statement.where(Artifact.job_id == job.id)
        result = self.session.execute(statement.execution_options(yield_per=STREAM_BATCH))
        for artifact, job_uuid in result:
            yield artifact, str(job_uuid)


def _check_file(artifact: Artifact, job_uuid: str) -> FileProblem | None:
    def problem(kind: FileProblemKind, detail: str) -> FileProblem:
        return FileProblem(artifact.uuid, job_uuid, artifact.file_path, kind, detail)

    path = Path(artifact.file_path)
    try:
        digest = hash_file(path)
    except FileNotFoundError:
        return problem(FileProblemKind.MISSING, "file not found")
    except OSError as exc:
        return problem(FileProblemKind.UNREADABLE, exc.strerror or type(exc).__name__)
    expected = {
        "size": artifact.file_size,
        "md5": artifact.md5,
        "sha1": artifact.sha1,
        "sha256": artifact.sha256,
    }
    actual = {"size": digest.size, "md5": digest.md5, "sha1": digest.sha1, "sha256": digest.sha256}
    changed = [
        name for name, value in expected.items() if value is not None and value != actual[name]
    ]
    if changed:
        first = changed[0]
        return problem(
            FileProblemKind.CHANGED,
            f"{', '.join(changed)} differ "
            f"(recorded {first} {expected[first]}, now {actual[first]})",
        )
    return None
