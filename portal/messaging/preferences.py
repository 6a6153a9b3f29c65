"""How each member wants each kind of notice, and THE channel decision.

`channel_for(member, topic)` is the only place that decides whether a notice
goes by SMS, by mail or not electronically at all; `portal.jp.phone` decides
whether the member's number can take an SMS.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from portal.clock import utcnow
from portal.jp.phone import can_receive_sms
from portal.members.models import Member
from portal.messaging.models import PREFERENCE_CHANNELS, TOPICS, NotificationPreference

MSG_CHOOSE = "受け取り方法を選んでください"
MSG_NO_SMS = "ご登録の電話番号は携帯電話ではないため、SMSは選べません"
MSG_NO_MAIL = "メールアドレスが登録されていません。先にメールアドレスを登録してください"


def default_channel(member: Member, topic: str) -> str:
    """Before a member chooses: procedure notices electronically, the rest on paper."""
    if topic == "procedure":
        return "sms" if can_receive_sms(member.phone) else ("mail" if member.email else "post")
    return "post"


def _preference_row(session: Session, member: Member) -> NotificationPreference | None:
    return session.scalar(select(NotificationPreference).where(NotificationPreference.member_id == member.id))


def preferences_for(session: Session, member: Member) -> dict[str, str]:
    row = _preference_row(session, member)
    return {topic: row.channel_for(topic) if row else default_channel(member, topic) for topic in TOPICS}


def _reachable(member: Member, first: str) -> str | None:
    """The chosen electronic channel, else the other one, else None."""
    sms = can_receive_sms(member.phone)
    if first == "mail":
        return "mail" if member.email else ("sms" if sms else None)
    return "sms" if sms else ("mail" if member.email else None)


def channel_for(member: Member, topic: str = "procedure") -> str | None:
    """The electronic channel for a notice of this topic: 'sms', 'mail' or None.

    None when the member chose post (paper only) or no notice, or cannot be
    reached. Topics outside the member's choices (security notices and the
    like) always go out.
    """
    if topic not in TOPICS:
        return _reachable(member, "sms")
    session = object_session(member)
    if session is None:
        from portal.extensions import db

        session = db.session
    choice = preferences_for(session, member)[topic]
    return _reachable(member, choice) if choice in ("sms", "mail") else None


def check_choices(member: Member, choices: dict[str, str]) -> dict[str, str]:
    """Field → Japanese message for each choice the member cannot have."""
    errors: dict[str, str] = {}
    for topic in TOPICS:
        choice = choices.get(topic)
        if choice not in PREFERENCE_CHANNELS:
            errors[topic] = MSG_CHOOSE
        elif choice == "sms" and not can_receive_sms(member.phone):
            errors[topic] = MSG_NO_SMS
        elif choice == "mail" and not member.email:
            errors[topic] = MSG_NO_MAIL
    return errors


def store_preferences(session: Session, member: Member, choices: dict[str, str]) -> dict[str, str]:
    """Save already checked choices; returns the preferences before the change."""
    before = preferences_for(session, member)
    row = _preference_row(session, member)
    if row is None:
        row = NotificationPreference(member_id=member.id)
        session.add(row)
    for topic in TOPICS:
        setattr(row, f"{topic}_channel", choices[topic])
    row.updated_at = utcnow()
    session.flush()
    return before
