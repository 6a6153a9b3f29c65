"""The voice pages: member and visitor submission, limits, staff triage, roles, report, CSV, escaping."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
import time_machine
from flask import g
from sqlalchemy import func, select

from portal.clock import TOKYO
from portal.gateways.models import DevOutboxEntry
from portal.messaging.models import OutboxMessage
from portal.audit.models import AuditLog
from portal.voices import services
from portal.voices.models import ImprovementItem, Voice

TOKEN_RE = re.compile(r'name="submit_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="submit_token"')
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def token_from(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "the form carries a one-time token"
    return match.group(1) or match.group(2)


def open_form(client) -> str:
    response = client.get("/voices/new")
    assert response.status_code == 200
    return token_from(response.text)


def voice_count(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Voice))


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


VISITOR = {"kind": "opinion", "topic": "web", "body": "ホームページの文字を大きくしてください",
           "contact_name": "山田 花子", "contact_email": "hanako@example.jp"}


# ---------------------------------------------------------------- member side

def test_form_has_counter_and_script(client):
    html = client.get("/voices/new").text
    assert 'data-voice-counter="body-count"' in html
    assert re.search(r'id="body-count"[^>]*aria-live="polite"', html)
    assert "js/voices.js" in html
    for label in ("感謝・評価", "意見・要望", "苦情", "加入・契約手続き", "共済金の請求・支払", "職員・窓口の応対",
                  "商品・制度", "マイページ・ホームページ", "郵送物・書類", "コールセンター", "その他"):
        assert label in html
    assert 'name="contact_email"' in html  # a visitor sees the contact fields


def test_member_submits_and_sees_the_voice(member_client, db_session, make_contract):
    member = member_client.member
    contract = make_contract(member)
    html = member_client.get("/voices/new").text
    assert 'name="contact_email"' not in html
    assert contract.masked_no in html
    response = member_client.post("/voices/new", data={
        "kind": "complaint", "topic": "mail", "body": "証書が届きません", "contract": str(contract.id),
        "submit_token": token_from(html)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/voices/thanks")
    voice = db_session.scalar(select(Voice))
    assert (voice.member_id, voice.contract_id, voice.wants_reply, voice.channel) == (member.id, contract.id, True, "web")
    thanks = member_client.get("/voices/thanks").text
    assert voice.receipt_no in thanks
    # The acknowledgement was queued and then delivered after the commit.
    message = db_session.scalar(select(OutboxMessage).where(OutboxMessage.member_id == member.id))
    assert voice.receipt_no in message.body and message.status == "sent"
    assert db_session.scalar(select(DevOutboxEntry).where(DevOutboxEntry.body.contains(voice.receipt_no)))
    listing = member_client.get("/voices").text
    assert voice.receipt_no in listing and "証書が届きません" in listing and "受付" in listing
    assert db_session.scalar(select(AuditLog).where(AuditLog.action == "voice.submitted")).acting_as_member_id == member.id


def test_double_submit_makes_one_voice(member_client, db_session):
    token = open_form(member_client)
    data = {"kind": "opinion", "topic": "web", "body": "二度押し", "submit_token": token}
    first = member_client.post("/voices/new", data=data)
    second = member_client.post("/voices/new", data=data)
    assert first.status_code == second.status_code == 302
    assert voice_count(db_session) == 1


def test_token_not_issued_to_this_browser_is_refused(member_client, db_session):
    response = member_client.post("/voices/new", data={"kind": "opinion", "topic": "web", "body": "x",
                                                         "submit_token": "forged"})
    assert response.status_code == 400 and "有効期限" in response.text
    assert voice_count(db_session) == 0


def test_too_long_text_keeps_what_was_typed(member_client, db_session):
    token = open_form(member_client)
    response = member_client.post("/voices/new", data={"kind": "opinion", "topic": "web", "body": "長" * 4001,
                                                         "submit_token": token})
    assert response.status_code == 400
    assert "4,000文字以内" in response.text and "長" * 100 in response.text
    assert voice_count(db_session) == 0


def test_visitor_submits_with_contact(client, db_session):
    response = client.post("/voices/new", data={**VISITOR, "submit_token": open_form(client)})
    assert response.status_code == 302
    voice = db_session.scalar(select(Voice))
    assert voice.member_id is None and voice.contact == "hanako@example.jp"
    message = db_session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "hanako@example.jp"))
    assert message.channel == "mail" and voice.receipt_no in message.body
    assert voice.receipt_no in client.get("/voices/thanks").text
    # A visitor has no /voices list: it needs a sign-in.
    assert client.get("/voices").status_code == 302


def test_visitor_without_contact_gets_a_message_on_the_field(client, db_session):
    response = client.post("/voices/new", data={**VISITOR, "contact_email": "", "submit_token": open_form(client)})
    assert response.status_code == 400
    assert "ご連絡先" in response.text
    assert voice_count(db_session) == 0


def test_visitors_are_rate_limited_per_ip(client, db_session):
    for _ in range(5):
        assert client.post("/voices/new", data={**VISITOR, "submit_token": open_form(client)}).status_code == 302
    token = open_form(client)
    blocked = client.post("/voices/new", data={**VISITOR, "submit_token": token})
    assert blocked.status_code == 429
    assert voice_count(db_session) == 5


def test_mistakes_do_not_count_towards_the_limit(client, db_session):
    for _ in range(6):
        client.post("/voices/new", data={**VISITOR, "contact_email": "", "submit_token": open_form(client)})
    assert client.post("/voices/new", data={**VISITOR, "submit_token": open_form(client)}).status_code == 302


def test_signed_in_members_are_not_held_by_the_visitor_limit(member_client, db_session):
    for i in range(7):
        response = member_client.post("/voices/new", data={"kind": "thanks", "topic": "other", "body": f"感謝{i}",
                                                             "submit_token": open_form(member_client)})
        assert response.status_code == 302
    assert voice_count(db_session) == 7


def test_refused_while_staff_acts_for_the_member(app, db_session, make_member):
    member = make_member()
    with app.test_request_context("/voices/new"):
        g.acting_member_id = member.id  # what the staff console sets while acting
        g.acting_staff_id = None
        response = app.view_functions["voices.new"]()
    assert response.status_code == 302 and "/mypage" in response.headers["Location"]


def test_members_only_see_their_own_voices(member_client, db_session, make_member):
    other = make_member()
    services.submit_voice(db_session, kind="opinion", topic="web", body="ほかの人の声", wants_reply=False,
                          member=other)
    assert "ほかの人の声" not in member_client.get("/voices").text


# ---------------------------------------------------------------- roles

@pytest.mark.parametrize("path", ["/staff/voices", "/staff/voices/report", "/staff/voices/items",
                                  "/staff/voices/new", "/staff/voices/report.csv", "/staff/voices/export.csv",
                                  "/staff/voices/report/months.svg"])
def test_only_cs_staff_reach_the_staff_pages(path, staff_client, client, member_client):
    assert staff_client("cs").get(path).status_code == 200
    for role in ("support", "marketing", "admin"):
        assert staff_client(role).get(path).status_code == 403
    for visitor in (client, member_client):
        response = visitor.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_non_cs_staff_cannot_read_a_voice(staff_client, db_session, make_member):
    voice = services.submit_voice(db_session, kind="opinion", topic="web", body="x", wants_reply=False,
                                  member=make_member()).voice
    assert staff_client("support").get(f"/staff/voices/{voice.id}").status_code == 403
    assert staff_client("support").post(f"/staff/voices/{voice.id}/reply", data={"reply-reply": "x"}).status_code == 403


# ---------------------------------------------------------------- staff triage

def test_inbox_puts_new_complaints_on_top_and_filters(staff_client, db_session, make_member):
    member = make_member()
    with time_machine.travel(at(2026, 11, 20, 10, 0), tick=False):
        complaint = services.submit_voice(db_session, kind="complaint", topic="claims", body="苦情の本文",
                                          wants_reply=True, member=member).voice
    with time_machine.travel(at(2026, 11, 25, 10, 0), tick=False):
        services.submit_voice(db_session, kind="thanks", topic="staff_service", body="感謝の本文",
                              wants_reply=False, member=member)
    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
        cs = staff_client("cs")  # the staff session starts at the travelled time too
        html = cs.get("/staff/voices").text
        only_thanks = cs.get("/staff/voices?kind=thanks").text
        period = cs.get("/staff/voices?date_from=2026-11-21&date_to=2026-11-30").text
        answered = cs.get("/staff/voices?status=answered").text
        received = cs.get("/staff/voices?status=received&topic=claims&channel=web").text
    assert html.index("苦情の本文") < html.index("感謝の本文")
    assert "期限超過" in html  # due 24 Nov, still unanswered on 27 Nov
    assert "感謝の本文" in only_thanks and "苦情の本文" not in only_thanks
    assert "感謝の本文" in period and "苦情の本文" not in period
    assert complaint.receipt_no not in answered and "該当する声はありません" in answered
    assert complaint.receipt_no in received and "感謝の本文" not in received
    assert db_session.scalar(select(AuditLog).where(AuditLog.action == "voice.inbox_viewed")).actor_staff_id == cs.staff.id


def test_inbox_is_paginated(staff_client, db_session, make_member):
    member = make_member()
    for i in range(55):
        services.submit_voice(db_session, kind="opinion", topic="other", body=f"声{i:02d}番", wants_reply=False,
                              member=member)
    cs = staff_client("cs")
    first, second = cs.get("/staff/voices").text, cs.get("/staff/voices?page=2").text
    assert "55件（1 / 2ページ）" in first and "page=2" in first
    assert len(re.findall(r'href="/staff/voices/\d+"', first)) == 50
    assert len(re.findall(r'href="/staff/voices/\d+"', second)) == 5


def test_reply_is_delivered_and_shown_to_the_member(staff_client, member_client, db_session):
    member = member_client.member
    voice = services.submit_voice(db_session, kind="complaint", topic="mail", body="届かない", wants_reply=True,
                                  member=member).voice
    cs = staff_client("cs")
    detail = cs.get(f"/staff/voices/{voice.id}")
    assert detail.status_code == 200 and "届かない" in detail.text
    viewed = db_session.scalar(select(AuditLog).where(AuditLog.action == "voice.viewed"))
    assert viewed.target_id == str(voice.id) and viewed.actor_staff_id == cs.staff.id
    response = cs.post(f"/staff/voices/{voice.id}/reply",
                       data={"reply-reply": "本日再送いたしました。", "reply-version": str(voice.version)})
    assert response.status_code == 302
    db_session.expire_all()
    voice = db_session.get(Voice, voice.id)
    assert voice.status == "answered" and voice.first_response_at is not None
    [reply] = voice.replies
    message = db_session.get(OutboxMessage, reply.outbox_message_id)
    assert message.member_id == member.id and "本日再送いたしました。" in message.body and message.status == "sent"
    assert db_session.scalar(select(AuditLog).where(AuditLog.action == "voice.replied")).acting_as_member_id == member.id
    listing = member_client.get("/voices").text
    assert "本日再送いたしました。" in listing and "回答済" in listing


def test_status_assignee_note_and_conflict(staff_client, db_session, make_member):
    voice = services.submit_voice(db_session, kind="opinion", topic="web", body="x", wants_reply=False,
                                  member=make_member()).voice
    cs = staff_client("cs")
    version = voice.version
    assert cs.post(f"/staff/voices/{voice.id}/status",
                   data={"status-status": "in_progress", "status-version": str(version)}).status_code == 302
    stale = cs.post(f"/staff/voices/{voice.id}/status", data={"status-status": "closed", "status-version": str(version)})
    assert stale.status_code == 409 and "ほかの担当者" in stale.text
    db_session.expire_all()
    voice = db_session.get(Voice, voice.id)
    assert voice.status == "in_progress"
    assert cs.post(f"/staff/voices/{voice.id}/assign",
                   data={"assign-assignee": str(cs.staff.id), "assign-version": str(voice.version)}).status_code == 302
    assert cs.post(f"/staff/voices/{voice.id}/notes", data={"note-note": "社内で検討"}).status_code == 302
    db_session.expire_all()
    voice = db_session.get(Voice, voice.id)
    assert voice.assignee_staff_id == cs.staff.id and voice.notes[0].body == "社内で検討"
    actions = set(db_session.scalars(select(AuditLog.action).where(AuditLog.target_id == str(voice.id))))
    assert {"voice.status_changed", "voice.assigned", "voice.note_added"} <= actions


def test_staff_register_voice_from_a_shop(staff_client, db_session):
    with time_machine.travel(at(2026, 11, 27, 15, 0), tick=False):
        cs = staff_client("cs")
        response = cs.post("/staff/voices/new", data={
            "channel": "shop", "received_at": "2026-11-27T11:30", "kind": "complaint", "topic": "staff_service",
            "body": "窓口で長く待たされた", "contact_name": "鈴木", "contact_phone": "0312345678"})
    assert response.status_code == 302
    voice = db_session.scalar(select(Voice))
    assert (voice.channel, voice.registered_by_staff_id, voice.contact) == ("shop", cs.staff.id, "0312345678")
    assert voice.received_at == at(2026, 11, 27, 11, 30)


def test_improvement_item_is_shown_on_the_voice(staff_client, db_session, make_member):
    voice = services.submit_voice(db_session, kind="opinion", topic="web", body="x", wants_reply=False,
                                  member=make_member()).voice
    cs = staff_client("cs")
    response = cs.post("/staff/voices/items", data={"title": "郵送物を減らす", "owner": str(cs.staff.id),
                                                    "due_on": "2027-03-31", "progress": "not_started",
                                                    "voice_id": str(voice.id)})
    assert response.status_code == 302
    item_page = cs.get(response.headers["Location"]).text
    assert voice.receipt_no in item_page
    assert "郵送物を減らす" in cs.get(f"/staff/voices/{voice.id}").text
    assert "郵送物を減らす" in cs.get("/staff/voices/items").text


def test_a_new_item_is_saved_with_the_progress_the_staff_member_chose(staff_client, db_session):
    cs = staff_client("cs")
    response = cs.post("/staff/voices/items", data={"title": "明細の文字を大きく", "progress": "in_progress"})
    assert response.status_code == 302
    page = cs.get(response.headers["Location"]).text
    assert re.search(r'<option selected value="in_progress">|<option value="in_progress" selected', page)
    db_session.expire_all()
    assert db_session.scalar(select(ImprovementItem.progress)) == "in_progress"


# ---------------------------------------------------------------- escaping

def test_voice_text_is_escaped_everywhere(member_client, staff_client, db_session):
    voice = services.submit_voice(db_session, kind="complaint", topic="other", body=XSS, wants_reply=True,
                                  member=member_client.member).voice
    cs = staff_client("cs")
    services.send_reply(db_session, voice, cs.staff, XSS)
    pages = [member_client.get("/voices").text, cs.get("/staff/voices").text, cs.get(f"/staff/voices/{voice.id}").text]
    for html in pages:
        assert '<script>alert("x")' not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html


# ---------------------------------------------------------------- report

def test_report_page_charts_and_csv(staff_client, db_session, make_staff):
    staff = make_staff("cs")
    with time_machine.travel(at(2027, 7, 1, 9, 0), tick=False):  # business year 2026 is over
        for when, kind in ((at(2026, 5, 31, 23, 59), "complaint"), (at(2026, 6, 1, 0, 0), "thanks"),
                           (at(2027, 5, 31, 23, 59), "opinion"), (at(2027, 6, 1, 0, 0), "opinion")):
            services.register_voice(db_session, staff, channel="web", received_at=when, kind=kind, topic="other",
                                    body="=1+1", wants_reply=False)
        cs = staff_client("cs")
        html = cs.get("/staff/voices/report?fy=2026").text
        svg = cs.get("/staff/voices/report/months.svg?fy=2026")
        missing = cs.get("/staff/voices/report/nope.svg")
        summary = cs.get("/staff/voices/report.csv?fy=2026")
        summary_text = summary.data.decode("utf-8-sig")  # streamed: read before the next request
        export = cs.get("/staff/voices/export.csv?fy=2026")
        body = export.data.decode("utf-8-sig")
    assert "2026年度" in html and "受付件数 <strong class=\"num\">2件</strong>" in html
    assert 'id="partial-note"' not in html and "前年度同期" not in html
    assert '/staff/voices/report/months.svg?fy=2026' in html
    assert svg.mimetype == "image/svg+xml" and svg.text.lstrip().startswith("<svg")
    assert "<script" not in svg.text and "script-src" not in svg.headers["Content-Security-Policy"]
    assert missing.status_code == 404
    assert summary.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert summary.data.startswith(b"\xef\xbb\xbf")
    assert "合計,合計,2,1,100.0" in summary_text
    assert export.data.startswith(b"\xef\xbb\xbf") and "attachment" in export.headers["Content-Disposition"]
    assert body.count("'=1+1") == 2 and ",=1+1" not in body
    actions = set(db_session.scalars(select(AuditLog.action).where(AuditLog.actor_staff_id == cs.staff.id)))
    assert {"voice.report_viewed", "voice.report_exported", "voice.exported"} <= actions


def test_report_shows_months_not_yet_reached_as_blank(staff_client, db_session, make_staff):
    staff = make_staff("cs")
    with time_machine.travel(at(2026, 11, 20, 10, 0), tick=False):
        for month in range(6, 13):  # every month of last year from June to December had one voice
            services.register_voice(db_session, staff, channel="web", received_at=at(2025, month, 5, 10, 0),
                                    kind="thanks", topic="other", body="ありがとう", wants_reply=False)
        html = staff_client("cs").get("/staff/voices/report?fy=2026").text
    december = re.search(r"<tr[^>]*><th scope=\"row\">2026年12月</th>(.*?)</tr>", html, re.S).group(1)
    november = re.search(r"<tr[^>]*><th scope=\"row\">2026年11月</th>(.*?)</tr>", html, re.S).group(1)
    assert "-100.0%" not in december and december.count("—") == 5
    assert "-100.0%" in november  # a month that has begun may really have dropped
    # the year so far is compared with June to November of last year (6 voices), not all 7
    assert "前年度同期 6件" in html and 'id="partial-note"' in html and "6月〜11月" in html


def test_a_signed_token_needs_nothing_kept_in_the_session(member_client, db_session):
    token = token_from(member_client.get("/voices/new").get_data(as_text=True))
    with member_client.session_transaction() as kept:  # a session cookie the browser did not keep
        kept.pop("voice_tokens", None)
    response = member_client.post("/voices/new", data={"kind": "opinion", "topic": "web", "body": "署名付き",
                                                       "submit_token": token})
    assert response.status_code == 302 and "/voices/thanks" in response.headers["Location"]
