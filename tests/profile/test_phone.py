"""Phone change: step-up, a code to the NEW number, a notice to the old one, other sessions end."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.auth.models import AuthSession
from portal.clock import utcnow
from portal.gateways.models import DevOutboxEntry
from portal.messaging.models import OutboxMessage
from tests.profile.conftest import sign_in_member_directly
from tests.profile.helpers import audit_rows, hidden, reauthenticate, requests_of


def _code_sent_to(db_session, e164: str) -> str:
    db_session.expire_all()
    entry = db_session.scalars(select(DevOutboxEntry).where(DevOutboxEntry.recipient == e164)
                               .order_by(DevOutboxEntry.id.desc())).first()
    assert entry is not None, f"no code sent to {e164}"
    return re.search(r"[0-9]{6}", entry.body).group(0)


def test_step_up_is_required_first(member_client):
    response = member_client.get("/profile/phone")
    assert response.status_code == 302 and response.headers["Location"] == "/profile/reauth?for=phone"
    wrong = member_client.post("/profile/reauth?for=phone", data={"password": "not-it"})
    assert wrong.status_code == 200 and "パスワードが正しくありません" in wrong.text
    reauthenticate(member_client, member_client.member)
    assert member_client.get("/profile/phone").status_code == 200


def test_step_up_expires_after_five_minutes(member_client, db_session):
    reauthenticate(member_client, member_client.member)
    row = member_client.auth_session
    db_session.expire_all()
    row.reauthenticated_at = utcnow() - timedelta(minutes=5, seconds=5)
    db_session.flush()
    assert member_client.get("/profile/phone").headers["Location"] == "/profile/reauth?for=phone"


def test_phone_change_with_code_to_the_new_number(member_client, db_session):
    member = member_client.member
    old_phone = member.phone
    other = sign_in_member_directly(member_client.application.test_client(), db_session, member)  # another device
    reauthenticate(member_client, member)
    page = member_client.get("/profile/phone")
    sent = member_client.post("/profile/phone", data={"form_token": hidden(page.text, "form_token"),
                                                      "phone": "０８０－９９９９－０００１", "channel": "sms"})
    assert sent.status_code == 302 and sent.headers["Location"] == "/profile/phone/verify"
    code = _code_sent_to(db_session, "+818099990001")
    verify_page = member_client.get("/profile/phone/verify")
    assert "080-****-0001" in verify_page.text
    db_session.expire_all()
    assert member.phone == old_phone  # not replaced before the code is entered

    wrong = member_client.post("/profile/phone/verify", data={"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 200 and 'id="code-error"' in wrong.text
    done = member_client.post("/profile/phone/verify", data={"code": code})
    assert done.status_code == 302 and done.headers["Location"].startswith("/requests/")

    db_session.expire_all()
    assert member.phone == "08099990001"
    [request] = requests_of(db_session, member, "phone_change")
    assert request.status == "completed" and request.summary.endswith("080-****-0001")
    notice = db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id)).one()
    assert notice.recipient == "+81" + old_phone[1:] and notice.subject == "【重要】電話番号の変更"
    assert "08099990001" not in notice.body  # the new number is masked in the notice
    # Every other session of the member has ended; this one goes on with a new id.
    db_session.refresh(other)
    assert other.ended_at is not None and other.ended_reason == "phone_changed"
    current = db_session.get(AuthSession, member_client.auth_session.id)
    assert current.ended_at is None
    assert member_client.get("/profile").status_code == 200
    [row] = audit_rows(db_session, "profile.phone_change")
    assert old_phone not in row.detail and "08099990001" not in row.detail and "0001" in row.detail


def test_sms_to_a_fixed_line_is_refused_next_to_the_field(member_client):
    reauthenticate(member_client, member_client.member)
    page = member_client.get("/profile/phone")
    response = member_client.post("/profile/phone", data={"form_token": hidden(page.text, "form_token"),
                                                          "phone": "03-1234-5678", "channel": "sms"})
    assert response.status_code == 200
    assert 'id="phone-error"' in response.text and "音声通話" in response.text
    assert 'value="03-1234-5678"' in response.text


def test_same_number_is_refused(member_client):
    reauthenticate(member_client, member_client.member)
    page = member_client.get("/profile/phone")
    response = member_client.post("/profile/phone", data={"form_token": hidden(page.text, "form_token"),
                                                          "phone": member_client.member.phone, "channel": "sms"})
    assert "現在ご登録の電話番号と同じです" in response.text
