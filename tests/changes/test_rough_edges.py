"""Rough edges members tripped on, each pinned by a test that failed before its fix."""
from __future__ import annotations

import pytest
from flask import g, get_flashed_messages

from portal.messaging.models import OutboxMessage
from portal.procedures import services as procedures


def test_a_procedure_done_at_once_does_not_say_received_under_done(db_session, make_member):
    member = make_member()
    done = procedures.start(db_session, member, "certificate_pdf", "PDF", status="completed")
    assert [(e.status_label, e.note) for e in done.events] == [("完了", None)]
    received = procedures.start(db_session, member, "address_change", "住所")
    assert [(e.status_label, e.note) for e in received.events] == [
        ("受付済み", "担当者が内容を確認し、進み具合をお知らせします。")]


def test_a_step_within_the_same_status_is_not_announced_as_a_status_change(db_session, make_member):
    member = make_member()
    request = procedures.start(db_session, member, "subscription", "定期コース", status="active")
    procedures.change_status(db_session, request, "active", "解約を受け付けました。3月31日で終了します。")
    body = db_session.query(OutboxMessage).order_by(OutboxMessage.id.desc()).first().body
    assert "になりました" not in body and "について、解約を受け付けました。" in body
    procedures.change_status(db_session, request, "cancelled", "3月31日で終了しました。")
    body = db_session.query(OutboxMessage).order_by(OutboxMessage.id.desc()).first().body
    assert "状況が「" not in body and "について、3月31日で終了しました。" in body


@pytest.mark.parametrize("endpoint, message", [
    ("voices.new", "代理操作中はお客さまの声を送信できません。"),
    ("enrollment.confirm", "代理操作中は加入を申し込みできません。"),
    ("changes.name", "代理操作中は本人確認書類を提出できません。"),
])
def test_refusals_while_acting_read_as_japanese(app, endpoint, message):
    with app.test_request_context("/", method="POST"):
        g.acting_member_id, g.acting_staff_id = 1, 1
        app.view_functions[endpoint]()
        assert message in get_flashed_messages()[0]


def test_certificate_body_text_is_at_least_10_pt():
    from portal.certificates.pdf import _styles

    sizes = {name: style.fontSize for name, style in _styles().items()}
    assert min(sizes.values()) >= 10, sizes


def test_a_member_signed_out_by_another_device_is_told_why(client, auth, make_member, db_session):
    from sqlalchemy import update

    from portal.auth.models import AuthSession
    from portal.clock import utcnow

    member = make_member()
    auth.login_member(member)
    assert client.get("/mypage").status_code == 200
    db_session.execute(update(AuthSession).where(AuthSession.member_id == member.id)
                       .values(ended_at=utcnow(), ended_reason="ended_by_member"))
    response = client.get("/mypage", follow_redirects=True)
    assert "/login" in response.request.path
    assert "別の端末で" in response.text and "ログアウトしました" in response.text


def test_a_replayed_cookie_after_logout_gets_no_such_message(client, auth, make_member):
    member = make_member()
    auth.login_member(member)
    with client.session_transaction() as s:
        saved = dict(s)
    auth.logout()
    with client.session_transaction() as s:
        s.update(saved)
    response = client.get("/mypage", follow_redirects=True)
    assert "別の端末で" not in response.text


def test_coverage_and_mypage_show_the_next_age_band(client, auth, make_member, make_contract):
    from datetime import date

    from tests.contracts.helpers import tokyo

    member = make_member(birth_date=date(1967, 3, 10))  # 59 on 1 Dec 2026, 60 on 10 Mar 2027
    make_contract(member, "KOKUMIN_SOGO", start=date(2010, 4, 1))
    with tokyo(2026, 12, 1):
        auth.login_member(member)
        coverage = client.get("/coverage").text
        home = client.get("/mypage").text
    assert "60歳になる2027年3月10日から" in coverage, coverage[coverage.find("<main"):][:3000]
    assert "死亡（病気） 300万円" in coverage.replace("\u2009", " ") or "300万円" in coverage
    assert "60歳になる2027年3月10日から保障額が変わります" in home


def test_every_sms_starts_with_the_co_op_name_once(app, db_session, make_member):
    from sqlalchemy import select

    from portal.auth.codes import sms_text as code_text
    from portal.gateways.models import DevOutboxEntry
    from portal.messaging.services import queue_notice, send_now

    member = make_member()
    with app.app_context():
        message = queue_notice(db_session, member, "【受付】住所変更", "住所変更を受け付けました。", channel="sms")
        send_now(message)  # the development SMS gateway records what it would send
        db_session.flush()
        sent = db_session.scalars(select(DevOutboxEntry).order_by(DevOutboxEntry.id.desc())).first()
    assert sent.body.startswith("【みらい共済生協】受付：住所変更\n") and sent.body.count("【") == 1
    assert code_text("123456", "signup").startswith("【みらい共済生協】マイページ")
