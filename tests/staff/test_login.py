"""Staff sign-in: e-mail and password, then a TOTP code (30 s steps, ±1, once only)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
import time_machine
from sqlalchemy import select

from portal.auth.models import AuthSession
from portal.clock import TOKYO
from portal.audit.models import AuditLog
from portal.staff.models import StaffUser
from portal.staff.accounts import LOGIN_ERROR, totp_for
from tests.staff.conftest import auth_row, sid_of

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOON = datetime(2026, 3, 2, 12, 0, 0, tzinfo=TOKYO)


def code_at(moment: datetime, secret: str = SECRET) -> str:
    return totp_for(secret).at(moment)


def test_totp_matches_rfc_6238_and_pyotp():
    # RFC 6238 appendix B: ASCII secret "12345678901234567890", T=59 s → 94287082 (8 digits).
    rfc_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert totp_for(rfc_secret).at(59) == "287082"
    long_secret = pyotp.random_base32()
    assert totp_for(long_secret).at(NOON) == pyotp.TOTP(long_secret).at(NOON)
    # The documented 80-bit demo secret still works (pyotp itself refuses it).
    assert len(totp_for(SECRET).at(NOON)) == 6


def password_step(client, staff, password=None):
    return client.post("/staff/login", data={"email": staff.email, "password": password or staff.password_plain})


def test_full_login_through_both_forms(client, make_staff, db_session):
    staff = make_staff("support")
    with time_machine.travel(NOON, tick=False):
        form = client.get("/staff/login")
        assert form.status_code == 200 and 'for="email"' in form.text and 'for="password"' in form.text
        first = password_step(client, staff)
        assert first.status_code == 302 and first.headers["Location"] == "/staff/login/totp"
        # Nobody is signed in yet between the two steps.
        assert client.get("/staff").headers["Location"].startswith("/staff/login")
        page = client.get("/staff/login/totp")
        assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
        second = client.post("/staff/login/totp", data={"code": code_at(NOON)})
        assert second.status_code == 302 and second.headers["Location"] == "/staff"
        home = client.get("/staff")
        assert home.status_code == 200 and staff.name in home.text
        row = auth_row(db_session, client)
    assert row.staff_id == staff.id and row.member_id is None
    db_session.expire_all()
    assert db_session.get(StaffUser, staff.id).last_totp_step == totp_for(SECRET).timecode(NOON)
    assert db_session.scalar(select(AuditLog).where(AuditLog.action == "staff.login",
                                                    AuditLog.actor_staff_id == staff.id)) is not None


def test_full_width_code_with_spaces_is_accepted(client, make_staff):
    staff = make_staff("cs")
    with time_machine.travel(NOON, tick=False):
        password_step(client, staff)
        code = code_at(NOON)
        wide = code[:3] + "　" + code[3:]
        wide = wide.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        assert client.post("/staff/login/totp", data={"code": wide}).headers["Location"] == "/staff"


def test_login_redirects_to_the_requested_staff_page(client, make_staff):
    staff = make_staff("admin")
    with time_machine.travel(NOON, tick=False):
        first = client.get("/staff/audit?action=staff.login")
        assert first.status_code == 302
        client.post(first.headers["Location"], data={"email": staff.email, "password": staff.password_plain})
        done = client.post("/staff/login/totp", data={"code": code_at(NOON)})
        assert done.headers["Location"] == "/staff/audit?action=staff.login"


def test_next_outside_the_console_is_ignored(client, make_staff):
    staff = make_staff("admin")
    with time_machine.travel(NOON, tick=False):
        client.post("/staff/login?next=https://evil.example/x",
                    data={"email": staff.email, "password": staff.password_plain})
        done = client.post("/staff/login/totp", data={"code": code_at(NOON)})
        assert done.headers["Location"] == "/staff"


def test_totp_code_replay_is_refused(app, db_session, make_staff):
    staff = make_staff("support")
    first, second = app.test_client(), app.test_client()
    with time_machine.travel(NOON, tick=False):
        code = code_at(NOON)
        password_step(first, staff)
        assert first.post("/staff/login/totp", data={"code": code}).status_code == 302
        # The same code, captured and replayed in another browser within its window.
        password_step(second, staff)
        replay = second.post("/staff/login/totp", data={"code": code})
        assert replay.status_code == 200 and LOGIN_ERROR in replay.text
        assert second.get("/staff").headers["Location"].startswith("/staff/login")
    # 30 s later the previous step's code is still inside the ±1 window, but it was
    # used: still refused. The new step's code works.
    later = NOON + timedelta(seconds=30)
    with time_machine.travel(later, tick=False):
        again = second.post("/staff/login/totp", data={"code": code})
        assert LOGIN_ERROR in again.text
        assert second.post("/staff/login/totp", data={"code": code_at(later)}).status_code == 302


def test_code_from_an_earlier_step_after_a_later_one_is_refused(client, make_staff):
    staff = make_staff("support")
    with time_machine.travel(NOON, tick=False):
        password_step(client, staff)
        # The next step's code (clock ahead by 30 s) is accepted...
        assert client.post("/staff/login/totp", data={"code": code_at(NOON + timedelta(seconds=30))}).status_code == 302
        client.post("/staff/logout")
        password_step(client, staff)
        # ...after which the current step's code, never used itself, is older: refused.
        assert LOGIN_ERROR in client.post("/staff/login/totp", data={"code": code_at(NOON)}).text


def test_window_is_one_step_either_side(client, make_staff):
    staff = make_staff("support")
    with time_machine.travel(NOON, tick=False):
        password_step(client, staff)
        for far in (timedelta(seconds=-60), timedelta(seconds=60)):
            response = client.post("/staff/login/totp", data={"code": code_at(NOON + far)})
            assert LOGIN_ERROR in response.text, far
        assert client.post("/staff/login/totp", data={"code": code_at(NOON - timedelta(seconds=30))}).status_code == 302


def test_one_message_for_every_failure(client, make_staff, db_session):
    staff = make_staff("support")
    disabled = make_staff("support")
    disabled.is_enabled = False
    db_session.flush()
    wrong = password_step(client, staff, "Not-the-password-1")
    unknown = client.post("/staff/login", data={"email": "nobody@example.jp", "password": "Not-the-password-1"})
    off = password_step(client, disabled)
    for response in (wrong, unknown, off):
        assert response.status_code == 200 and LOGIN_ERROR in response.text
    with time_machine.travel(NOON, tick=False):
        password_step(client, staff)
        bad_code = client.post("/staff/login/totp", data={"code": "000000" if code_at(NOON) != "000000" else "111111"})
        assert LOGIN_ERROR in bad_code.text
    failures = db_session.scalars(select(AuditLog).where(AuditLog.action == "staff.login_failed")).all()
    assert len(failures) == 4
    assert all("Not-the-password" not in (f.detail or "") for f in failures)


def test_member_password_never_signs_in_staff(client, make_member):
    member = make_member(email="m@example.jp")
    response = client.post("/staff/login", data={"email": "m@example.jp", "password": member.password_plain})
    assert LOGIN_ERROR in response.text


def test_pending_step_expires_after_five_minutes(client, make_staff):
    staff = make_staff("support")
    with time_machine.travel(NOON, tick=False):
        password_step(client, staff)
    later = NOON + timedelta(minutes=5, seconds=1)
    with time_machine.travel(later, tick=False):
        response = client.post("/staff/login/totp", data={"code": code_at(later)})
        assert response.status_code == 302 and response.headers["Location"] == "/staff/login"


def test_totp_page_without_password_step_goes_back(client):
    assert client.get("/staff/login/totp").headers["Location"] == "/staff/login"


def test_five_wrong_codes_return_to_the_password_step(client, make_staff):
    staff = make_staff("support")
    with time_machine.travel(NOON, tick=False):
        password_step(client, staff)
        wrong = "000000" if code_at(NOON) != "000000" else "111111"
        for _ in range(4):
            assert client.post("/staff/login/totp", data={"code": wrong}).status_code == 200
        fifth = client.post("/staff/login/totp", data={"code": wrong})
        assert fifth.headers["Location"] == "/staff/login"
        # Even the right code now needs the password again.
        assert client.post("/staff/login/totp", data={"code": code_at(NOON)}).headers["Location"] == "/staff/login"


def test_login_rotates_session_id_and_logout_is_server_side(client, make_staff, db_session):
    staff = make_staff("support")
    with time_machine.travel(NOON, tick=False):
        client.get("/staff/login")
        password_step(client, staff)
        before = sid_of(client)
        client.post("/staff/login/totp", data={"code": code_at(NOON)})
        after = sid_of(client)
        assert after and after != before
        stolen = client.get_cookie("mypage_session").value
        assert client.get("/staff/logout").status_code == 200  # GET only asks
        assert client.get("/staff").status_code == 200
        out = client.post("/staff/logout")
        assert out.headers["Location"] == "/staff/login"
        client.set_cookie("mypage_session", stolen)
        assert client.get("/staff").headers["Location"].startswith("/staff/login")
    ended = db_session.scalars(select(AuthSession).where(AuthSession.staff_id == staff.id)).all()
    assert [s.ended_reason for s in ended] == ["logout"]


def test_staff_idle_timeout_is_fifteen_minutes(client, make_staff, db_session):
    staff = make_staff("support")
    with time_machine.travel(NOON, tick=False):
        password_step(client, staff)
        client.post("/staff/login/totp", data={"code": code_at(NOON)})
    with time_machine.travel(NOON + timedelta(minutes=14), tick=False):
        assert client.get("/staff").status_code == 200
    with time_machine.travel(NOON + timedelta(minutes=29, seconds=30), tick=False):
        assert client.get("/staff").headers["Location"].startswith("/staff/login")
    db_session.expire_all()
    row = db_session.scalar(select(AuthSession).where(AuthSession.staff_id == staff.id))
    assert row.ended_reason == "idle"
