"""`flask --app wsgi publish-scheduled`: publish the tips whose time has come (cron, every minute)."""
from __future__ import annotations

import click
from flask import Flask


def register(app: Flask) -> None:
    from portal.cli_support import database_guard

    @app.cli.command("publish-scheduled")
    @database_guard
    def publish_scheduled_command() -> None:
        """Publish scheduled tips that are due; idempotent and safe on several servers at once."""
        from portal.extensions import db
        from portal.tips.services import publish_due

        published = publish_due(db.session)
        db.commit()
        click.echo(f"published {len(published)}" + (": " + ", ".join(t.slug for t in published) if published else ""))
