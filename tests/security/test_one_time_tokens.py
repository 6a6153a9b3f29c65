"""A form sent twice with one one-time token (a double click, a resent form, the
back button) answers the second time with the very same result page as the first,
never a conflict (409) or an error, and stores one thing. One test per member form
that carries such a token; the shop's order and the medical claim have theirs next
to their flows (tests/shop/test_orders.py, tests/claims/test_flow.py)."""
from __future__ import annotations

import io
import re
from datetime import date

import time_machine
from sqlalchemy import func, select

from portal.clock import TOKYO
from portal.procedures.models import ProcedureRequest
from tests.claims.helpers import jpeg


def _hidden(html: str, name: str) -> str:
    match = (re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]+)"', html)
             or re.search(rf'value="([^"]+)"[^>]*name="{re.escape(name)}"', html))
    assert match, f"no {name} on the page"
    return match.group(1)


def _path(location: str) -> str:
    return location.replace("http://localhost", "")


def _twice(client, url: str, data: dict, **kw):
    """Both answers redirect to one result page, which shows the same thing both times."""
    first = client.post(url, data=dict(data), **kw)
    assert first.status_code in (302, 303), (url, first.status_code, first.text[:3000])
    second = client.post(url, data=dict(data), **kw)
    assert second.status_code == first.status_code, (url, second.status_code, second.text[:3000])
    assert _path(second.headers["Location"]) == _path(first.headers["Location"])
    page = client.get(_path(first.headers["Location"]))
    assert page.status_code == 200
    return _path(first.headers["Location"])


def _requests(db_session, member, kind: str) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(ProcedureRequest).where(
        ProcedureRequest.member_id == member.id, ProcedureRequest.kind == kind))


# --- changes ----------------------------------------------------------------------------
def test_cancellation(client, auth, make_member, make_contract, db_session):
    member = make_member()
    contract = make_contract(member, "KOKUMIN_SOGO", premium_yen=1_800)
    with time_machine.travel("2026-12-11 10:00:00+09:00", tick=False):
        auth.login_member(member)
        url = f"/contracts/{contract.contract_no}/cancel"
        token = _hidden(client.get(url).text, "form_token")
        _twice(client, url, {"form_token": token, "action": "save"})
    assert _requests(db_session, member, "cancellation") == 1


def test_withdrawal(client, auth, make_member, db_session):
    member = make_member()
    with time_machine.travel("2026-12-01 10:00:00+09:00", tick=False):
        auth.login_member(member)
        token = _hidden(client.get("/changes/withdrawal").text, "form_token")
        _twice(client, "/changes/withdrawal", {"form_token": token, "action": "save"})
    assert _requests(db_session, member, "withdrawal") == 1


def test_beneficiary(member_client, make_contract, db_session):
    contract = make_contract(member_client.member, "KOKUMIN_SOGO")
    url = f"/contracts/{contract.contract_no}/beneficiary"
    token = _hidden(member_client.get(url).text, "form_token")
    _twice(member_client, url, {"form_token": token, "name": "試験 花子", "name_kana": "シケン ハナコ",
                                "relation": "spouse", "action": "save", "consent": "y",
                                "consent_name": member_client.member.name})
    assert _requests(db_session, member_client.member, "beneficiary_change") == 1


def test_proxy_claimant(member_client, db_session):
    token = _hidden(member_client.get("/changes/proxy-claimant").text, "form_token")
    _twice(member_client, "/changes/proxy-claimant", {
        "form_token": token, "name": "試験 花子", "name_kana": "シケン ハナコ", "relation": "spouse",
        "birth_date": "1982-03-03", "phone": "09012345678", "action": "save"})
    assert _requests(db_session, member_client.member, "proxy_claimant") == 1


def test_name_change(member_client, db_session):
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, "PNG")
    token = _hidden(member_client.get("/changes/name").text, "form_token")
    fields = {"form_token": token, "new_name": "佐藤 太郎", "new_name_kana": "サトウ タロウ", "reason": "marriage"}
    confirm = member_client.post("/changes/name", data={**fields, "action": "confirm",
                                                        "document": (io.BytesIO(out.getvalue()), "id.png")},
                                 content_type="multipart/form-data")
    assert confirm.status_code == 200
    _twice(member_client, "/changes/name", {**fields, "action": "save"})
    assert _requests(db_session, member_client.member, "name_change") == 1


# --- claims -----------------------------------------------------------------------------
def test_paper_forms(member_client, db_session):
    page = member_client.get("/claims/paper-forms").text
    person = _hidden(page, "person_id") if 'type="hidden" name="person_id"' in page else \
        str(member_client.member.insured_persons[0].id)
    _twice(member_client, "/claims/paper-forms", {"form_token": _hidden(page, "form_token"), "person_id": person,
                                                  "what": re.search(r'name="what"[^>]*value="([^"]+)"', page).group(1),
                                                  "note": ""})
    assert _requests(db_session, member_client.member, "paper_forms") == 1


def test_damage_report(member_client, make_contract, db_session):
    from portal.claims.models import Claim
    contract = make_contract(member_client.member, "SUMAIRU", start=date(2016, 9, 1), units=300,
                             coverage_kwargs={"building_units": 200, "goods_units": 100},
                             property_address="東京都渋谷区代々木1-2-3", property_structure="wooden")
    token = _hidden(member_client.get("/claims/damage/new").text, "form_token")
    data = {"form_token": token, "contract_no": contract.contract_no, "cause": "storm", "day": "2026-09-05",
            "description": "台風で屋根瓦が飛び雨漏り"}
    first = member_client.post("/claims/damage/new", data={**data, "files": [(io.BytesIO(jpeg()), "roof.jpg")]},
                               content_type="multipart/form-data")
    second = member_client.post("/claims/damage/new", data={**data, "files": [(io.BytesIO(jpeg()), "roof.jpg")]},
                                content_type="multipart/form-data")
    assert first.status_code == second.status_code == 302, second.text[:3000]
    assert first.headers["Location"] == second.headers["Location"]
    db_session.expire_all()
    claim = db_session.scalars(select(Claim).where(Claim.member_id == member_client.member.id)).one()
    assert len(claim.files) == 1


# --- certificates, help, voices, enrollment --------------------------------------------------
def test_certificate_mailing_and_pdf(client, auth, make_member, make_contract, db_session):
    member = make_member()
    make_contract(member, "KOKUMIN_SOGO", payments=True)
    with time_machine.travel("2026-11-10 10:00:00+09:00", tick=False):
        auth.login_member(member)
        page = client.get("/certificates").text
        _twice(client, "/certificates/mail", {"mail-form_token": _hidden(page, "mail-form_token")})
        _twice(client, "/certificates/pdf", {"pdf-form_token": _hidden(page, "pdf-form_token")})
    assert _requests(db_session, member, "certificate_mail") == 1
    assert _requests(db_session, member, "certificate_pdf") == 1


def test_inquiry_and_reply(member_client, db_session):
    page = member_client.get("/help/inquiries/new").text
    from portal.help.forms import INQUIRY_TOPICS
    topic = next(iter(INQUIRY_TOPICS))
    location = _twice(member_client, "/help/inquiries/new", {
        "form_token": _hidden(page, "form_token"), "topic": topic, "subject": "掛金について",
        "body": "引き落とし日を教えてください"})
    assert _requests(db_session, member_client.member, "inquiry") == 1
    reply = member_client.get(location).text
    _twice(member_client, location, {"form_token": _hidden(reply, "form_token"), "body": "追加の質問です"})
    from portal.help.models import InquiryMessage
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(InquiryMessage)
                             .where(InquiryMessage.body == "追加の質問です")) == 1


def test_voice(member_client, db_session):
    from portal.voices.models import Voice
    token = _hidden(member_client.get("/voices/new").text, "submit_token")
    _twice(member_client, "/voices/new", {"kind": "opinion", "topic": "web", "body": "二度押し",
                                          "submit_token": token})
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Voice)) == 1


def test_enrollment(member_client, db_session):
    from tests.enrollment.test_enrollment import _option, _walk_to_confirm, _with_account
    member = _with_account(db_session, member_client.member)
    token = _walk_to_confirm(member_client, _option(db_session, member, "KOKUMIN_IRYO", None).key)
    _twice(member_client, "/enroll/confirm", {"idempotency_key": token})
    assert _requests(db_session, member, "enrollment") == 1


# --- profile --------------------------------------------------------------------------------
def test_notifications(member_client, db_session):
    page = member_client.get("/profile/notifications").text
    _twice(member_client, "/profile/notifications", {"form_token": _hidden(page, "form_token"), "marketing": "none",
                                                     "procedure": "sms", "certificate": "post"})
    assert _requests(db_session, member_client.member, "notification_settings") == 1


def test_phone_change(member_client, db_session):
    page = member_client.get("/profile/phone").text
    data = {"form_token": _hidden(page, "form_token"), "phone": "09077778888", "channel": "sms"}
    assert _twice(member_client, "/profile/phone", data) == "/profile/phone/verify"
    from portal.gateways.models import DevOutboxEntry
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(DevOutboxEntry)
                             .where(DevOutboxEntry.recipient == "+819077778888")) == 1  # one code on its way


# --- staff forms with a one-time token --------------------------------------------------------
def test_staff_answer_and_phone_damage_report(member_client, make_contract, staff_client, db_session):
    from portal.claims.models import Claim
    from portal.help.models import Inquiry, InquiryMessage
    from portal.help.forms import INQUIRY_TOPICS
    page = member_client.get("/help/inquiries/new").text
    member_client.post("/help/inquiries/new", data={"form_token": _hidden(page, "form_token"),
                                                    "topic": next(iter(INQUIRY_TOPICS)), "subject": "件名",
                                                    "body": "本文です"})
    inquiry = db_session.scalars(select(Inquiry).where(Inquiry.member_id == member_client.member.id)).one()
    cs = staff_client("cs")
    url = f"/staff/help/inquiries/{inquiry.id}"
    _twice(cs, url, {"form_token": _hidden(cs.get(url).text, "form_token"), "body": "回答です"})
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(InquiryMessage)
                             .where(InquiryMessage.body == "回答です")) == 1

    contract = make_contract(member_client.member, "SUMAIRU", start=date(2016, 9, 1), units=300,
                             coverage_kwargs={"building_units": 200, "goods_units": 100},
                             property_address="東京都渋谷区代々木1-2-3", property_structure="wooden")
    support = staff_client("support")
    token = _hidden(support.get("/staff/claims/phone-report").text, "form_token")
    _twice(support, "/staff/claims/phone-report", {
        "form_token": token, "member_no": member_client.member.member_no, "contract_no": contract.contract_no,
        "cause": "snow", "day": "2026-02-01", "description": "雪の重みでカーポートが破損"})
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Claim)
                             .where(Claim.member_id == member_client.member.id)) == 1
