"""`flask --app wsgi send-cover-end-notices`, `remove-abandoned-uploads` (both in run-jobs) and
`complete-change RECEIPT_NO`."""
from __future__ import annotations

import click
from flask import Flask

from portal.cli_support import fail
from portal.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("send-cover-end-notices")
    def send_cover_end_notices_command() -> None:
        """Notify members 60 days before a contract's cover ends at its cover age (run daily)."""
        from portal.changes.cover_end import send_cover_end_notices
        from portal.clock import today
        from portal.messaging.services import deliver_pending

        sent = send_cover_end_notices(db.session, today())
        db.session.commit()
        deliver_pending(db.session)
        click.echo(f"queued {sent} cover-end notices")

    @app.cli.command("remove-abandoned-uploads")
    def remove_abandoned_uploads_command() -> None:
        """Delete name-change documents and claim files uploaded more than 24 hours ago but never sent."""
        from portal.changes.uploads import remove_abandoned_uploads
        from portal.clock import utcnow
        from portal.gateways import GatewayError
        from portal.gateways.storage import storage

        try:
            removed = remove_abandoned_uploads(db.session, storage(), utcnow())
        except GatewayError as error:
            fail(error.message)
        click.echo(f"removed {len(removed)} abandoned uploads")

    @app.cli.command("complete-change")
    @click.argument("receipt_no")
    def complete_change_command(receipt_no: str) -> None:
        """Finish a contract change the office has checked (the back office's action)."""
        from sqlalchemy import select

        from portal.changes.completion import audit_completion, complete
        from portal.changes.services import ChangeError
        from portal.procedures.models import ProcedureRequest

        try:
            result = complete(db.session, receipt_no)
        except ChangeError as error:
            db.session.rollback()
            fail(error.message)
        request = db.session.scalar(select(ProcedureRequest).where(ProcedureRequest.receipt_no == receipt_no))
        audit_completion(receipt_no, request, None)
        db.session.commit()
        click.echo(result)
