"""How jobs, artifacts and audit entries look on screen (Rich tables) and to scripts (JSON).

JSON times are ISO-8601 UTC with microseconds and `Z`; tables show them to the second.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from edc.cli.output import stderr, stdout
from edc.db.models import Artifact, AuditLog, Job

HASH_PREFIX = 16
UUID_WIDTH = 36  # uuids stay whole on one line: people copy them into the next command
DESCRIPTION_MIN_WIDTH = 24
ID_MIN_WIDTH = 12  # paths and hashes fold onto more lines rather than vanish or lose digits


def say(message: str) -> None:
    """A line of result on stdout, printed as is (no markup, no highlighting)."""
    stdout.print(message, markup=False, highlight=False)


def note(message: str) -> None:
    """A line for the person on stderr (hints, notes), kept out of redirected results."""
    stderr.print(message, markup=False, highlight=False)


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`1 job`, `2 jobs`, `0 entries` (with `many`)."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def iso(moment: datetime | None) -> str | None:
    """`2024-05-01T12:34:56.123456Z`, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def short_time(moment: datetime | None) -> str:
    """`2024-05-01 12:34:56Z` for tables; empty for None."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def job_dict(job: Job) -> dict[str, Any]:
    """Every field of a job, JSON-ready."""
    return {
        "uuid": job.uuid,
        "status": job.status.value,
        "url": job.url,
        "when": job.when,
        "direction": job.direction,
        "mode": job.mode,
        "attempts": job.attempts,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "memento_url": job.memento_url,
        "variance_days": job.variance_days,
        "error_message": job.error_message,
        "source": job.source,
        "options": job.options,
        "locked_by": job.locked_by,
        "locked_until": iso(job.locked_until),
    }


def artifact_dict(artifact: Artifact, job_uuid: str | None = None) -> dict[str, Any]:
    """Every field of an artifact, JSON-ready."""
    return {
        "uuid": artifact.uuid,
        "job_uuid": job_uuid,
        "type": artifact.artifact_type.value,
        "path": artifact.file_path,
        "size": artifact.file_size,
        "mime_type": artifact.mime_type,
        "md5": artifact.md5,
        "sha1": artifact.sha1,
        "sha256": artifact.sha256,
        "source": artifact.source,
        "metadata": artifact.metadata_,
        "created_at": iso(artifact.created_at),
    }


def audit_dict(entry: AuditLog) -> dict[str, Any]:
    """Every field of an audit entry, JSON-ready."""
    return {
        "id": entry.id,
        "uuid": entry.uuid,
        "created_at": iso(entry.created_at),
        "action": entry.action.value,
        "actor": entry.actor,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "description": entry.description,
        "details": entry.details,
        "ip_address": entry.ip_address,
        "user_agent": entry.user_agent,
        "job_uuid": entry.job_uuid,
        "previous_hash": entry.previous_hash,
        "entry_hash": entry.entry_hash,
    }


def _listing(title: str | None) -> Table:
    """A compact table for listings: a rule under the header, no borders."""
    return Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True
    )


def jobs_table(jobs: Iterable[Job], title: str | None = None) -> Table:
    """Jobs, one a row: uuid, status, url, when, direction, mode, attempts, created."""
    table = _listing(title)
    table.add_column("uuid", overflow="fold", min_width=UUID_WIDTH)
    table.add_column("status", no_wrap=True)
    table.add_column("url", overflow="fold", ratio=2)
    table.add_column("when", no_wrap=True)
    table.add_column("direction", no_wrap=True)
    table.add_column("mode", no_wrap=True)
    table.add_column("attempts", justify="right", no_wrap=True)
    table.add_column("created", no_wrap=True)
    for job in jobs:
        table.add_row(
            job.uuid,
            job.status.value,
            Text(job.url),
            Text(job.when),
            Text(job.direction),
            Text(job.mode),
            str(job.attempts),
            short_time(job.created_at),
        )
    return table


def fields_table(fields: dict[str, Any], title: str | None = None) -> Table:
    """A two-column table of field and value (values shown as plain text)."""
    table = Table(title=title, show_header=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in fields.items():
        table.add_row(name, Text("" if value is None else str(value)))
    return table


def artifacts_table(artifacts: Iterable[Artifact], title: str | None = None) -> Table:
    """Artifacts, one a row: uuid, type, path, size, sha256."""
    table = _listing(title)
    table.add_column("uuid", overflow="fold", min_width=UUID_WIDTH)
    table.add_column("type", no_wrap=True)
    table.add_column("path", overflow="fold", min_width=ID_MIN_WIDTH)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("sha256", overflow="fold", min_width=ID_MIN_WIDTH)
    for artifact in artifacts:
        table.add_row(
            artifact.uuid,
            artifact.artifact_type.value,
            Text(artifact.file_path),
            "" if artifact.file_size is None else str(artifact.file_size),
            artifact.sha256 or "",
        )
    return table


def audit_table(
    entries: Iterable[AuditLog], title: str | None = None, *, with_ids: bool = True
) -> Table:
    """Audit entries in chain order: id, time, action, actor, target, description, hash prefix."""
    table = _listing(title)
    if with_ids:
        table.add_column("id", justify="right", no_wrap=True)
    table.add_column("time", no_wrap=True)
    table.add_column("action", no_wrap=True)
    table.add_column("actor", overflow="fold")
    if with_ids:
        table.add_column("target", overflow="fold")
    table.add_column("description", overflow="fold", min_width=DESCRIPTION_MIN_WIDTH)
    if with_ids:
        table.add_column("entry_hash", no_wrap=True)
    for entry in entries:
        target = entry.target_type + (f":{entry.target_id}" if entry.target_id else "")
        cells: list[str | Text] = [
            short_time(entry.created_at),
            entry.action.value,
            Text(entry.actor),
        ]
        if with_ids:
            cells = [str(entry.id), *cells, Text(target)]
        cells.append(Text(entry.description))
        if with_ids:
            cells.append(entry.entry_hash[:HASH_PREFIX] + "…")
        table.add_row(*cells)
    return table
