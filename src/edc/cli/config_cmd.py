"""`edc config show`: print the effective configuration, passwords masked."""

from typing import Annotated, Any

import typer
from rich.table import Table

from edc.cli.context import app_context
from edc.cli.output import print_json, stdout
from edc.config.secrets import mask_url

app = typer.Typer(help="Inspect configuration.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Print the effective configuration (defaults < file < environment < flags)."""
    config = app_context(ctx).config
    data: dict[str, Any] = config.model_dump()
    data["database"]["url"] = mask_url(config.database.url)
    if as_json:
        print_json(data)
        return
    table = Table(title="Effective configuration", show_header=True)
    table.add_column("key")
    table.add_column("value")
    for section, values in data.items():
        for key, value in values.items():
            table.add_row(f"{section}.{key}", str(value))
    stdout.print(table)
