"""Shop commands: regular-course reminders (cron, idempotent) and marking orders shipped."""
from __future__ import annotations

import click
from flask import Flask

from portal.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("send-shop-reminders")
    def send_shop_reminders() -> None:
        """Queue the reminder 14 days before each regular-course charge (once per charge)."""
        from portal.messaging.services import deliver_pending
        from portal.shop.services import send_due_reminders

        count = send_due_reminders(db.session)
        db.commit()
        deliver_pending(db.session)
        click.echo(f"{count} reminder(s) queued")

    @app.cli.command("shop-mark-shipped")
    @click.argument("order_no")
    @click.option("--tracking", default=None, help="the carrier's tracking number")
    def shop_mark_shipped(order_no: str, tracking: str | None) -> None:
        """Mark a paid order ORDER_NO as shipped (発送済)."""
        from portal.cli_support import fail
        from portal.shop.services import ShopError, get_order_by_no, mark_shipped

        order = get_order_by_no(db.session, order_no.strip().upper())
        if order is None:
            fail(f"no order {order_no}")
        try:
            mark_shipped(db.session, order, tracking)
        except ShopError as error:
            fail(error.message)
        db.commit()
        click.echo(f"{order.order_no} shipped")
