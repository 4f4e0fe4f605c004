"""Persistence: engine and sessions, models, migrations, repositories."""

from edc.db.engine import DatabaseEngine

__all__ = ["DatabaseEngine"]
