"""Reminder 14 days before each regular-course charge, once per charge (frozen time)."""
from __future__ import annotations

from datetime import datetime

import time_machine
from sqlalchemy import func, select

from portal.clock import TOKYO
from portal.messaging.models import OutboxMessage
from portal.shop import services
from portal.shop.models import ShopReminder, ShopSubscription

CHARGE = datetime(2026, 12, 1, 9, 0, tzinfo=TOKYO)


def _course(db_session, member, **kw) -> ShopSubscription:
    values = dict(member_id=member.id, idempotency_key=f"rem-{member.id}-" + "x" * 20, sku="KC-REGULAR",
                  product_name="健康チェッカー 定期コース（年2回お届け）", insured_person_id=member.insured_persons[0].id,
                  recipient_name=member.name, unit_price_yen=4600, tax_yen=460, total_yen=5060, status="active",
                  stripe_subscription_id=f"sub_rem{member.id}", card_last4="4242", next_charge_at=CHARGE)
    values.update(kw)
    course = ShopSubscription(**values)
    db_session.add(course)
    db_session.flush()
    return course


def _reminders(db_session, member) -> int:
    return db_session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.member_id == member.id, OutboxMessage.subject.contains("次回お届け")))


def test_reminder_is_sent_14_days_before_the_charge_and_only_once(db_session, make_member, ctx):
    member = make_member()
    _course(db_session, member)
    with time_machine.travel(datetime(2026, 11, 16, 8, 0, tzinfo=TOKYO), tick=False):  # 15 days before
        assert services.send_due_reminders(db_session) == 0
    with time_machine.travel(datetime(2026, 11, 17, 8, 0, tzinfo=TOKYO), tick=False):  # 14 days before
        assert services.send_due_reminders(db_session) == 1
        assert services.send_due_reminders(db_session) == 0  # cron runs again the same day
    with time_machine.travel(datetime(2026, 11, 18, 8, 0, tzinfo=TOKYO), tick=False):
        assert services.send_due_reminders(db_session) == 0
    assert _reminders(db_session, member) == 1
    body = db_session.scalar(select(OutboxMessage.body).where(OutboxMessage.member_id == member.id,
                                                              OutboxMessage.subject.contains("次回お届け")))
    assert "12月1日" in body and "5,060円（税込）" in body and "末尾4242" in body and "11月30日まで" in body
    assert db_session.scalar(select(ShopReminder.charge_date)).isoformat() == "2026-12-01"


def test_the_next_period_gets_its_own_reminder(db_session, make_member, ctx):
    member = make_member()
    course = _course(db_session, member)
    with time_machine.travel(datetime(2026, 11, 17, 8, 0, tzinfo=TOKYO), tick=False):
        assert services.send_due_reminders(db_session) == 1
    course.next_charge_at = datetime(2027, 6, 1, 9, 0, tzinfo=TOKYO)  # renewed (webhook)
    db_session.flush()
    with time_machine.travel(datetime(2027, 5, 17, 12, 0, tzinfo=TOKYO), tick=False):
        assert services.send_due_reminders(db_session) == 0
    with time_machine.travel(datetime(2027, 5, 18, 12, 0, tzinfo=TOKYO), tick=False):
        assert services.send_due_reminders(db_session) == 1
    assert _reminders(db_session, member) == 2


def test_no_reminder_for_cancelled_skipped_or_pending_courses(db_session, make_member, ctx):
    ended = make_member()
    _course(db_session, ended, cancel_at_period_end=True)
    pending = make_member()
    _course(db_session, pending, status="pending", next_charge_at=None)
    with time_machine.travel(datetime(2026, 11, 17, 8, 0, tzinfo=TOKYO), tick=False):
        assert services.send_due_reminders(db_session) == 0


def test_cli_command_sends_due_reminders(app, db_session, make_member):
    member = make_member()
    _course(db_session, member)
    runner = app.test_cli_runner()
    with time_machine.travel(datetime(2026, 11, 17, 8, 0, tzinfo=TOKYO), tick=False):
        first = runner.invoke(args=["send-shop-reminders"])
        second = runner.invoke(args=["send-shop-reminders"])
    assert first.exit_code == 0 and "1 reminder(s) queued" in first.output
    assert "0 reminder(s) queued" in second.output
    db_session.expire_all()
    assert _reminders(db_session, member) == 1
