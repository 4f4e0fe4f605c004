"""`edc artifacts`: register evidence files with their hashes, and re-verify them on disk."""

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from edc.cli.actor import ActorOption, audit_context
from edc.cli.context import app_context
from edc.cli.output import print_json, stdout
from edc.cli.progress import progress_bar
from edc.cli.recording import record_outcome
from edc.cli.render import artifact_dict, fields_table, plural, say
from edc.db.models import ArtifactType, AuditAction, Job
from edc.db.repositories import (
    AppendedEntry,
    ArtifactRepository,
    AuditLogRepository,
    FileProblem,
    FilesReport,
    JobRepository,
)
from edc.errors import IntegrityFailureError

app = typer.Typer(help="Register and verify evidence files.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
RECORDED_PROBLEMS = 20  # problems named in the audit entry; the count covers all of them
TARGET = "artifacts"


@app.command("add")
def add(
    ctx: typer.Context,
    job_uuid: Annotated[str, typer.Argument(metavar="JOB_UUID", help="The job it belongs to.")],
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The evidence file.")],
    artifact_type: Annotated[
        ArtifactType, typer.Option("--type", "-t", case_sensitive=False, help="Kind of file.")
    ],
    as_json: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Hash a file (md5, sha1, sha256 in one pass) and register it as an artifact of a job."""
    context = audit_context(actor)
    db = app_context(ctx).ready_database()
    with db.session() as session:
        job = JobRepository(session, context).require(job_uuid)
        artifact = ArtifactRepository(session, context).register_file(job, path, artifact_type)
    data = artifact_dict(artifact, job.uuid)
    if as_json:
        print_json(data)
        return
    say(f"registered {artifact.artifact_type.value} artifact {artifact.uuid} for job {job.uuid}")
    fields = {name: data[name] for name in ("path", "size", "mime_type", "md5", "sha1", "sha256")}
    stdout.print(fields_table(fields))


@app.command("verify")
def verify(
    ctx: typer.Context,
    job_uuid: Annotated[
        str | None,
        typer.Option("--job", metavar="UUID", help="Only this job's artifacts (default: all)."),
    ] = None,
    as_json: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Re-hash artifact files and compare them with what was recorded; exit 1 on any difference.

    The check reads only; its outcome is then recorded in the audit log.
    """
    context = audit_context(actor)
    db = app_context(ctx).ready_database()
    with db.session(read_only=True) as session:
        job = JobRepository(session).require(job_uuid) if job_uuid is not None else None
        artifacts = ArtifactRepository(session)
        total = artifacts.count(job)
        with progress_bar("verifying artifact files", total) as meter:
            report = artifacts.verify_files(job, on_file=lambda _: meter.advance())
    scope = f" of job {job.uuid}" if job is not None else ""

    def write(session: Session) -> AppendedEntry:
        scoped = JobRepository(session).require(job.uuid) if job is not None else None
        return AuditLogRepository(session, context).append(
            AuditAction.VERIFY,
            TARGET,
            _description(report, scope),
            target_id=scoped.uuid if scoped is not None else None,
            job=scoped,
            details=_details(report, job),
        )

    recorded = record_outcome(db, write, "verification")
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "checked": report.checked,
                "job_uuid": job.uuid if job is not None else None,
                "problems": [_problem_dict(problem) for problem in report.problems],
                "audit_entry": recorded.as_dict(),
            }
        )
    else:
        if report.ok:
            say(
                f"all {plural(report.checked, 'artifact file')}{scope} match their recorded "
                "size and hashes"
            )
        for problem in report.problems:
            say(str(problem))
        say(recorded.note)
    if not report.ok:
        raise IntegrityFailureError(
            f"{len(report.problems)} of {plural(report.checked, 'artifact file')}{scope} "
            f"failed verification ({_kinds(report)})"
        )


def _kinds(report: FilesReport) -> str:
    counts: dict[str, int] = {}
    for problem in report.problems:
        counts[problem.kind.value] = counts.get(problem.kind.value, 0) + 1
    return ", ".join(f"{count} {kind}" for kind, count in counts.items())


def _description(report: FilesReport, scope: str) -> str:
    files = plural(report.checked, "artifact file")
    if report.ok:
        return f"verified {files}{scope}: all match"
    return f"verified {files}{scope}: {len(report.problems)} failed ({_kinds(report)})"


def _problem_dict(problem: FileProblem) -> dict[str, Any]:
    return {
        "artifact_uuid": problem.artifact_uuid,
        "job_uuid": problem.job_uuid,
        "path": problem.path,
        "kind": problem.kind.value,
        "detail": problem.detail,
    }


def _details(report: FilesReport, job: Job | None) -> dict[str, Any]:
    return {
        "checked": report.checked,
        "problems": len(report.problems),
        "job_uuid": job.uuid if job is not None else None,
        "first_problems": [_problem_dict(p) for p in report.problems[:RECORDED_PROBLEMS]],
    }
