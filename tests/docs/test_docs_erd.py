"""The Mermaid erDiagram in docs/database.md matches the models: tables, columns, types, keys,
nullability and relationships."""

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, Table, UniqueConstraint
from sqlalchemy.dialects import postgresql

from edc.db.models import Base

DOC = Path(__file__).resolve().parents[2] / "docs" / "database.md"
MERMAID = re.compile(r"^```mermaid[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
ENTITY = re.compile(r"^\s*(\w+)\s*\{\s*$")
ATTRIBUTE = re.compile(
    r"^\s*(?P<type>[A-Za-z][\w()\[\]-]*)\s+(?P<name>[A-Za-z_][\w-]*)"
    r'(?:\s+(?P<keys>(?:PK|FK|UK)(?:\s*,\s*(?:PK|FK|UK))*))?(?:\s+"(?P<comment>[^"]*)")?\s*$'
)
RELATIONSHIP = re.compile(r"^\s*(\w+)\s+[|}o]{2}(?:--|\.\.)[|{o]{2}\s+(\w+)\s*:")
# The diagram's type words are PostgreSQL's own, shortened where PostgreSQL has a short name.
SHORT_NAMES = {"timestamptz": "TIMESTAMP WITH TIME ZONE"}


@dataclass(frozen=True)
class Attribute:
    type: str
    keys: frozenset[str]
    nullable: bool


def diagram() -> tuple[dict[str, dict[str, Attribute]], set[tuple[str, str]]]:
    """Entities with their attributes, and (parent, child) relationships, from the erDiagram."""
    blocks = [b for b in MERMAID.findall(DOC.read_text(encoding="utf-8")) if "erDiagram" in b]
    assert len(blocks) == 1, "docs/database.md holds exactly one Mermaid erDiagram"
    entities: dict[str, dict[str, Attribute]] = {}
    relationships: set[tuple[str, str]] = set()
    current: dict[str, Attribute] | None = None
    for line in blocks[0].splitlines():
        if not line.strip() or line.strip() == "erDiagram":
            continue
        if current is None:
            if entity := ENTITY.match(line):
                current = entities.setdefault(entity.group(1), {})
            elif relationship := RELATIONSHIP.match(line):
                relationships.add((relationship.group(1), relationship.group(2)))
            else:
                raise AssertionError(f"cannot read erDiagram line {line!r}")
            continue
        if line.strip() == "}":
            current = None
            continue
        attribute = ATTRIBUTE.match(line)
        assert attribute is not None, f"cannot read attribute line {line!r}"
        name = attribute.group("name")
        assert name not in current, f"attribute {name} listed twice"
        keys = frozenset(k.strip() for k in (attribute.group("keys") or "").split(",") if k)
        comment = attribute.group("comment") or ""
        current[name] = Attribute(attribute.group("type"), keys, comment.startswith("nullable"))
    assert current is None, "an entity block is not closed"
    return entities, relationships


def postgres_type(column: Column[object]) -> str:
    return column.type.compile(dialect=postgresql.dialect())


def is_unique(table: Table, column: Column[object]) -> bool:
    if column.unique:
        return True
    single = [c for c in table.constraints if isinstance(c, UniqueConstraint)] + [
        i for i in table.indexes if i.unique
    ]
    return any(list(c.columns) == [column] for c in single)


def test_the_diagram_has_exactly_the_tables_and_columns_of_the_models() -> None:
    entities, _ = diagram()
    tables = Base.metadata.tables
    assert set(entities) == set(tables)
    for name, table in tables.items():
        assert set(entities[name]) == {column.name for column in table.columns}, name


def test_the_diagram_types_keys_and_nullability_match_the_models() -> None:
    entities, _ = diagram()
    for name, table in Base.metadata.tables.items():
        for column in table.columns:
            shown = entities[name][column.name]
            where = f"{name}.{column.name}"
            expected_type = SHORT_NAMES.get(shown.type, shown.type.upper())
            assert postgres_type(column) == expected_type, where
            assert ("PK" in shown.keys) == column.primary_key, where
            assert ("FK" in shown.keys) == bool(column.foreign_keys), where
            assert ("UK" in shown.keys) == is_unique(table, column), where
            assert shown.nullable == column.nullable, where


def test_the_diagram_relationships_are_the_foreign_keys() -> None:
    _, relationships = diagram()
    foreign_keys = {
        (fk.column.table.name, table.name)
        for table in Base.metadata.tables.values()
        for fk in table.foreign_keys
    }
    assert relationships == foreign_keys
