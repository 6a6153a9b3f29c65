"""`flask --app wsgi complete-bank-change RECEIPT_NO` (and review-bank-change), and the
scheduled `apply-property-moves`."""
from __future__ import annotations

import click
from flask import Flask

from portal.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("review-bank-change")
    @click.argument("receipt_no")
    def review_bank_change_command(receipt_no: str) -> None:
        """Mark a debit-account change as being checked (受付済 → 確認中)."""
        from portal.cli_support import fail
        from portal.profile.services import ProfileError, find_bank_request, review_bank_change

        try:
            request = review_bank_change(db.session, find_bank_request(db.session, receipt_no.strip()))
        except ProfileError as error:
            db.session.rollback()
            fail(error.message)
        db.commit()
        click.echo(f"{request.receipt_no}: {request.status}")

    @app.cli.command("complete-bank-change")
    @click.argument("receipt_no")
    def complete_bank_change_command(receipt_no: str) -> None:
        """Switch the member's debit contracts to the new account (→ 完了)."""
        from portal.cli_support import fail
        from portal.profile.services import ProfileError, complete_bank_change, find_bank_request

        try:
            request = complete_bank_change(db.session, find_bank_request(db.session, receipt_no.strip()))
        except ProfileError as error:
            db.session.rollback()
            fail(error.message)
        db.commit()
        click.echo(f"{request.receipt_no}: {request.status} (effective {request.effective_date})")

    @app.cli.command("apply-property-moves")
    def apply_property_moves_command() -> None:
        """Move insured properties whose moving date has come (run daily or by run-jobs)."""
        from portal.clock import today
        from portal.profile.services import apply_due_property_moves

        done = apply_due_property_moves(db.session, today())
        db.commit()
        click.echo(f"apply-property-moves: {len(done)} move(s)")
