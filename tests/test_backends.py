"""The test harness itself: each backend fixture yields a working, empty, private database."""

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url


def test_database_is_reachable_and_empty(database_url: str, backend: str) -> None:
    url = make_url(database_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            assert inspect(conn).get_table_names() == []
        assert engine.dialect.name == backend
    finally:
        engine.dispose()


@pytest.mark.postgresql
def test_each_postgres_test_gets_its_own_database(postgres_database_url: str) -> None:
    assert make_url(postgres_database_url).database.startswith("edc_test_")  # type: ignore[union-attr]
