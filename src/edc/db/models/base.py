"""Declarative base, naming convention and the identifier and timestamp mixins."""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Integer, MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from edc.db.ids import new_uuid
from edc.db.types import UTCDateTime, json_type, utc_now

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit keys on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is already 64-bit (the rowid).
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """SQLAlchemy declarative base for all models; every constraint gets a stable name."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: json_type(),
    }


class TimestampMixin:
    """`created_at` and `updated_at`, timezone-aware UTC; `updated_at` moves on every UPDATE."""

    created_at: Mapped[datetime] = mapped_column(default=utc_now, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now, nullable=False)


class IdentifierMixin:
    """Surrogate integer `id` for joins and a public, time-ordered `uuid` for people and exports."""

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(
        String(36), default=new_uuid, unique=True, nullable=False, index=True
    )


def table_of(model: type[Base]) -> Table:
    """The Core table of a model, typed as such, for bulk statements that skip the ORM."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
