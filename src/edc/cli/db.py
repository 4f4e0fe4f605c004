"""`edc db`: create, migrate and inspect the database (init, upgrade, downgrade, status), seed a
sample case and back it up."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from edc.cli.context import app_context
from edc.cli.output import print_json, stdout
from edc.db import migrate
from edc.db.backup import backup_database
from edc.db.seed import seed_sample_case
from edc.db.status import gather_status

app = typer.Typer(help="Create, migrate and inspect the database schema.", no_args_is_help=True)

REVISION_HELP = "Target revision: an id such as 0001, head, base or a relative step such as -1."


def _say(message: str) -> None:
    stdout.print(message, markup=False, highlight=False)


def _name(revision: str | None) -> str:
    return f"revision {revision}" if revision else "no schema (base)"


@app.command("init")
def init(ctx: typer.Context) -> None:
    """Create all tables from the models and stamp the head revision (a new, empty database)."""
    db = app_context(ctx).database()
    if migrate.init_schema(db):
        _say(f"created the edc schema at revision {migrate.head_revision()} in {db.masked_url}")
    else:
        _say(
            f"database {db.masked_url} already has the edc schema at revision "
            f"{migrate.head_revision()}; nothing to do"
        )


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Option("--revision", "-r", help=REVISION_HELP)] = "head",
    sql: Annotated[
        bool,
        typer.Option(
            "--sql", help="Print the SQL for a DBA instead of running it (no connection)."
        ),
    ] = False,
) -> None:
    """Apply the migrations up to REVISION (default: head), all in one transaction."""
    db = app_context(ctx).database()
    if sql:
        migrate.upgrade(db, revision, sql=True, output=sys.stdout)
        return
    change = migrate.upgrade(db, revision)
    if change.before == change.after:
        _say(f"database {db.masked_url} is already at {_name(change.after)}; nothing to do")
    else:
        _say(f"upgraded {db.masked_url} from {_name(change.before)} to {_name(change.after)}")


@app.command("downgrade")
def downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Option("--revision", "-r", help=REVISION_HELP)] = "-1",
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="Downgrade even though edc's tables hold rows."),
    ] = False,
) -> None:
    """Undo migrations down to REVISION (default: one step).

    Refused without --yes whenever any of edc's tables holds rows: a downgrade may drop tables or
    columns, and evidence is not something to lose by accident.
    """
    db = app_context(ctx).database()
    change = migrate.downgrade(db, revision, refuse_if_rows=not yes)
    if change.before == change.after:
        _say(f"database {db.masked_url} is already at {_name(change.after)}; nothing to do")
    else:
        _say(f"downgraded {db.masked_url} from {_name(change.before)} to {_name(change.after)}")


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show the database, its revision, this edc's head and the migrations still to apply."""
    report = gather_status(app_context(ctx).database())
    if as_json:
        print_json(report.to_dict())
        return
    table = Table(title="Database status", show_header=False)
    table.add_column("field")
    table.add_column("value")
    rows = {
        "database": report.url,
        "state": report.state,
        "current revision": report.current or "none",
        "head revision": report.head,
        "pending": ", ".join(report.pending) or "none",
    }
    if report.jobs is not None:
        rows["jobs"] = ", ".join(f"{status} {count}" for status, count in report.jobs.items())
    if report.audit is not None:
        rows["audit chain"] = (
            f"{report.audit['count']} entries, head {report.audit['last_hash'] or 'none'}"
        )
        if report.audit["pending"]:
            rows["audit chain"] += (
                f"; {report.audit['pending']} event(s) recorded, not yet sealed into the chain"
            )
    for field, value in rows.items():
        table.add_row(field, Text(value))
    stdout.print(table)


@app.command("seed")
def seed(
    ctx: typer.Context,
    directory: Annotated[
        Path,
        typer.Option("--artifacts-dir", help="Where the sample evidence files are written."),
    ] = Path("edc-sample-artifacts"),
    force: Annotated[
        bool, typer.Option("--force", help="Add the sample case even if jobs exist.")
    ] = False,
) -> None:
    """Create a believable sample case: jobs in every status, real evidence files, audit trail."""
    db = app_context(ctx).ready_database()
    result = seed_sample_case(db, directory, force=force)
    _say(
        f"seeded {result.jobs} jobs and {result.artifacts} artifacts "
        f"(files in {result.directory}) into {db.masked_url}"
    )


@app.command("backup")
def backup(
    ctx: typer.Context,
    destination: Annotated[Path, typer.Argument(help="File to write the copy to.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite DESTINATION if it exists.")
    ] = False,
) -> None:
    """Write a consistent copy while writers are active (SQLite backup API, or pg_dump)."""
    db = app_context(ctx).ready_database()
    result = backup_database(db, destination, overwrite=force)
    _say(
        f"backed up {db.masked_url} to {result.destination} ({result.size} bytes, {result.method})"
    )
