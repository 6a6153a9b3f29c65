"""`flask --app wsgi claims-payment-run --date YYYY-MM-DD`: the day's transfer file, for a scheduler."""
from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app

from portal.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("claims-payment-run")
    @click.option("--date", "day", required=True, help="transfer date (取組日), a bank business day")
    def claims_payment_run(day: str) -> None:
        """Put every approved, unpaid claim into one 全銀 総合振込 file and print where it is."""
        from portal.claims import services
        from portal.cli_support import fail
        from portal.gateways import GatewayError
        from portal.gateways.storage import LocalStorage, storage

        try:
            transfer_date = date.fromisoformat(day.strip())
        except ValueError:
            fail("--date must be YYYY-MM-DD")
        store = storage()
        try:
            run = services.create_run(db.session, transfer_date, store=store,
                                      requester=services.requester_from(current_app.config), staff_id=None)
        except services.ClaimError as error:
            db.session.rollback()
            fail(error.message)
        except GatewayError as error:
            db.session.rollback()
            fail(error.message)
        db.commit()
        assert run.storage_key is not None
        where = (str(store.root / run.storage_key) if isinstance(store, LocalStorage)
                 else f"s3://{current_app.config.get('S3_BUCKET')}/{run.storage_key}")
        click.echo(f"run {run.id}: {run.total_count} claims, {run.total_yen} yen, transfer date {transfer_date}")
        click.echo(where)
