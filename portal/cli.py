"""CLI commands (`flask --app wsgi …`). Bad input gives one clear line and exit 1.

Feature packages add their own commands in `portal/<feature>/cli.py` with a
`register(app)` function; they are picked up here. The helpers they share
(fail, database_guard, alembic_config) are in portal.cli_support.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click
from alembic import command
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.cli_support import alembic_config, database_guard, fail
from portal.extensions import db

def register(app: Flask) -> None:
    db_group = AppGroup("db", help="Database migrations.")

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    @database_guard
    def upgrade(revision: str) -> None:
        """Migrate the database to REVISION (default: the newest)."""
        command.upgrade(alembic_config(), revision)

    @db_group.command("downgrade")
    @click.argument("revision", default="-1")
    @database_guard
    def downgrade(revision: str) -> None:
        command.downgrade(alembic_config(), revision)

    @db_group.command("revision")
    @click.option("-m", "--message", required=True)
    def revision(message: str) -> None:
        """Autogenerate a revision from the models."""
        command.revision(alembic_config(), message=message, autogenerate=True)

    app.cli.add_command(db_group)

    @app.cli.command("seed-demo")
    @database_guard
    def seed_demo_command() -> None:
        """Create the demo household and staff (idempotent; refused in production)."""
        if current_app.config["PORTAL_ENV"] == "production":
            fail("seed-demo is refused when PORTAL_ENV=production")
        from portal.seed import seed_demo

        created = seed_demo(db.session)
        db.commit()
        click.echo("demo data created" if created else "demo data already present")

    @app.cli.command("seed-bulk")
    @click.option("--members", "count", type=int, required=True, help="how many members to add")
    @database_guard
    def seed_bulk_command(count: int) -> None:
        """Add COUNT members with contracts, fast, for benchmarks."""
        if current_app.config["PORTAL_ENV"] == "production":
            fail("seed-bulk is refused when PORTAL_ENV=production")
        if count <= 0:
            fail("--members must be a positive number")
        import time

        from portal.seed import seed_bulk
        started = time.perf_counter()
        with click.progressbar(length=count, label="members", show_pos=True, show_eta=True,
                               file=sys.stderr) as bar:
            added = seed_bulk(db.session, count, progress=bar.update)
        elapsed = time.perf_counter() - started
        click.echo(f"added {added} members in {elapsed:.1f} s ({added / elapsed * 60:,.0f} per minute)")

    @app.cli.command("create-staff")
    @click.argument("email")
    @click.option("--role", "roles", multiple=True, required=True, help="support, cs, marketing or admin")
    @click.option("--name", default=None)
    @click.option("--password", default=None, help="initial password (generated when omitted)")
    @database_guard
    def create_staff_command(email: str, roles: tuple[str, ...], name: str | None, password: str | None) -> None:
        """Create a staff user and print the TOTP secret once."""
        import secrets

        from portal.staff.accounts import StaffError, create_staff, provisioning_uri
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        try:
            staff = create_staff(db.session, email, list(roles), password, name=name)
        except StaffError as error:
            db.session.rollback()
            fail(error.message)
        db.commit()
        click.echo(f"created {staff.email} ({', '.join(sorted(staff.role_names))})")
        if generated:
            click.echo(f"initial password: {password}")
        click.echo(f"TOTP secret (shown once): {staff.totp_secret}")
        click.echo(f"otpauth URI: {provisioning_uri(staff)}")

    @app.cli.command("deliver-outbox")
    @click.option("--limit", default=500, type=int)
    @database_guard
    def deliver_outbox_command(limit: int) -> None:
        """Send queued notices; safe to run from cron on several servers."""
        from portal.messaging.services import deliver_pending

        sent, failed = deliver_pending(db.session, limit=limit)
        click.echo(f"sent {sent}, failed {failed}")

    for module_path in sorted(Path(__file__).parent.glob("*/cli.py")):
        module = importlib.import_module(f"portal.{module_path.parent.name}.cli")
        module.register(app)
