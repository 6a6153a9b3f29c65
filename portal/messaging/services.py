"""Queue a notice with its procedure; deliver after commit; retry later.

A notice is an OutboxMessage row added in the procedure's own transaction, so
the procedure and its notice are stored together or not at all. Delivery runs
after the commit (db.after_commit) and again from `flask deliver-outbox`, which
claims rows with FOR UPDATE SKIP LOCKED on PostgreSQL so several servers can
run it from cron at once without sending anything twice.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.gateways import GatewayError, mail_gateway, sms_gateway
from portal.jp.errors import JpValueError
from portal.jp.phone import parse_phone
from portal.members.models import Member
from portal.messaging.models import OutboxMessage
from portal.messaging.preferences import channel_for

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


def queue_notice(session: Session, member: Member, subject: str, body: str, *,
                 topic: str = "procedure", channel: str | None = None) -> OutboxMessage | None:
    """Add a notice to the member's chosen channel; None when they chose no notice
    (or cannot be reached electronically)."""
    channel = channel or channel_for(member, topic)
    if channel is None:
        return None
    if channel == "mail" and member.email:
        recipient = member.email
    else:
        if channel == "mail":
            channel = "sms"  # no address any more: the phone is the way left
        try:
            recipient = parse_phone(member.phone).e164
        except JpValueError:
            return None
    return queue_message(session, channel=channel, recipient=recipient, subject=subject, body=body,
                         member_id=member.id)


def queue_message(session: Session, *, channel: str, recipient: str, subject: str | None, body: str,
                  member_id: int | None = None) -> OutboxMessage:
    """Add one message to the outbox (also to someone who is not, or no longer, on file:
    a visitor's contact, the number being replaced); it leaves right after the commit."""
    message = OutboxMessage(member_id=member_id, channel=channel, recipient=recipient, subject=subject, body=body)
    session.add(message)
    session.flush()
    _deliver_after_commit(session, message.id)
    return message


def _deliver_after_commit(session: Session, message_id: int) -> None:
    """Send right after the request commits (one query for all the request's messages);
    a failure leaves them queued for deliver-outbox."""
    from flask import has_app_context

    from portal.extensions import db

    if not has_app_context() or db.session is not session:
        return  # CLI batch or a test session: deliver-outbox sends it
    pending: list[int] | None = session.info.get("deliver_after_commit")
    if pending is not None:
        pending.append(message_id)
        return
    pending = session.info["deliver_after_commit"] = [message_id]

    def deliver() -> None:
        ids = session.info.pop("deliver_after_commit", pending)
        try:
            deliver_pending(session, only_ids=ids)
        except Exception:  # never fail a request whose procedure is already stored
            session.rollback()
            log.exception("immediate delivery of outbox messages %s failed", ids)

    db.after_commit(deliver)


# The name members know the co-op by on a phone: every SMS starts with it, once,
# and every automated voice call opens with it.
CO_OP_SHORT_NAME = "みらい共済生協"
SMS_PREFIX = f"【{CO_OP_SHORT_NAME}】"
VOICE_OPENING = f"{CO_OP_SHORT_NAME}です。"


def _plain_subject(subject: str) -> str:
    """'【受付】住所変更' → '受付：住所変更' (one pair of brackets per text: the sender's)."""
    return subject[1:].replace("】", "：", 1) if subject.startswith("【") and "】" in subject else subject


def sms_text(subject: str | None, body: str) -> str:
    """'【受付】住所変更' + body → SMS_PREFIX + '受付：住所変更\nbody'."""
    if not subject:
        return SMS_PREFIX + body
    return f"{SMS_PREFIX}{_plain_subject(subject)}\n{body}"


def voice_text(subject: str | None, body: str) -> str:
    """What an automated call reads: the co-op's name, then the subject and the body."""
    if body.startswith(VOICE_OPENING):
        return body
    head = _plain_subject(subject).replace("：", "、") + "。" if subject else ""
    return f"{VOICE_OPENING}{head}{body}"


def send_now(message: OutboxMessage) -> None:
    if message.channel == "mail":
        mail_gateway().send_mail(message.recipient, message.subject or "", message.body)
    elif message.channel == "voice":
        sms_gateway().send_voice(message.recipient, voice_text(message.subject, message.body))
    else:
        sms_gateway().send_sms(message.recipient, sms_text(message.subject, message.body))


def deliver_pending(session: Session, limit: int = 100, only_ids: list[int] | None = None) -> tuple[int, int]:
    """Send due queued messages; returns (sent, failed). Commits once at the end."""
    sent = failed = 0
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if only_ids is not None:
        query = query.where(OutboxMessage.id.in_(only_ids))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for message in session.scalars(query).all():
        message.attempts += 1
        try:
            send_now(message)
        except GatewayError as exc:
            failed += 1
            message.last_error = str(exc)[:300]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
            else:  # back off: 1, 2, 4 … minutes
                message.next_attempt_at = utcnow() + timedelta(minutes=2 ** (message.attempts - 1))
            log.warning("outbox message %s not delivered (attempt %s)", message.id, message.attempts)
        else:
            sent += 1
            message.status = "sent"
            message.sent_at = utcnow()
    session.commit()
    return sent, failed
