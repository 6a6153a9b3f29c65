"""/account/security: sessions and devices, password change, sign-in history,
e-mail change ending other sessions, step-up with a fresh code."""
from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select, update

from portal.auth.models import SignInEvent
from portal.auth.models import AuthSession, KnownDevice
from portal.auth.passwords import verify_password
from portal.clock import utcnow
from portal.gateways.models import DevOutboxEntry
from portal.messaging.models import OutboxMessage
from portal.audit.models import AuditLog
from tests.account.conftest import code_sent_to


def _signed_in(app, member, user_agent: str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    response = client.post("/login", data={"login_id": member.login_id, "password": member.password_plain})
    assert response.status_code == 302, response.text
    return client


def _events(db_session, member):
    db_session.expire_all()
    return list(db_session.scalars(select(SignInEvent).where(SignInEvent.member_id == member.id)
                                   .order_by(SignInEvent.id)))


# --- the page --------------------------------------------------------------------------
def test_the_page_lists_sessions_devices_and_history(app, make_member, db_session):
    member = make_member()
    phone = _signed_in(app, member)
    laptop = _signed_in(app, member, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36")
    page = laptop.get("/account/security")
    assert page.status_code == 200
    text = page.text
    assert "iPhone・Safari" in text and "Windows・Chrome" in text
    assert text.count("この端末</span>") == 1
    assert "この端末をログアウト" in text and "ほかの端末をすべてログアウト" in text
    assert "IPアドレス：127.0.0.1" in text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", text)
    assert "ログイン履歴" in text and "方法：パスワード" in text
    assert phone.get("/mypage").status_code == 200


def test_times_are_shown_in_tokyo(app, make_member):
    member = make_member()
    with time_machine.travel("2026-11-30 15:30:00+00:00", tick=False):
        client = _signed_in(app, member)
        text = client.get("/account/security").text
    assert "2026年12月1日 00:30" in text


def test_the_menu_and_my_page_link_here(member_client):
    assert 'href="/account/security"' in member_client.get("/mypage").text


def test_staff_acting_as_the_member_cannot_open_it(app, db_session, staff_client, make_member):
    from portal.auth.models import AuthSession as Row
    member = make_member()
    staff = staff_client("support")
    row = db_session.scalar(select(Row).where(Row.staff_id == staff.staff.id))
    row.acting_member_id, row.acting_started_at, row.acting_reason = member.id, utcnow(), "お電話でのご依頼"
    db_session.flush()
    response = staff.get("/account/security")
    assert response.status_code == 302 and response.headers["Location"] == "/mypage"
    assert staff.post("/account/sessions/end-others").status_code == 302
    assert staff.post("/account/passkeys/options").status_code == 302


# --- sessions ------------------------------------------------------------------------------
def test_log_out_everywhere_else_ends_the_other_session_at_once(app, make_member, db_session):
    member = make_member()
    lost_phone = _signed_in(app, member)
    here = _signed_in(app, member)
    assert lost_phone.get("/mypage").status_code == 200
    response = here.post("/account/sessions/end-others", follow_redirects=True)
    assert "ほかの端末のログインを終了しました（1件）" in response.text
    assert lost_phone.get("/mypage").status_code == 302  # the very next request
    assert here.get("/mypage").status_code == 200
    assert db_session.scalar(select(AuditLog).where(AuditLog.action == "member.sessions_end_others")) is not None


def test_log_out_one_session(app, make_member, db_session):
    member = make_member()
    first = _signed_in(app, member)
    second = _signed_in(app, member)
    here = _signed_in(app, member)
    db_session.expire_all()
    rows = list(db_session.scalars(select(AuthSession).where(AuthSession.member_id == member.id)
                                   .order_by(AuthSession.id)))
    assert here.post(f"/account/sessions/{rows[0].id}/end").status_code == 302
    assert first.get("/mypage").status_code == 302
    assert second.get("/mypage").status_code == 200
    # This session is ended with the logout button, not here; an ended one says so.
    here.post(f"/account/sessions/{rows[2].id}/end")
    assert here.get("/mypage").status_code == 200
    again = here.post(f"/account/sessions/{rows[0].id}/end", follow_redirects=True)
    assert "すでに終了しています" in again.text


def test_another_members_session_cannot_be_ended(app, make_member, db_session):
    victim = make_member()
    victim_client = _signed_in(app, victim)
    attacker = _signed_in(app, make_member())
    victim_row = db_session.scalar(select(AuthSession).where(AuthSession.member_id == victim.id))
    attacker.post(f"/account/sessions/{victim_row.id}/end")
    assert victim_client.get("/mypage").status_code == 200


def test_expired_sessions_are_not_listed(app, make_member, db_session):
    member = make_member()
    _signed_in(app, member, "Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile Safari/537.36")
    db_session.execute(update(AuthSession).where(AuthSession.member_id == member.id)
                       .values(last_seen_at=utcnow() - timedelta(minutes=31)))
    here = _signed_in(app, member)
    listed = here.get("/account/security").text.split('id="sessions"')[1].split('id="devices"')[0]
    assert "Android" not in listed and listed.count("IPアドレス") == 1


# --- remembered devices --------------------------------------------------------------------
def test_forgetting_a_device_asks_for_a_code_there_again(app, make_member, db_session):
    member = make_member()
    db_session.add(KnownDevice(member_id=member.id, token_hash="a" * 64, user_agent="Mozilla/5.0 (iPad)",
                               created_at=utcnow(), last_used_at=utcnow(),
                               expires_at=utcnow() + timedelta(days=90)))
    db_session.flush()
    client = _signed_in(app, member)
    assert "iPad" in client.get("/account/security").text
    device_id = db_session.scalar(select(KnownDevice.id).where(KnownDevice.member_id == member.id))
    other = make_member()
    _signed_in(app, other).post(f"/account/devices/{device_id}/forget")
    db_session.expire_all()
    assert db_session.get(KnownDevice, device_id) is not None
    response = client.post(f"/account/devices/{device_id}/forget", follow_redirects=True)
    assert "端末の登録を解除しました" in response.text
    db_session.expire_all()
    assert db_session.get(KnownDevice, device_id) is None


# --- password change -----------------------------------------------------------------------
def test_password_change_ends_other_sessions_and_sends_a_notice(app, make_member, db_session):
    member = make_member()
    other = _signed_in(app, member)
    here = _signed_in(app, member)
    response = here.post("/account/password", data={
        "current_password": member.password_plain, "new_password": "Ｓｐｒｉｎｇ-ｔｅａ-ｋｅｔｔｌｅ-７７",
        "confirm": "Ｓｐｒｉｎｇ-ｔｅａ-ｋｅｔｔｌｅ-７７"})
    assert response.status_code == 302 and response.headers["Location"] == "/account/security"
    assert other.get("/mypage").status_code == 302
    assert here.get("/mypage").status_code == 200
    db_session.refresh(member)
    assert verify_password(member.password_hash, "Ｓｐｒｉｎｇ-ｔｅａ-ｋｅｔｔｌｅ-７７")
    notices = list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id)))
    assert any("パスワードが変更されました" in n.body for n in notices)
    assert db_session.scalar(select(AuditLog).where(AuditLog.action == "member.password_change")) is not None
    fresh = app.test_client()
    assert fresh.post("/login", data={"login_id": member.login_id,
                                      "password": "Ｓｐｒｉｎｇ-ｔｅａ-ｋｅｔｔｌｅ-７７"}).status_code == 302


def test_password_change_errors_sit_next_to_their_field(member_client, db_session):
    member = member_client.member
    wrong = member_client.post("/account/password", data={
        "current_password": "not-mine", "new_password": "Fine-new-pass-2026", "confirm": "Fine-new-pass-2026"})
    assert wrong.status_code == 400
    assert 'id="current_password-error"' in wrong.text and "現在のパスワードが正しくありません" in wrong.text
    weak = member_client.post("/account/password", data={
        "current_password": member.password_plain, "new_password": "short", "confirm": "short"})
    assert 'id="new_password-error"' in weak.text and "10文字以上" in weak.text
    own = member_client.post("/account/password", data={
        "current_password": member.password_plain, "new_password": f"x{member.member_no}x",
        "confirm": f"x{member.member_no}x"})
    assert "組合員番号" in own.text
    mismatch = member_client.post("/account/password", data={
        "current_password": member.password_plain, "new_password": "Fine-new-pass-2026", "confirm": "Other-pass-2026"})
    assert 'id="confirm-error"' in mismatch.text
    huge = member_client.post("/account/password", data={
        "current_password": "\x00" * 50, "new_password": "9" * 5000, "confirm": "9" * 5000})
    assert huge.status_code == 400
    db_session.refresh(member)
    assert verify_password(member.password_hash, member.password_plain)


# --- sign-in history ----------------------------------------------------------------------
def test_history_keeps_successes_and_failures_with_method(app, make_member, db_session):
    member = make_member()
    app.test_client().post("/login", data={"login_id": member.login_id, "password": "wrong-password"})
    app.test_client().post("/login", data={"login_id": "nobody-at-all", "password": "wrong-password"})
    client = _signed_in(app, member)
    events = _events(db_session, member)
    assert [(e.method, e.is_success) for e in events] == [("password", False), ("password", True)]
    text = client.get("/account/security").text
    assert "失敗" in text and "方法：パスワード" in text


def test_history_shows_the_last_thirty(app, make_member, db_session):
    from portal.auth.history import record_sign_in
    member = make_member()
    for _ in range(35):
        record_sign_in(db_session, member.id, "password", success=False)
    client = _signed_in(app, member)
    history = client.get("/account/security").text.split('id="history"')[1]
    assert history.count("<li>") == 30


def test_a_new_device_code_sign_in_is_recorded_and_the_notice_links_here(app, make_member, db_session):
    member = make_member()
    app.config["TRUST_NEW_DEVICES"] = False
    try:
        client = app.test_client()
        client.post("/login", data={"login_id": member.login_id, "password": member.password_plain})
        code = code_sent_to(db_session, member.phone)
        client.post("/login/code", data={"code": "000000" if code != "000000" else "111111"})
        assert client.post("/login/code", data={"code": code}).status_code == 302
    finally:
        app.config["TRUST_NEW_DEVICES"] = True
    failed, event = _events(db_session, member)
    assert (failed.method, failed.is_success) == ("code", False)
    assert event.method == "code" and event.is_new_device and event.is_success
    notice = db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id)
                                .order_by(OutboxMessage.id.desc())).first()
    assert "/account/security#history" in notice.body


# --- e-mail change ------------------------------------------------------------------------
def test_email_change_ends_the_other_sessions(app, make_member, db_session):
    member = make_member()
    other = _signed_in(app, member)
    here = _signed_in(app, member)
    here.post("/profile/email", data={"email": "new-address@example.jp"})
    db_session.expire_all()
    entry = db_session.scalars(select(DevOutboxEntry).where(DevOutboxEntry.recipient == "new-address@example.jp")).one()
    link = re.search(r"http://localhost(/profile/email/confirm/\S+)", entry.body).group(1)
    assert here.post(link).status_code == 200
    assert other.get("/mypage").status_code == 302
    assert here.get("/mypage").status_code == 200


# --- step-up with a code ------------------------------------------------------------------
def test_step_up_with_a_fresh_code(member_client, db_session):
    member = member_client.member
    db_session.execute(update(AuthSession).values(reauthenticated_at=None))
    assert member_client.get("/profile/bank-account").status_code == 302
    sent = member_client.post("/account/reauth/code/send", data={"channel": "voice", "next": "/profile/bank-account"})
    assert sent.headers["Location"] == "/account/reauth/code"
    page = member_client.get("/account/reauth/code").text
    assert "自動音声の電話" in page
    wrong = member_client.post("/account/reauth/code", data={"code": "１２３４５６"})
    assert wrong.status_code == 200 and 'id="code-error"' in wrong.text
    code = code_sent_to(db_session, member.phone)
    done = member_client.post("/account/reauth/code", data={"code": code})
    assert done.headers["Location"] == "/profile/bank-account"
    assert member_client.get("/profile/bank-account").status_code == 200
    # The code is spent.
    assert member_client.post("/account/reauth/code", data={"code": code}).status_code == 302


def test_step_up_code_goes_only_to_local_pages(member_client, db_session):
    member_client.post("/account/reauth/code/send", data={"channel": "sms", "next": "https://evil.example/"})
    code = code_sent_to(db_session, member_client.member.phone)
    assert member_client.post("/account/reauth/code", data={"code": code}).headers["Location"] == "/account/security"
