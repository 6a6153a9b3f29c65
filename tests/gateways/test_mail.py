"""The outbox mail backend records what would have been sent (/dev/outbox)."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.gateways import mail_gateway
from portal.gateways.mail import OutboxMailGateway
from portal.gateways.models import DevOutboxEntry


def test_outbox_mail_is_recorded(app, db_session):
    with app.test_request_context():
        assert isinstance(mail_gateway(), OutboxMailGateway)
        mail_gateway().send_mail("hanako@example.jp", "件名", "本文です")
        row = db.session.scalars(select(DevOutboxEntry).where(DevOutboxEntry.recipient == "hanako@example.jp")).one()
        assert (row.channel, row.subject, row.body) == ("mail", "件名", "本文です")
