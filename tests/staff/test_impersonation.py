"""Acting as a member: POST with a reason, support only, never a
staff account or an inactive member, 30-minute cap, banner, audit of every request."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from flask import get_flashed_messages
from sqlalchemy import select

from portal.clock import TOKYO
from portal.audit.models import AuditLog
from portal.audit.reports import access_history
from portal.users import refuse_while_acting
from tests.staff.conftest import REASON, auth_row, sid_of

T0 = datetime(2026, 6, 1, 10, 0, 0, tzinfo=TOKYO)


def audit_rows(db_session, action: str):
    db_session.expire_all()
    return db_session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


@pytest.fixture
def member(make_member):
    return make_member(household=True, name="代理 花子", name_kana="ダイリ ハナコ")


def test_start_acting_sets_the_session_and_opens_mypage(support, member, act, db_session):
    response = act(support, member)
    assert response.status_code == 302 and response.headers["Location"] == "/mypage"
    row = auth_row(db_session, support)
    assert row.staff_id == support.staff.id
    assert row.acting_member_id == member.id and row.acting_started_at is not None
    assert "住所変更の操作方法" in row.acting_reason and "お電話" in row.acting_reason
    page = support.get("/mypage")
    assert page.status_code == 200 and "代理 花子" in page.text
    start = audit_rows(db_session, "impersonation.start")
    assert len(start) == 1 and start[0].actor_staff_id == support.staff.id
    assert start[0].acting_as_member_id == member.id and start[0].actor_type == "staff"


def test_get_is_refused(support, member, db_session):
    assert support.get(f"/staff/members/{member.id}/act").status_code == 405
    assert support.get("/staff/act/end").status_code == 405
    assert auth_row(db_session, support).acting_member_id is None


@pytest.mark.parametrize("data", [
    {"reason_code": "", "reason_text": "住所変更の操作方法"},
    {"reason_code": "phone_inquiry", "reason_text": ""},
    {"reason_code": "phone_inquiry", "reason_text": "   "},
    {"reason_code": "not-a-reason", "reason_text": "住所変更の操作方法"},
    {"reason_code": "other", "reason_text": "あ"},
])
def test_a_reason_is_required(support, member, db_session, data):
    response = support.post(f"/staff/members/{member.id}/act", data=data)
    assert response.status_code == 400
    assert 'class="error"' in response.text
    assert auth_row(db_session, support).acting_member_id is None
    assert audit_rows(db_session, "impersonation.start") == []


@pytest.mark.parametrize("role", ["cs", "marketing", "admin"])
def test_only_support_may_act(staff_client, member, act, db_session, role):
    client = staff_client(role)
    assert act(client, member).status_code == 403
    assert auth_row(db_session, client).acting_member_id is None


@pytest.mark.parametrize("status", ["suspended", "withdrawn"])
def test_inactive_member_is_refused(support, make_member, act, db_session, status):
    target = make_member(status=status)
    page = support.get(f"/staff/members/{target.id}")
    assert page.status_code == 200 and "代理操作を開始" not in page.text
    response = act(support, target)
    assert response.status_code == 409 and "代理操作はできません" in response.text
    assert auth_row(db_session, support).acting_member_id is None


def test_a_staff_account_is_never_a_target(support, make_member, make_staff, act, db_session):
    colleague = make_staff("cs")
    # A member record belonging to a staff user (same e-mail) …
    staff_as_member = make_member(email=colleague.email.upper())
    response = act(support, staff_as_member)
    assert response.status_code == 409 and "スタッフ本人" in response.text
    # … and the staff user's own id used as a member id: no such member.
    own = make_member(email=support.staff.email)
    assert act(support, own).status_code == 409
    missing_id = 10_000_000 + colleague.id
    assert support.post(f"/staff/members/{missing_id}/act", data=REASON).status_code == 404
    assert auth_row(db_session, support).acting_member_id is None


def test_session_id_rotates_at_start_and_end(support, member, act, db_session):
    before = sid_of(support)
    old_cookie = support.get_cookie("mypage_session").value
    act(support, member)
    during = sid_of(support)
    assert during and during != before
    # The cookie from before the start opens nothing any more.
    replay = support.application.test_client()
    replay.set_cookie("mypage_session", old_cookie)
    assert replay.get("/staff").headers["Location"].startswith("/staff/login")
    assert replay.get("/mypage").status_code == 302
    end = support.post("/staff/act/end")
    assert end.status_code == 302 and end.headers["Location"] == f"/staff/members/{member.id}"
    after = sid_of(support)
    assert after not in (before, during)
    row = auth_row(db_session, support)
    assert row.acting_member_id is None and row.acting_started_at is None and row.ended_at is None
    # Back in the console: member pages are closed again.
    assert support.get("/mypage").headers["Location"] == "/staff"
    assert len(audit_rows(db_session, "impersonation.end")) == 1


def test_staff_not_acting_is_sent_to_the_console(support):
    for path in ("/mypage", "/requests"):
        response = support.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/staff", path
    assert support.get("/").status_code == 200  # public pages stay open


def test_cannot_start_twice(support, member, make_member, act, db_session):
    act(support, member)
    other = make_member()
    response = act(support, other)
    assert response.status_code == 409 and "すでに代理操作中" in response.text
    assert auth_row(db_session, support).acting_member_id == member.id


@pytest.mark.parametrize("path", ["/mypage", "/requests"])
def test_banner_on_member_pages(support, member, act, path):
    act(support, member)
    page = support.get(path)
    assert page.status_code == 200
    assert 'class="acting-banner"' in page.text
    assert "代理操作中" in page.text and "代理 花子" in page.text and support.staff.name in page.text
    assert 'action="/staff/act/end"' in page.text and "残り<span data-acting-minutes>30</span>分" in page.text
    assert "js/staff.js" in page.text


def test_banner_on_every_member_page_while_acting(app, support, member, act):
    """Every GET page without URL arguments that a member can open shows the banner."""
    act(support, member)
    checked = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
            continue
        if rule.endpoint.startswith(("staff.", "staff_", "dev.")) or rule.rule.endswith((".json", ".csv", ".pdf")):
            continue
        response = support.get(rule.rule)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        assert 'class="acting-banner"' in response.text, rule.rule
        checked.append(rule.rule)
    assert {"/mypage", "/requests"} <= set(checked)


def test_member_own_session_has_no_banner(member_client):
    assert "acting-banner" not in member_client.get("/mypage").text


def test_every_request_while_acting_is_audited(support, member, act, db_session):
    act(support, member)
    paths = ["/mypage", "/requests", "/mypage", "/staff"]
    for path in paths:
        support.get(path)
    rows = audit_rows(db_session, "impersonation.request")
    assert [r.target_id for r in rows] == ["/mypage", "/requests", "/mypage", "/staff"]
    for row in rows:
        assert row.actor_type == "staff" and row.actor_staff_id == support.staff.id
        assert row.acting_as_member_id == member.id and row.occurred_at is not None
        assert '"method": "GET"' in row.detail and row.request_id


def test_thirty_minute_cap_without_extending_the_staff_session(staff_client, member, act, db_session):
    # Signed cookies carry their signing time: sign in inside the travelled clock.
    with time_machine.travel(T0, tick=False):
        support = staff_client("support")
        act(support, member)
        created = auth_row(db_session, support).created_at
    for minutes in (10, 20, 29):
        with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False):
            page = support.get("/mypage")
            assert page.status_code == 200 and 'class="acting-banner"' in page.text, minutes
    with time_machine.travel(T0 + timedelta(minutes=29, seconds=30), tick=False):
        assert "残り<span data-acting-minutes>1</span>分" in support.get("/requests").text
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        over = support.get("/mypage")
        assert over.status_code == 302 and over.headers["Location"] == f"/staff/members/{member.id}"
        row = auth_row(db_session, support)
        assert row.acting_member_id is None and row.ended_at is None
        assert row.created_at == created  # acting never moved the staff session's start
        console = support.get(over.headers["Location"])
        assert "上限時間（30分）" in console.text and 'class="acting-banner"' not in console.text
        assert support.get("/mypage").headers["Location"] == "/staff"
    ended = audit_rows(db_session, "impersonation.end")
    assert len(ended) == 1 and '"reason": "expired"' in ended[0].detail


def test_staff_idle_rule_still_applies_while_acting(staff_client, member, act, db_session):
    with time_machine.travel(T0, tick=False):
        support = staff_client("support")
        act(support, member)
    with time_machine.travel(T0 + timedelta(minutes=14), tick=False):
        assert support.get("/mypage").status_code == 200
    with time_machine.travel(T0 + timedelta(minutes=29, seconds=30), tick=False):
        response = support.get("/mypage")
        assert response.status_code == 302
    db_session.expire_all()
    from portal.auth.models import AuthSession
    row = db_session.scalar(select(AuthSession).where(AuthSession.staff_id == support.staff.id))
    assert row.ended_reason == "idle"


def test_member_suspended_while_acting_ends_acting(support, member, act, db_session):
    act(support, member)
    member.status = "suspended"
    db_session.flush()
    response = support.get("/mypage")
    assert response.headers["Location"] == f"/staff/members/{member.id}"
    assert auth_row(db_session, support).acting_member_id is None


def test_logout_while_acting_ends_both(support, member, act, db_session):
    act(support, member)
    assert support.post("/staff/logout").headers["Location"] == "/staff/login"
    reasons = [r.detail for r in audit_rows(db_session, "impersonation.end")]
    assert reasons == ['{"reason": "logout"}']


# --- refused actions ------------------------------------------------------------------
@refuse_while_acting("口座を変更")
def _test_only_bank_view():
    return "changed"


def _run_with_cookie(app, client, path: str, method: str):
    """Run the app's real before-request hooks for the client's cookie, then a
    test-only view decorated with refuse_while_acting (the session-wide app cannot
    get a new URL rule after its first request)."""
    cookie = client.get_cookie("mypage_session").value
    with app.test_request_context(path, method=method, headers={"Cookie": f"mypage_session={cookie}"}):
        early = app.preprocess_request()
        assert early is None
        response = app.make_response(_test_only_bank_view())
        flashed = get_flashed_messages()
    return response, flashed


def test_refused_while_acting_test_view(app, support, member, act, member_client):
    act(support, member)
    for method in ("GET", "POST"):
        response, flashed = _run_with_cookie(app, support, "/mypage", method)
        assert response.status_code == 302 and response.headers["Location"] == "/mypage"
        assert flashed[-1] == "代理操作中は口座を変更できません。ご本人の操作が必要です。"
    # The member themself passes through.
    response, flashed = _run_with_cookie(app, member_client, "/mypage", "POST")
    assert response.status_code == 200 and response.get_data(as_text=True) == "changed" and flashed == []


# Debit account, phone, e-mail, purchases, enrolment submission, voices in the member's name.
REFUSED_WHILE_ACTING = ["/profile/bank-account", "/profile/phone", "/profile/email", "/enroll/confirm",
                        "/shop/<sku>/order", "/voices/new"]


@pytest.mark.parametrize("path", REFUSED_WHILE_ACTING)
def test_real_member_only_procedures_are_refused(app, support, member, act, db_session, path):
    rules = {r.rule: r for r in app.url_map.iter_rules()}
    if path not in rules or "POST" not in rules[path].methods:
        pytest.skip(f"{path} is not built yet")
    act(support, member)
    from portal.procedures.models import ProcedureRequest
    before = db_session.scalar(select(ProcedureRequest.id).where(ProcedureRequest.member_id == member.id))
    url = path.replace("<sku>", "X1")
    response = support.post(url, data={})
    assert response.status_code == 302, (path, response.status_code)
    follow = support.get(response.headers["Location"])
    assert "代理操作中は" in follow.text, path
    db_session.expire_all()
    assert db_session.scalar(select(ProcedureRequest.id).where(ProcedureRequest.member_id == member.id)) == before


# --- what the member sees -------------------------------------------------------------------
def test_member_access_history(support, member, act, db_session):
    support.get(f"/staff/members/{member.id}")
    act(support, member)
    support.post("/staff/act/end")
    history = access_history(db_session, member.id)
    assert [h.kind for h in history] == ["act", "view"]  # newest first
    acted = history[0]
    assert acted.staff_name == support.staff.name
    assert acted.reason.startswith("お電話でのお問い合わせ対応") and "住所変更の操作方法" in acted.reason
    assert acted.occurred_at.tzinfo is not None
    assert history[1].reason is None and history[1].staff_name == support.staff.name
    assert access_history(db_session, member.id, limit=1) == history[:1]
    # Requests made while acting are in the audit log but not in the member's short history.
    assert all(h.kind in ("act", "view") for h in access_history(db_session, member.id, limit=50))


def test_member_sees_support_access_on_mypage(app, support, member, act):
    act(support, member)
    support.post("/staff/act/end")
    own = app.test_client()
    assert own.post("/login", data={"login_id": member.login_id, "password": member.password_plain}).status_code == 302
    page = own.get("/mypage")
    assert page.status_code == 200
    assert support.staff.name in page.text and "住所変更の操作方法のお問い合わせ" in page.text
