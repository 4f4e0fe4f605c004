"""`edc jobs`: import capture requests from CSV, list, show and cancel jobs."""

import json
from pathlib import Path
from typing import Annotated

import typer

from edc.cli.actor import ActorOption, audit_context
from edc.cli.context import app_context
from edc.cli.output import print_json, stdout
from edc.cli.progress import progress_bar
from edc.cli.render import (
    artifact_dict,
    artifacts_table,
    audit_dict,
    audit_table,
    fields_table,
    job_dict,
    jobs_table,
    note,
    plural,
    say,
)
from edc.db.models import JobStatus
from edc.db.repositories import ArtifactRepository, AuditLogRepository, JobRepository
from edc.errors import InputError
from edc.ingest.importer import ImportRejectedError, ImportReport, import_file

app = typer.Typer(help="Import, list, show and cancel capture jobs.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DEFAULT_LIMIT = 50
TRAIL_LIMIT = 1_000  # audit entries shown with a job; `edc audit log --job` shows more


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE.csv", help="CSV with url, when, direction, mode.")
    ],
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Import the valid rows and list the invalid ones."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report; write nothing.")
    ] = False,
    allow_duplicates: Annotated[
        bool,
        typer.Option(
            "--allow-duplicates",
            help="Create a job even when one with the same url, when, direction and mode exists.",
        ),
    ] = False,
    as_json: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Import a CSV of capture requests as pending jobs, all or nothing unless --skip-invalid.

    Rows equal to an existing job (url, when, direction, mode) are skipped, so importing a
    file twice creates its jobs once.
    """
    context = audit_context(actor)
    db = app_context(ctx).ready_database()
    try:
        total: int | None = file.stat().st_size
    except OSError:
        total = None  # import_file says what is wrong with the path
    try:
        with progress_bar(f"importing {file.name}", total, unit="bytes") as meter:
            report = import_file(
                db,
                file,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                allow_duplicates=allow_duplicates,
                context=context,
                on_progress=meter.set,
            )
    except ImportRejectedError as exc:
        if as_json:
            print_json(exc.report.as_dict())
        raise InputError(_rejection(exc.report)) from None
    if as_json:
        print_json(report.as_dict())
        return
    for line in _summary(report):
        say(line)


def _problems(report: ImportReport) -> list[str]:
    """The problems kept in the report, indented, and how many more there were."""
    lines = [f"  {problem}" for problem in report.errors]
    more = report.error_count - len(report.errors)
    if more > 0:
        lines.append(f"  and {plural(more, 'more problem')}")
    return lines


def _rejection(report: ImportReport) -> str:
    """The error for an atomic import with invalid rows: one sentence, then every problem shown."""
    problems = (
        f" ({plural(report.error_count, 'problem')})"
        if report.error_count != report.invalid_rows
        else ""
    )
    dry = " (dry run)" if report.dry_run else ""
    head = (
        f"{report.path}: {plural(report.invalid_rows, 'invalid row')}{problems}, "
        f"nothing was imported{dry}; fix the file or pass --skip-invalid to import the valid rows:"
    )
    return "\n".join([head, *_problems(report)])


def _duplicates(count: int, verb: str) -> str:
    if count == 1:
        return f"1 duplicate of an existing job {verb}"
    return f"{count} duplicates of existing jobs {verb}"


def _summary(report: ImportReport) -> list[str]:
    """What the import did (or would do), in words."""
    lines = [f"{report.path}: {report.size} bytes, sha256 {report.sha256}"]
    if report.dry_run:
        lines.append("dry run: nothing was written")
        created = f"{plural(report.created, 'job')} would be created"
        duplicates = _duplicates(report.duplicates, "would be skipped")
    else:
        created = f"{plural(report.created, 'job')} created"
        duplicates = _duplicates(report.duplicates, "skipped")
    invalid = plural(report.invalid_rows, "invalid row")
    if report.invalid_rows:
        invalid += " skipped:"
    lines.append(f"{created}; {duplicates}; {invalid}")
    return lines + _problems(report)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        JobStatus | None,
        typer.Option("--status", "-s", case_sensitive=False, help="Only jobs in this status."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=10_000, help="Jobs per page.")
    ] = DEFAULT_LIMIT,
    after: Annotated[
        str | None,
        typer.Option("--after", metavar="UUID", help="Start after this job (the next page)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List jobs, newest first, a page at a time (keyset paging with --after)."""
    db = app_context(ctx).ready_database()
    with db.session(read_only=True) as session:
        jobs = JobRepository(session).list_by_status(status, limit + 1, after=after)
    more = len(jobs) > limit
    jobs = jobs[:limit]
    next_cursor = jobs[-1].uuid if more else None
    if as_json:
        print_json({"jobs": [job_dict(job) for job in jobs], "next_cursor": next_cursor})
        return
    if not jobs:
        which = f" with status {status.value}" if status is not None else ""
        say(f"no {'more ' if after else ''}jobs{which}")
        return
    stdout.print(jobs_table(jobs))
    if next_cursor is not None:
        options = [] if status is None else ["--status", status.value]
        if limit != DEFAULT_LIMIT:
            options += ["--limit", str(limit)]
        note(f"next page: edc jobs list {' '.join([*options, '--after', next_cursor])}")


@app.command("show")
def show(
    ctx: typer.Context,
    uuid: Annotated[str, typer.Argument(metavar="UUID", help="The job's uuid.")],
    as_json: JsonOption = False,
) -> None:
    """Show a job with all its fields, its artifacts and its audit trail."""
    db = app_context(ctx).ready_database()
    with db.session(read_only=True) as session:
        job = JobRepository(session).require(uuid)
        artifacts = ArtifactRepository(session).get_by_job(job.id)
        trail = AuditLogRepository(session).entries_for_job_uuid(job.uuid, TRAIL_LIMIT + 1)
    more = len(trail) > TRAIL_LIMIT
    trail = trail[:TRAIL_LIMIT]
    if as_json:
        print_json(
            {
                "job": job_dict(job),
                "artifacts": [artifact_dict(artifact, job.uuid) for artifact in artifacts],
                "audit": [audit_dict(entry) for entry in trail],
                "audit_truncated": more,
            }
        )
        return
    fields = job_dict(job)
    fields["options"] = json.dumps(job.options, ensure_ascii=False, sort_keys=True)
    stdout.print(fields_table(fields, title=f"job {job.uuid}"))
    if artifacts:
        stdout.print(artifacts_table(artifacts, title="artifacts"))
    else:
        say("no artifacts")
    stdout.print(audit_table(trail, title="audit trail", with_ids=False))
    if more:
        note(
            f"showing the first {TRAIL_LIMIT} audit entries; "
            f"see them all with: edc audit log --job {job.uuid} --limit N"
        )


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    uuid: Annotated[str, typer.Argument(metavar="UUID", help="The job's uuid.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why; kept as the job's error message.")
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Cancel a pending or running job (audited)."""
    context = audit_context(actor)
    db = app_context(ctx).ready_database()
    with db.session() as session:
        jobs = JobRepository(session, context)
        job = jobs.require(uuid)
        before = job.status
        jobs.cancel(job, reason)
    because = f": {reason}" if reason else ""
    say(f"cancelled job {job.uuid} (was {before.value}){because}")
