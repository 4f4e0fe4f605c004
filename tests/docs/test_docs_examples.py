"""Every ```python block of the docs runs: blocks of one file share a namespace, in order.

As written they use an in-memory SQLite database (`sqlite://`); they are also run with that URL
replaced by a fresh database of each backend, so what they show holds on PostgreSQL too.
"""

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "docs" / "database.md", ROOT / "README.md"]
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
MEMORY_URL = '"sqlite://"'


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """(line number, code) of each ```python block, in file order."""
    text = path.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 2, match.group(2))
        for match in FENCE.finditer(text)
        if match.group(1) == "python"
    ]


def run_blocks(path: Path, url: str | None = None) -> dict[str, object]:
    """Execute the blocks of `path` in one fresh namespace; return it."""
    namespace: dict[str, object] = {"__name__": f"docs_example_{path.stem}"}
    for line, code in python_blocks(path):
        if url is not None:
            code = code.replace(MEMORY_URL, repr(url))
        # Pad so tracebacks show the line number in the Markdown file.
        compiled = compile("\n" * (line - 1) + code, str(path), "exec")
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compiled, namespace)
    return namespace


def test_database_md_has_the_sections_and_every_setting() -> None:
    from edc.config import DatabaseConfig

    text = (ROOT / "docs" / "database.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    for section in (
        "Overview",
        "Configuration",
        "Schema",
        "Migrations",
        "Repository pattern",
        "Forensic integrity",
        "Backup and restore",
        "Running many workers on PostgreSQL",
    ):
        assert section in headings, f"docs/database.md lacks the section {section!r}"
    for name, field in DatabaseConfig.model_fields.items():
        row = re.search(rf"^\| `database\.{name}` .*$", text, re.MULTILINE)
        assert row is not None, f"the settings table lacks database.{name}"
        assert f"`EDC_DATABASE__{name.upper()}`" in row.group(0)
        default = str(field.default).lower() if isinstance(field.default, bool) else field.default
        assert f"`{default}`" in row.group(0), f"database.{name}: default {default} not shown"


def test_database_md_has_the_examples_the_spec_asks_for() -> None:
    code = "\n".join(code for _, code in python_blocks(ROOT / "docs" / "database.md"))
    for needed in (
        'DatabaseConfig(url="sqlite://")',
        "with db.session() as s:",
        "read_only=True",
        ".create(",
        ".claim_next(",
        ".heartbeat(",
        ".complete(",
        ".register_file(",
        ".verify(",
        ".head()",
        ".export(",
        "LeaseLostError",
    ):
        assert needed in code, f"docs/database.md has no example using {needed}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.name)
def test_python_examples_run_as_written(path: Path) -> None:
    assert path.is_file()
    run_blocks(path)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.name)
def test_python_examples_hold_on_each_backend(path: Path, database_url: str) -> None:
    """The same blocks on an empty SQLite file and an empty PostgreSQL database."""
    blocks = python_blocks(path)
    if not any(MEMORY_URL in code for _, code in blocks):
        assert not any("DatabaseEngine(" in code for _, code in blocks), (
            f"{path.name}: an example opens a database other than {MEMORY_URL}"
        )
        return
    run_blocks(path, database_url)
