"""Notices: stored with their procedure, sent right after the commit, retried later."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.gateways import GatewayError
from portal.gateways.models import DevOutboxEntry
from portal.messaging.models import OutboxMessage
from portal.messaging.services import deliver_pending, queue_notice
from portal.procedures import services as procedures


def test_a_notice_is_sent_right_after_the_commit(app, db_session, make_member):
    member = make_member()
    with app.test_request_context():
        procedures.start(db.session, db.session.merge(member), "address_change", "住所変更")
        assert db.session.scalar(select(DevOutboxEntry)) is None  # nothing leaves before the commit
        db.commit()
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.member_id == member.id))
        assert message.status == "sent"
        entry = db.session.scalar(select(DevOutboxEntry))
        assert entry.recipient == "+81" + member.phone[1:] and "住所変更" in entry.body


def test_rollback_sends_nothing(app, db_session, make_member):
    member = make_member()
    with app.test_request_context():
        procedures.start(db.session, db.session.merge(member), "address_change", "住所変更")
        db.session.rollback()
        assert db.session.scalar(select(OutboxMessage)) is None
        assert db.session.scalar(select(DevOutboxEntry)) is None


class FailingGateway:
    calls = 0

    def send_sms(self, to, body):
        FailingGateway.calls += 1
        raise GatewayError(detail="provider down")

    send_voice = send_sms


def test_provider_outage_loses_nothing_and_deliver_outbox_retries(app, db_session, make_member):
    member = make_member()
    real = app.extensions["sms_gateway"]
    app.extensions["sms_gateway"] = FailingGateway()  # an outage: the provider refuses every call
    try:
        with app.test_request_context():
            procedures.start(db.session, db.session.merge(member), "address_change", "住所変更")
            db.commit()  # the procedure is stored even though sending fails
            message = db.session.scalar(select(OutboxMessage))
            assert message.status == "queued" and message.attempts == 1 and message.last_error
    finally:
        app.extensions["sms_gateway"] = real
    with app.app_context():
        assert deliver_pending(db.session) == (0, 0)  # backing off: not due yet
        with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=2)):
            assert deliver_pending(db.session) == (1, 0)
        assert db.session.scalar(select(OutboxMessage)).status == "sent"


def test_deliver_outbox_cli(app, db_session, make_member):
    member = make_member()
    queue_notice(db_session, member, "件名", "本文")
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["deliver-outbox"])
    assert result.exit_code == 0 and "sent 1" in result.output


def test_requests_page_reads_every_history_in_one_query(member_client, db_session):
    """/requests lists each procedure with its history: no query per procedure."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from portal.members.models import Member
    member = db_session.get(Member, member_client.member.id)

    def count() -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(Engine, "before_cursor_execute", listener)
        try:
            assert member_client.get("/requests").status_code == 200
        finally:
            event.remove(Engine, "before_cursor_execute", listener)
        return len(statements)

    procedures.start(db_session, member, "address_change", "住所変更")
    one = count()
    for _ in range(5):
        procedures.start(db_session, member, "email_change", "メール変更")
    assert count() == one
