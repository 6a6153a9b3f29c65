"""The default `outbox` SMS backend records what it would send; /dev/outbox.json shows it."""
from __future__ import annotations

import pytest

from portal.gateways import GatewayError
from portal.gateways.sms import OutboxSmsGateway, build


def test_outbox_is_the_default_and_records_sms_and_voice(app, client, db_session):
    gateway = app.extensions["sms_gateway"]
    assert isinstance(gateway, OutboxSmsGateway)
    with app.test_request_context():
        gateway.send_sms("+819012340002", "SMS本文")
        gateway.send_voice("+819012340002", "音声本文")
        from portal.extensions import db
        db.commit()
    rows = client.get("/dev/outbox.json").get_json()
    assert [(r["channel"], r["body"]) for r in rows[:2]] == [("voice", "音声本文"), ("sms", "SMS本文")]
    assert rows[0]["to"] == "+819012340002"


def test_unknown_backend_is_refused():
    with pytest.raises(GatewayError):
        build({"SMS_BACKEND": "carrier-pigeon"})
