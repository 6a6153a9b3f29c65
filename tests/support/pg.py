"""A PostgreSQL schema of its own for tests that commit for real (concurrency), so the
rolled-back test schema is untouched."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

from portal.db import make_engine
from portal.models import metadata


def schema_url(url: str, schema: str) -> str:
    """The database URL whose connections use `schema` (for an app of its own)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@contextmanager
def own_schema(url: str, schema: str) -> Iterator[Engine]:
    """An engine on a fresh schema holding every table; the schema is dropped afterwards."""
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
