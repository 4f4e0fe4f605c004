"""Hand-written DDL that SQLAlchemy models cannot express (triggers, expression indexes).

Each module is a frozen, versioned snapshot: `create_tables()` and the migration that
introduced it run the same statements, so both ways of making a schema give the same result.
A change is a new version (and a new migration), never an edit.
"""
