"""Sign-in: a code for a new device (remembered 90 days, signed cookie, hash in the
database) and a new-device notice. The suite's other features trust new devices
(TRUST_NEW_DEVICES in tests/conftest.py); here that setting is off."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.auth.models import KnownDevice
from portal.clock import TOKYO
from portal.messaging.models import OutboxMessage

START = datetime(2026, 11, 2, 9, 0, tzinfo=TOKYO)


@pytest.fixture
def strict(app, monkeypatch):
    monkeypatch.setitem(app.config, "TRUST_NEW_DEVICES", False)
    return app


@pytest.fixture
def member(make_member, leak_guard):
    m = make_member(phone="09087650001")
    leak_guard.add(m.password_plain, m.phone)
    return m


def test_new_device_asks_for_a_code_then_remembers_the_device(strict, client, auth, member, outbox, db_session):
    response = auth.login_member(member)
    assert response.headers["Location"] == "/login/code"
    assert client.get("/mypage").headers["Location"].startswith("/login")  # not signed in yet
    page = client.get("/login/code")
    assert "認証コードを送信しました（090-****-0001）" in page.text
    response = client.post("/login/code", data={"code": outbox.code(member.phone)})
    assert response.headers["Location"] == "/mypage"
    assert client.get("/mypage").status_code == 200
    cookie = client.get_cookie("mypage_device")
    assert cookie is not None and cookie.max_age == 90 * 24 * 3600
    db_session.expire_all()
    device = db_session.scalar(select(KnownDevice).where(KnownDevice.member_id == member.id))
    assert device is not None and len(device.token_hash) == 64 and device.token_hash not in cookie.value
    notice = db_session.scalar(select(OutboxMessage).where(OutboxMessage.member_id == member.id))
    assert notice is not None and "新しい端末" in notice.subject
    # Same browser again: the password is enough.
    auth.logout()
    assert auth.login_member(member).headers["Location"] == "/mypage"
    # One code only (the new-device notice, delivered after the commit, is not a code).
    codes = [e for e in outbox.entries(member.phone) if "新しい端末" not in (e["subject"] or e["body"])]
    assert len(codes) == 1


def test_another_browser_or_a_forged_cookie_is_new(strict, app, client, auth, member, outbox):
    with time_machine.travel(START, tick=False) as clock:
        auth.login_member(member)
        client.post("/login/code", data={"code": outbox.code(member.phone)})
        forged = app.test_client()
        forged.set_cookie("mypage_device", client.get_cookie("mypage_device").value[:-3] + "abc")
        too_soon = forged.post("/login", data={"login_id": member.login_id, "password": member.password_plain})
        assert too_soon.status_code == 429 and "あと60秒お待ちください" in too_soon.text
        clock.shift(timedelta(seconds=60))
        response = forged.post("/login", data={"login_id": member.login_id, "password": member.password_plain})
        assert response.headers["Location"] == "/login/code"


def test_remembered_device_expires_after_ninety_days(strict, client, auth, member, outbox):
    with time_machine.travel(START, tick=False) as clock:
        auth.login_member(member)
        client.post("/login/code", data={"code": outbox.code(member.phone)})
        auth.logout()
        clock.shift(timedelta(days=89))
        assert auth.login_member(member).headers["Location"] == "/mypage"
        auth.logout()
        clock.shift(timedelta(days=2))
        assert auth.login_member(member).headers["Location"] == "/login/code"


def test_wrong_login_code_and_a_signup_code_do_not_sign_in(strict, client, auth, member, outbox, db_session):
    from portal.auth.codes import code_for, send_code
    from portal.extensions import db
    auth.login_member(member)
    assert "あと2回" in client.post("/login/code", data={"code": "000000" if outbox.code(member.phone) != "000000"
                                                             else "111111"}).text
    with client.application.test_request_context():
        other = send_code(db.session, purpose="signup", phone="09087650009", channel="sms", member_id=member.id,
                          ip=None)
    with client.session_transaction() as s:  # a signup challenge put where the login one was
        s["flow_login"] = {"cid": other.id, "next": "/mypage"}
    response = client.get("/login/code")
    assert response.headers["Location"] == "/login"  # not a login challenge: start again
    assert client.get("/mypage").headers["Location"].startswith("/login")
    with client.application.app_context():  # the code comes from the seed and the app's key
        assert code_for(other.secret)


def test_password_only_when_new_devices_are_trusted(client, auth, member):
    assert auth.login_member(member).headers["Location"] == "/mypage"
