"""`edc audit`: verify the hash chain, print and check checkpoints, export and read the log."""

import io
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from edc.cli.actor import ActorOption, audit_context
from edc.cli.context import app_context
from edc.cli.output import print_json, stdout
from edc.cli.progress import progress_bar
from edc.cli.recording import Recorded, record_outcome
from edc.cli.render import audit_dict, audit_table, note, plural, say
from edc.db.engine import DatabaseEngine
from edc.db.models import AuditAction
from edc.db.repositories import AuditContext, AuditLogRepository, JobRepository
from edc.db.sealing import count_pending, seal_before_reading
from edc.errors import InputError, IntegrityFailureError, NotFoundError
from edc.integrity.chain import (
    Checkpoint,
    RecordRef,
    VerifyResult,
)

app = typer.Typer(
    help="Verify, checkpoint, export and read the tamper-evident audit log.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
TARGET = "audit_log"
DEFAULT_LIMIT = 50


@app.command("verify")
def verify(
    ctx: typer.Context,
    checkpoint_file: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            metavar="FILE",
            help="A checkpoint saved earlier with `edc audit head --json`; detects a cut tail.",
        ),
    ] = None,
    as_json: JsonOption = False,
    actor: ActorOption = None,
) -> None:
    """Recompute the whole hash chain and name the first bad entry; exit 1 if there is one.

    The check reads only. Its outcome is then recorded as a new audit entry, which is linked to
    the chain's current tip but is not part of what was verified.
    """
    context = audit_context(actor)
    checkpoint = _read_checkpoint(checkpoint_file) if checkpoint_file is not None else None
    db = app_context(ctx).ready_database()
    seal_before_reading(db)
    with db.session(read_only=True) as session:
        result = _verify(session, checkpoint)
        pending = count_pending(session)
    recorded = record_outcome(
        db,
        lambda session: AuditLogRepository(session, context).append(
            AuditAction.VERIFY,
            TARGET,
            _description(result),
            details={**_details(result, checkpoint), "pending_events": pending},
        ),
        "verification",
        ", after the entries verified",
    )
    head = result.head
    if as_json:
        print_json(
            {
                "ok": result.ok,
                "entries_checked": result.entries_checked,
                "problem": result.problem.value if result.problem is not None else None,
                "first_bad": _ref_dict(result.first_bad),
                "message": result.message,
                "head": _checkpoint_dict(head),
                "checkpoint": _checkpoint_dict(checkpoint) if checkpoint is not None else None,
                "pending_events": pending,
                "audit_entry": recorded.as_dict(),
            }
        )
    elif result.ok:
        _say_pending(pending)
        entries = plural(head.count, "entry", "entries")
        say(f"audit chain intact: {entries}, head {head.last_hash or 'none (empty chain)'}")
        if checkpoint is not None:
            say(
                f"checkpoint holds: its {plural(checkpoint.count, 'entry', 'entries')} "
                f"(last hash {checkpoint.last_hash or 'none'}) begin this chain"
            )
        say(recorded.note)
    else:
        _say_pending(pending)
        say(f"audit chain read: {plural(head.count, 'entry', 'entries')}")
        say(recorded.note)
    if not result.ok:
        raise IntegrityFailureError(
            f"audit chain verification failed ({_problem(result)}): {result.message}"
        )


def _say_pending(pending: int) -> None:
    """Events recorded but not in the chain yet: only a database that cannot be written has them
    here, since every audit command seals first."""
    if pending:
        note(
            f"{plural(pending, 'audit event', 'audit events')} recorded but not yet sealed into "
            "the chain (the database cannot be written now); they are not covered by this output"
        )


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read checkpoint file {path}: {exc.strerror or type(exc).__name__}"
        ) from None
    try:
        return Checkpoint.from_json(data)
    except InputError as exc:
        raise InputError(f"checkpoint file {path} does not parse: {exc}") from None


def _verify(session: Session, checkpoint: Checkpoint | None) -> VerifyResult:
    """`AuditLogRepository.verify` with a progress bar over the chain's length."""
    audit = AuditLogRepository(session)
    with progress_bar("verifying audit chain", audit.head().count) as meter:
        return audit.verify(checkpoint, on_entry=meter.advance)


def _problem(result: VerifyResult) -> str:
    return result.problem.value.replace("_", " ") if result.problem is not None else "unknown"


def _description(result: VerifyResult) -> str:
    entries = plural(result.entries_checked, "entry", "entries")
    if result.ok:
        return f"audit chain verified: intact, {entries}"
    where = f" at entry {result.first_bad}" if result.first_bad is not None else ""
    return f"audit chain verification failed: {_problem(result)}{where} ({entries} read)"


def _details(result: VerifyResult, checkpoint: Checkpoint | None) -> dict[str, Any]:
    """What the entry records; `verified_through_id` shows it does not cover itself."""
    return {
        "ok": result.ok,
        "entries_checked": result.entries_checked,
        "problem": result.problem.value if result.problem is not None else None,
        "first_bad": _ref_dict(result.first_bad),
        "verified_through_id": result.head.last_id,
        "head": _checkpoint_dict(result.head),
        "checkpoint": _checkpoint_dict(checkpoint) if checkpoint is not None else None,
    }


def _ref_dict(ref: RecordRef | None) -> dict[str, Any] | None:
    return None if ref is None else {"id": ref.id, "uuid": ref.uuid}


def _checkpoint_dict(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "count": checkpoint.count,
        "last_id": checkpoint.last_id,
        "last_hash": checkpoint.last_hash,
    }


@app.command("head")
def head(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Print the chain's checkpoint (entry count, last id and hash); keep it outside the database.

    `edc audit head --json > cp.json` now, `edc audit verify --checkpoint cp.json` later.
    """
    db = app_context(ctx).ready_database()
    seal_before_reading(db)
    with db.session(read_only=True) as session:
        checkpoint = AuditLogRepository(session).head()
        pending = count_pending(session)
    _say_pending(pending)
    if as_json:
        typer.echo(checkpoint.to_json())
        return
    if checkpoint.count == 0:
        say("audit chain head: 0 entries (empty chain)")
    else:
        say(
            f"audit chain head: {plural(checkpoint.count, 'entry', 'entries')}, "
            f"last entry id {checkpoint.last_id}, hash {checkpoint.last_hash}"
        )
    note("keep a checkpoint outside the database: edc audit head --json > checkpoint.json")


@contextmanager
def _readable() -> Iterator[None]:
    """A stored row edc could never have written is an integrity problem, not a crash."""
    try:
        yield
    except (ValueError, LookupError) as exc:
        raise IntegrityFailureError(
            f"an audit entry cannot be read back as edc wrote it ({exc}); "
            "run `edc audit verify` to find it"
        ) from None


@app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[
        str,
        typer.Argument(metavar="OUT.jsonl", help="File to write ('-' for stdout)."),
    ],
    actor: ActorOption = None,
) -> None:
    """Export the whole chain as JSON Lines, one entry a line, in chain order.

    The file is written beside OUT under a temporary name and renamed when complete, so OUT is
    never a half-written export. The export itself is then recorded in the audit log; on a
    database that cannot be written (a read-only copy of the evidence) the export is still made
    and the output says it could not be recorded.
    """
    context = audit_context(actor)
    db = app_context(ctx).ready_database()
    seal_before_reading(db)
    if out == "-":
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
        try:
            with db.session(read_only=True) as session, _readable():
                checkpoint = AuditLogRepository(session).export(stream)
            stream.flush()
        finally:
            stream.detach()
        recorded = _record_export(db, context, checkpoint, "stdout")
        note(_exported(checkpoint, "stdout"))
        note(recorded.note)
        return
    target = Path(out)
    checkpoint = _export_atomically(db, target)
    recorded = _record_export(db, context, checkpoint, str(target.resolve()))
    say(_exported(checkpoint, str(target)))
    say(recorded.note)


def _record_export(
    db: DatabaseEngine, context: AuditContext, checkpoint: Checkpoint, where: str
) -> Recorded:
    """An EXPORT entry naming what was exported (through which entry) and where to; best
    effort, like verification's record: the export exists whether or not it is recorded."""
    return record_outcome(
        db,
        lambda session: AuditLogRepository(session, context).append(
            AuditAction.EXPORT,
            TARGET,
            f"audit chain exported: {checkpoint.count} entries to {where}",
            details={"destination": where, "exported": _checkpoint_dict(checkpoint)},
        ),
        "export",
    )


def _exported(checkpoint: Checkpoint, where: str) -> str:
    entries = plural(checkpoint.count, "audit entry", "audit entries")
    if checkpoint.count == 0:
        return f"exported {entries} to {where}"
    return (
        f"exported {entries} to {where}; last entry id {checkpoint.last_id}, "
        f"head {checkpoint.last_hash}"
    )


def _export_atomically(db: DatabaseEngine, target: Path) -> Checkpoint:
    if target.is_dir():
        raise InputError(f"cannot export to {target}: it is a directory")
    directory = target.parent
    try:
        handle, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{target.name}.", suffix=".part"
        )
    except FileNotFoundError:
        raise InputError(f"cannot export to {target}: no directory {directory}") from None
    except OSError as exc:
        raise InputError(f"cannot export to {target}: {exc.strerror}") from None
    try:
        with open(handle, "w", encoding="utf-8", newline="\n") as stream:
            with db.session(read_only=True) as session, _readable():
                checkpoint = AuditLogRepository(session).export(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)
    return checkpoint


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); skipped where directories cannot be opened."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


@app.command("log")
def log(
    ctx: typer.Context,
    job_uuid: Annotated[
        str | None,
        typer.Option("--job", metavar="UUID", help="Only this job's entries (even if deleted)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=100_000, help="Entries to show.")
    ] = DEFAULT_LIMIT,
    as_json: JsonOption = False,
) -> None:
    """List audit entries in chain order (oldest first)."""
    db = app_context(ctx).ready_database()
    seal_before_reading(db)
    with db.session(read_only=True) as session, _readable():
        _say_pending(count_pending(session))
        audit = AuditLogRepository(session)
        if job_uuid is not None:
            entries = audit.entries_for_job_uuid(job_uuid, limit + 1)
            if not entries and JobRepository(session).get_by_uuid(job_uuid) is None:
                raise NotFoundError(f"no job with uuid {job_uuid} and no audit entries for one")
        else:
            entries = audit.list_entries(limit=limit + 1)
    more = len(entries) > limit
    entries = entries[:limit]
    if as_json:
        print_json({"entries": [audit_dict(entry) for entry in entries], "more": more})
        return
    if not entries:
        say("no audit entries")
        return
    stdout.print(audit_table(entries))
    if more:
        note(f"showing the first {limit} entries; pass a larger --limit to see more")
