"""`flask --app wsgi decide-enrollment RECEIPT_NO --approve | --decline --reason TEXT`."""
from __future__ import annotations

import click
from flask import Flask

from portal.cli_support import fail
from portal.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("decide-enrollment")
    @click.argument("receipt_no")
    @click.option("--approve", "decision", flag_value="approve")
    @click.option("--decline", "decision", flag_value="decline")
    @click.option("--reason", default="")
    def decide_enrollment(receipt_no: str, decision: str | None, reason: str) -> None:
        """Approve or decline an online application (the back office's decision)."""
        from portal.enrollment import services

        if decision is None:
            fail("choose --approve or --decline")
        try:
            request = services.find_request(db.session, receipt_no)
            if decision == "approve":
                contract = services.approve(db.session, request)
                result = f"approved: contract {contract.contract_no} starts {contract.start_date}"
            else:
                services.decline(db.session, request, reason)
                result = "declined"
        except services.EnrollmentError as error:
            db.session.rollback()
            fail(error.message)
        db.commit()
        click.echo(result)
