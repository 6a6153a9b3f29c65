"""Email change: a signed link to the new address, 24 hours, single use."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import time_machine
from sqlalchemy import select

from portal.clock import TOKYO
from portal.gateways.models import DevOutboxEntry
from portal.messaging.models import OutboxMessage
from tests.profile.conftest import sign_in_member_directly
from tests.profile.helpers import audit_rows, requests_of


def _link_sent_to(db_session, address: str) -> str:
    db_session.expire_all()
    entry = db_session.scalars(select(DevOutboxEntry).where(DevOutboxEntry.recipient == address)).one()
    assert entry.channel == "mail" and entry.subject == "【マイページ】メールアドレス変更の確認"
    return re.search(r"http://localhost(/profile/email/confirm/\S+)", entry.body).group(1)


def test_link_confirms_once(app, member_client, db_session):
    member = member_client.member
    member.email = "old@example.jp"
    db_session.flush()
    sent = member_client.post("/profile/email", data={"email": "ＮＥＷ@example.jp"})
    assert sent.status_code == 200 and "確認メールを送りました" in sent.text
    link = _link_sent_to(db_session, "NEW@example.jp")
    db_session.expire_all()
    assert member.email == "old@example.jp"  # nothing changes until the link is used

    anonymous = app.test_client()  # the link may be opened on another device, signed out
    page = anonymous.get(link)
    assert page.status_code == 200 and "変更を確定する" in page.text
    assert member.email == "old@example.jp"  # GET changes nothing
    done = anonymous.post(link)
    assert done.status_code == 200 and "に変更しました" in done.text
    db_session.expire_all()
    assert member.email == "NEW@example.jp"
    [request] = requests_of(db_session, member, "email_change")
    assert request.status == "completed"
    notice = db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id)).one()
    assert notice.recipient == "old@example.jp" and notice.channel == "mail"
    [row] = audit_rows(db_session, "profile.email_change")
    assert "NEW@example.jp" not in row.detail  # masked

    again = anonymous.post(link)
    assert again.status_code == 410 and "すでに使われたか" in again.text
    assert len(requests_of(db_session, member, "email_change")) == 1


def test_link_expires_after_24_hours(app, member_client, db_session):
    member = member_client.member
    start = datetime(2026, 12, 1, 9, 0, tzinfo=TOKYO)
    with time_machine.travel(start, tick=False):
        sign_in_member_directly(member_client, db_session, member)
        assert member_client.post("/profile/email", data={"email": "later@example.jp"}).status_code == 200
    link = _link_sent_to(db_session, "later@example.jp")
    with time_machine.travel(start + timedelta(hours=23, minutes=59), tick=False):
        assert app.test_client().get(link).status_code == 200
    with time_machine.travel(start + timedelta(hours=24, seconds=2), tick=False):
        expired = app.test_client().post(link)
    assert expired.status_code == 410 and "有効期限（24時間）が切れています" in expired.text
    db_session.expire_all()
    assert member.email is None


def test_tampered_link_is_refused(app, member_client, db_session):
    member_client.post("/profile/email", data={"email": "x@example.jp"})
    link = _link_sent_to(db_session, "x@example.jp")
    response = app.test_client().get(link[:-3] + "abc")
    assert response.status_code == 410 and "確認リンクが正しくありません" in response.text


def test_bad_address_is_refused_next_to_the_field(member_client, db_session):
    response = member_client.post("/profile/email", data={"email": "not-an-address"})
    assert response.status_code == 200
    assert 'id="email-error"' in response.text and 'value="not-an-address"' in response.text
    assert db_session.scalars(select(DevOutboxEntry)).first() is None
