"""The root `edc` command: global options, error handling and the command groups."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from edc import __version__
from edc.cli import config_cmd
from edc.cli.context import AppContext
from edc.cli.output import error
from edc.errors import EdcError


class EdcGroup(TyperGroup):
    """Root group that turns edc's own errors into one line on stderr and their exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except EdcError as exc:
            obj = ctx.obj
            if isinstance(obj, AppContext) and obj.debug:
                raise
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=EdcGroup,
    help="edc: capture archived web pages as evidence, with a tamper-evident audit trail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(config_cmd.app, name="config")


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


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="edc")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        error("interrupted")
        sys.exit(130)
