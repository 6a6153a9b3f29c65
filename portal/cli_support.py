"""What every command line command uses: a one-line failure, the database
guard, the Alembic configuration. Feature commands (portal/<feature>/cli.py)
import these; portal.cli registers the commands."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
from alembic.config import Config
from flask import current_app
from sqlalchemy.exc import OperationalError

from portal.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (url or current_app.config["DATABASE_URL"]).replace("%", "%%"))
    return config


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def database_guard(func):
    """An unreachable database is one line, not a traceback."""

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except OperationalError as error:
            db.session.rollback()
            fail(f"database unreachable: {str(error.orig).splitlines()[0] if error.orig else error}")
    return wrapped
