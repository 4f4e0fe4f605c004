"""The root `edc` command: global options, error handling and the command groups."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError
from typer.core import TyperGroup

from edc import __version__
from edc.cli import artifacts, audit, config_cmd, db, jobs
from edc.cli.context import AppContext
from edc.cli.output import error
from edc.errors import EXIT_USAGE, EdcError


class EdcGroup(TyperGroup):
    """Root group that turns edc's own errors into one line on stderr and their exit code.

    A database error nobody explained (a connection lost midway, say) is one scrubbed line and
    exit code 2 too; `--debug` shows the traceback instead.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except EdcError as exc:
            obj = ctx.obj
            if isinstance(obj, AppContext) and obj.debug:
                raise
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except SQLAlchemyError as exc:
            obj = ctx.obj
            if not isinstance(obj, AppContext) or obj.debug:
                raise
            original = getattr(exc, "orig", None) or exc
            lines = str(original).strip().splitlines()
            reason = lines[0] if lines else type(original).__name__
            error(obj.scrub(f"database error: {reason}"))
            raise typer.Exit(EXIT_USAGE) from None


app = typer.Typer(
    cls=EdcGroup,
    help="edc: capture archived web pages as evidence, with a tamper-evident audit trail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(db.app, name="db")
app.add_typer(jobs.app, name="jobs")
app.add_typer(artifacts.app, name="artifacts")
app.add_typer(audit.app, name="audit")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"edc {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (TOML or YAML); overrides EDC_CONFIG.",
            dir_okay=False,
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Database URL; beats file and environment."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options shared by every command."""
    overrides: dict[str, dict[str, Any]] = {}
    if database_url is not None:
        overrides["database"] = {"url": database_url}
    ctx.obj = AppContext(config_path=config, overrides=overrides, debug=debug)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="edc")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        error("interrupted")
        sys.exit(130)
