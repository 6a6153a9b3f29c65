"""The migrations produce exactly the models' schema; every revision goes up and down."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal.cli_support import alembic_config
from portal.db import make_engine
from portal.models import metadata
from tests.conftest import PG_URL

import pytest


@pytest.fixture
def empty_database(backend, tmp_path):
    if backend == "postgresql":
        from sqlalchemy import text
        name = PG_URL.rsplit("/", 1)[1].split("?")[0] + "_migrations"
        admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            c.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    yield url


def _diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    return diff


def test_migrations_match_models_and_go_up_and_down(empty_database):
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    assert _diff(empty_database) == []
    revisions = list(ScriptDirectory.from_config(config).walk_revisions())
    for _ in revisions:
        command.downgrade(config, "-1")
    engine = make_engine(empty_database)
    from sqlalchemy import inspect
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(config, "head")
    assert _diff(empty_database) == []
