"""Password sign-in has a per-account limit with a growing delay, for members and
staff, besides the per-IP limit; staff TOTP failures are counted on the server
(portal.auth.throttle)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from portal.auth.throttle import FREE_FAILURES, MAX_DELAY, delay_after
from portal.clock import TOKYO
from portal.staff.accounts import totp_for

NOON = datetime(2026, 3, 2, 12, 0, 0, tzinfo=TOKYO)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def _from(n: int) -> dict:
    """Each try from another address: the per-IP limit is not what stops them."""
    return {"REMOTE_ADDR": f"198.51.100.{n % 250 + 1}"}


def _wrong(client, login_id: str, n: int):
    return client.post("/login", data={"login_id": login_id, "password": "Wrong-pass-0000"}, environ_base=_from(n))


def test_the_delay_grows_and_stops_at_fifteen_minutes():
    assert [delay_after(n) for n in range(1, FREE_FAILURES)] == [None] * (FREE_FAILURES - 1)
    delays = [delay_after(n) for n in range(FREE_FAILURES, FREE_FAILURES + 8)]
    assert delays[:4] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert max(delays) == MAX_DELAY == delays[-1]


def test_member_accounts_wait_after_five_failures_from_any_address(app, member, leak_guard, clock):
    leak_guard.add(member.password_plain)
    client = app.test_client()
    for n in range(FREE_FAILURES):
        assert "正しくありません" in _wrong(client, member.login_id, n).text
    # Even the right password waits now, from yet another address.
    right = {"login_id": member.login_id, "password": member.password_plain}
    held = client.post("/login", data=right, environ_base=_from(99))
    assert held.status_code == 429 and "ログインできません" in held.text
    assert int(held.headers["Retry-After"]) >= 30  # the per-IP window may end later still
    clock.shift(31)
    assert _wrong(client, member.login_id, 6).status_code == 200  # the 6th failure: a minute now
    clock.shift(31)
    assert client.post("/login", data=right).status_code == 429
    clock.shift(30)
    assert client.post("/login", data=right).status_code == 302
    # Success starts the count again.
    assert _wrong(client, member.login_id, 7).status_code == 200
    assert client.post("/login", data=right).status_code == 302


def test_the_member_numbers_and_login_ids_of_nobody_behave_the_same(app, clock):
    client = app.test_client()
    answers = [_wrong(client, "nobody-here", n).status_code for n in range(FREE_FAILURES + 1)]
    assert answers == [200] * FREE_FAILURES + [429]


def test_a_remembered_device_is_not_held_up(app, member, outbox, leak_guard, clock):
    """A stranger who knows the login ID cannot keep the member out of their own phone."""
    leak_guard.add(member.password_plain)
    phone = app.test_client()
    phone.application.config["TRUST_NEW_DEVICES"] = False
    try:
        assert phone.post("/login", data={"login_id": member.login_id,
                                          "password": member.password_plain}).headers["Location"] == "/login/code"
        assert phone.post("/login/code", data={"code": outbox.code(member.phone)}).status_code == 302
        phone.post("/logout")
        stranger = app.test_client()
        for n in range(FREE_FAILURES + 2):
            _wrong(stranger, member.login_id, n)
        assert stranger.post("/login", data={"login_id": member.login_id,
                                             "password": member.password_plain}).status_code == 429
        back = phone.post("/login", data={"login_id": member.login_id, "password": member.password_plain})
        assert back.status_code == 302 and back.headers["Location"] == "/mypage"
    finally:
        phone.application.config["TRUST_NEW_DEVICES"] = True


# --- staff ----------------------------------------------------------------------------------
def test_staff_accounts_wait_after_five_failures(app, make_staff, clock):
    staff = make_staff("support")
    client = app.test_client()
    for n in range(FREE_FAILURES):
        response = client.post("/staff/login", data={"email": staff.email, "password": "Wrong-pass-0000"},
                               environ_base=_from(n))
        assert response.status_code == 200
    held = client.post("/staff/login", data={"email": staff.email.upper(), "password": staff.password_plain},
                       environ_base=_from(50))
    assert held.status_code == 429 and "ログインできません" in held.text
    clock.shift(31)
    assert client.post("/staff/login", data={"email": staff.email,
                                             "password": staff.password_plain}).status_code == 302


def test_staff_totp_failures_are_counted_on_the_server(app, make_staff, clock):
    """Resending the cookie from before the wrong codes gains no tries."""
    staff = make_staff("support")
    client = app.test_client()
    assert client.post("/staff/login", data={"email": staff.email,
                                             "password": staff.password_plain}).status_code == 302
    pending_cookie = client.get_cookie("mypage_session").value
    for _ in range(FREE_FAILURES):
        client.set_cookie("mypage_session", pending_cookie)  # as if no failure had happened
        client.post("/staff/login/totp", data={"code": "000000"})
    client.set_cookie("mypage_session", pending_cookie)
    right = client.post("/staff/login/totp", data={"code": totp_for(staff.totp_secret).at(NOON)})
    assert right.status_code == 302 and right.headers["Location"] == "/staff/login"
    assert client.get("/staff").headers["Location"].startswith("/staff/login")  # not signed in
    clock.shift(31)
    client.post("/staff/login", data={"email": staff.email, "password": staff.password_plain})
    done = client.post("/staff/login/totp", data={"code": totp_for(staff.totp_secret).at(NOON + timedelta(seconds=31))})
    assert done.headers["Location"] == "/staff"


@pytest.fixture
def member(make_member, leak_guard):
    found = make_member(phone="09023458888")
    leak_guard.add(found.phone)
    return found
