"""Admins manage staff: create (secret shown once), disable, enable, reset TOTP."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.auth.models import AuthSession
from portal.audit.models import AuditLog
from portal.staff.models import StaffUser
from portal.staff.accounts import totp_for


def test_create_staff_shows_password_and_totp_once(staff_client, db_session, client):
    admin = staff_client("admin")
    form = admin.get("/staff/users/new")
    assert form.status_code == 200 and 'for="email"' in form.text
    response = admin.post("/staff/users/new", data={"email": "New.Person@Example.jp", "name": "新人 一郎",
                                                    "role_support": "y", "role_cs": "y"})
    assert response.status_code == 200
    staff = db_session.scalar(select(StaffUser).where(StaffUser.email == "new.person@example.jp"))
    assert staff is not None and staff.role_names == {"support", "cs"}
    assert staff.totp_secret in response.text and len(staff.totp_secret) >= 32
    assert "otpauth://totp/" in response.text
    password = re.search(r"初期パスワード</dt><dd><code>([^<]+)</code>", response.text).group(1)
    # The new user can sign in with what was shown.
    assert client.post("/staff/login", data={"email": staff.email, "password": password}).status_code == 302
    assert client.post("/staff/login/totp", data={"code": totp_for(staff.totp_secret).now()}).status_code == 302
    # The list never shows the secret again.
    assert staff.totp_secret not in admin.get("/staff/users").text
    audit = db_session.scalar(select(AuditLog).where(AuditLog.action == "staff.user_create"))
    assert audit.target_id == str(staff.id) and staff.totp_secret not in (audit.detail or "")


def test_create_staff_errors(staff_client, make_staff):
    admin = staff_client("admin")
    existing = make_staff("cs")
    no_role = admin.post("/staff/users/new", data={"email": "a@example.jp", "name": "A"})
    assert no_role.status_code == 200 and "役割を1つ以上" in no_role.text
    dup = admin.post("/staff/users/new", data={"email": existing.email, "name": "A", "role_cs": "y"})
    assert "すでに登録" in dup.text
    bad = admin.post("/staff/users/new", data={"email": "not-an-address", "name": "A", "role_cs": "y"})
    assert "形式" in bad.text


def test_disable_ends_sessions_and_blocks_login(staff_client, db_session, client):
    admin = staff_client("admin")
    victim_client = staff_client("support")
    victim = victim_client.staff
    assert victim_client.get("/staff").status_code == 200
    assert admin.post(f"/staff/users/{victim.id}/disable").headers["Location"] == "/staff/users"
    assert victim_client.get("/staff").headers["Location"].startswith("/staff/login")
    response = client.post("/staff/login", data={"email": victim.email, "password": victim.password_plain})
    assert response.status_code == 200  # same message as a wrong password
    admin.post(f"/staff/users/{victim.id}/enable")
    db_session.expire_all()
    assert db_session.get(StaffUser, victim.id).is_enabled
    assert client.post("/staff/login", data={"email": victim.email,
                                             "password": victim.password_plain}).status_code == 302


def test_admin_cannot_disable_themself(staff_client, db_session):
    admin = staff_client("admin")
    admin.post(f"/staff/users/{admin.staff.id}/disable")
    db_session.expire_all()
    assert db_session.get(StaffUser, admin.staff.id).is_enabled
    assert admin.get("/staff").status_code == 200


def test_reset_totp(staff_client, db_session):
    admin = staff_client("admin")
    victim_client = staff_client("support")
    victim = victim_client.staff
    old = victim.totp_secret
    response = admin.post(f"/staff/users/{victim.id}/reset-totp")
    db_session.expire_all()
    fresh = db_session.get(StaffUser, victim.id)
    assert fresh.totp_secret != old and fresh.totp_secret in response.text and fresh.last_totp_step == 0
    assert victim_client.get("/staff").headers["Location"].startswith("/staff/login")
    ended = db_session.scalars(select(AuthSession.ended_reason).where(AuthSession.staff_id == victim.id)).all()
    assert ended == ["totp_reset"]
