"""Sessions: id rotated at sign-in, idle 30 minutes, absolute 12 hours, logout replay."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.auth.models import AuthSession
from portal.clock import TOKYO

START = datetime(2026, 11, 2, 8, 0, tzinfo=TOKYO)


@pytest.fixture
def member(make_member, leak_guard):
    m = make_member()
    leak_guard.add(m.password_plain)
    return m


def _sid(client) -> str:
    with client.session_transaction() as s:
        return s.get("sid")


def test_session_id_is_rotated_at_sign_in(client, auth, member, db_session):
    auth.login_member(member)
    first = _sid(client)
    stolen = client.get_cookie("mypage_session").value
    auth.login_member(member)  # signing in again (e.g. on a shared computer)
    second = _sid(client)
    assert first and second and first != second
    db_session.expire_all()
    rows = db_session.scalars(select(AuthSession).where(AuthSession.member_id == member.id)
                              .order_by(AuthSession.id)).all()
    assert [r.ended_reason for r in rows] == ["rotated", None]
    fixated = client.application.test_client()
    fixated.set_cookie("mypage_session", stolen)
    assert fixated.get("/mypage").headers["Location"].startswith("/login")


def test_idle_timeout_is_thirty_minutes(client, auth, member):
    with time_machine.travel(START, tick=False) as clock:
        auth.login_member(member)
        clock.shift(timedelta(minutes=29, seconds=59))
        assert client.get("/mypage").status_code == 200  # this request counts as activity
        clock.shift(timedelta(minutes=30, seconds=1))
        response = client.get("/mypage")
        assert response.headers["Location"].startswith("/login")
        assert "一定時間操作がなかったため" in client.get("/login").text


def test_absolute_timeout_is_twelve_hours(client, auth, member):
    with time_machine.travel(START, tick=False) as clock:
        auth.login_member(member)
        for _ in range(12 * 3):  # active every 20 minutes for 12 hours
            clock.shift(timedelta(minutes=20))
            assert client.get("/mypage").status_code == 200
        clock.shift(timedelta(minutes=1))
        assert client.get("/mypage").headers["Location"].startswith("/login")


def test_logout_replay_opens_nothing(client, auth, member, db_session):
    auth.login_member(member)
    stolen = client.get_cookie("mypage_session").value
    assert auth.logout().headers["Location"] == "/login"
    client.set_cookie("mypage_session", stolen)
    assert client.get("/mypage").headers["Location"].startswith("/login")
    db_session.expire_all()
    row = db_session.scalar(select(AuthSession).where(AuthSession.member_id == member.id))
    assert row.ended_reason == "logout"


def test_password_change_ends_every_other_session(app, client, auth, member, db_session):
    from portal.auth import sessions
    from portal.auth.services import change_password
    from portal.extensions import db
    other = app.test_client()
    other.post("/login", data={"login_id": member.login_id, "password": member.password_plain})
    auth.login_member(member)
    cookie = client.get_cookie("mypage_session").value
    with app.test_request_context(headers={"Cookie": f"mypage_session={cookie}"}):
        app.preprocess_request()
        change_password(db.session, member, member.password_plain, "Atarashii-kagi-88")
        sessions.end_others_for_member(member.id, "password_change")
        db.commit()
    assert client.get("/mypage").status_code == 200
    assert other.get("/mypage").headers["Location"].startswith("/login")
