"""Staff acting for a member: address allowed (recorded as staff), phone/email/bank refused.

Acting is set up the way the staff feature does it: the staff user's AuthSession
row carries acting_member_id / acting_started_at, and portal/staff/impersonation.py
turns that into flask.g.acting_member_id on each request.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal.auth.models import AuthSession
from portal.clock import utcnow
from tests.conftest import sign_in_staff_directly
from tests.profile.helpers import audit_rows, hidden, requests_of


@pytest.fixture
def acting(app, db_session, make_staff, make_member):
    member = make_member()
    staff = make_staff("support")
    client = app.test_client()
    sign_in_staff_directly(client, db_session, staff)
    row = db_session.scalars(select(AuthSession).where(AuthSession.staff_id == staff.id)).one()
    row.acting_member_id, row.acting_started_at, row.acting_reason = member.id, utcnow(), "電話での依頼：住所変更"
    db_session.flush()
    client.member, client.staff = member, staff
    return client


@pytest.mark.parametrize("path,what", [
    ("/profile/phone", "電話番号を変更"),
    ("/profile/email", "メールアドレスを変更"),
    ("/profile/bank-account", "振替口座を変更"),
])
def test_own_procedures_are_refused_while_acting(acting, db_session, path, what):
    for method in ("get", "post"):
        response = getattr(acting, method)(path, data={"phone": "08099990001", "channel": "sms",
                                                       "email": "x@example.jp", "bank_code": "0001"})
        assert response.status_code == 302, (path, method)
        assert not response.headers["Location"].startswith(path)
    page = acting.get("/mypage")
    assert f"代理操作中は{what}できません" in page.text
    assert requests_of(db_session, acting.member) == []


def test_address_change_while_acting_is_recorded_as_staff(acting, db_session):
    page = acting.get("/profile/address")
    assert page.status_code == 200
    data = {"form_token": hidden(page.text, "form_token"), "version": hidden(page.text, "version"),
            "postal_code": "151-0053", "street": "代々木1-1-1", "action": "save"}
    assert acting.post("/profile/address", data=data).status_code == 302
    [request] = requests_of(db_session, acting.member, "address_change")
    assert request.made_by_staff_id == acting.staff.id
    [row] = audit_rows(db_session, "profile.address_change")
    assert row.actor_type == "staff" and row.actor_staff_id == acting.staff.id
    assert row.acting_as_member_id == acting.member.id
    assert json.loads(row.detail)["after"]["address"] == "東京都渋谷区代々木1-1-1"
    assert "サポート担当者が代理で受け付けました" in acting.get("/requests").text
