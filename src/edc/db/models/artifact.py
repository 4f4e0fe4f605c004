"""Artifacts: files a job produced, with the hashes that let anyone check them later."""

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from edc.db.models.base import Base, BigIntKey, IdentifierMixin, TimestampMixin
from edc.db.types import enum_type

if TYPE_CHECKING:
    from edc.db.models.job import Job


class ArtifactType(StrEnum):
    """Artifact file type."""

    HTML = "html"
    RAW = "raw"
    PDF = "pdf"
    PNG = "png"
    WARC = "warc"


class Artifact(Base, TimestampMixin, IdentifierMixin):
    """Generated artifact record with forensic hashes."""

    __tablename__ = "artifacts"

    job_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True
    )

    artifact_type: Mapped[ArtifactType] = mapped_column(
        enum_type(ArtifactType, "artifact_type"), nullable=False
    )
    file_path: Mapped[str] = mapped_column(String(1024), nullable=False)
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(128))

    md5: Mapped[str | None] = mapped_column(String(32))
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))

    source: Mapped[str] = mapped_column(String(16), default="archived", nullable=False)
    # `metadata` is reserved by Declarative: the column keeps its name, the attribute does not.
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict, nullable=False)

    job: Mapped["Job"] = relationship(back_populates="artifacts")

    __table_args__ = (Index("ix_artifacts_job_type", "job_id", "artifact_type"),)

    def __repr__(self) -> str:
        return f"<Artifact {self.uuid} {self.artifact_type.value} {self.file_path!r}>"
