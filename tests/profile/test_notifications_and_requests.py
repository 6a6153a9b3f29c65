"""Notice preferences and channel_for; the /requests page, its notices, IDOR."""
from __future__ import annotations

import json

from portal.messaging.preferences import channel_for
from portal.messaging.services import queue_notice
from tests.profile.helpers import audit_rows, hidden, outbox_for, requests_of


def _save(client, **choices):
    page = client.get("/profile/notifications")
    return client.post("/profile/notifications", data={"form_token": hidden(page.text, "form_token"), **choices})


def test_page_says_legal_notices_cannot_be_switched_off(member_client):
    page = member_client.get("/profile/notifications")
    assert page.status_code == 200
    assert "止められないお知らせ" in page.text and "受け取らないことはできません" in page.text
    assert 'name="marketing" type="radio" value="none"' in page.text or 'value="none"' in page.text


def test_defaults_sms_for_procedures_on_a_mobile(member_client, db_session):
    member = member_client.member
    assert channel_for(member, "procedure") == "sms"
    assert channel_for(member, "marketing") is None  # direct mail by post
    assert channel_for(member, "certificate") is None


def test_saving_preferences_changes_the_channel_and_is_a_request(member_client, db_session):
    member = member_client.member
    member.email = "taro@example.jp"
    db_session.flush()
    response = _save(member_client, marketing="none", procedure="mail", certificate="sms")
    assert response.status_code == 302
    db_session.expire_all()
    assert channel_for(member, "marketing") is None
    assert channel_for(member, "procedure") == "mail"
    assert channel_for(member, "certificate") == "sms"
    assert channel_for(member, "security") == "sms"  # not a member's choice: always sent
    [request] = requests_of(db_session, member, "notification_settings")
    assert request.status == "completed"
    [row] = audit_rows(db_session, "profile.notification_settings")
    assert json.loads(row.detail)["after"] == {"marketing": "none", "procedure": "mail", "certificate": "sms"}
    # messaging now follows the choice
    message = queue_notice(db_session, member, "件名", "本文")
    assert message.channel == "mail" and message.recipient == "taro@example.jp"


def test_post_means_no_electronic_notice(member_client, db_session):
    member = member_client.member
    assert _save(member_client, marketing="post", procedure="post", certificate="post").status_code == 302
    db_session.expire_all()
    assert channel_for(member, "procedure") is None
    assert queue_notice(db_session, member, "件名", "本文") is None


def test_mail_without_an_address_is_refused_next_to_the_field(member_client, db_session):
    response = _save(member_client, marketing="mail", procedure="sms", certificate="post")
    assert response.status_code == 200
    assert 'id="marketing-error"' in response.text and "メールアドレスが登録されていません" in response.text
    assert requests_of(db_session, member_client.member, "notification_settings") == []


def test_double_submit_saves_once(member_client, db_session):
    page = member_client.get("/profile/notifications")
    data = {"form_token": hidden(page.text, "form_token"), "marketing": "none", "procedure": "sms",
            "certificate": "post"}
    member_client.post("/profile/notifications", data=data)
    member_client.post("/profile/notifications", data=data)
    assert len(requests_of(db_session, member_client.member, "notification_settings")) == 1


def test_requests_page_lists_pending_changes_with_their_date(member_client, db_session):
    from portal.procedures import services as procedures
    from datetime import date, timedelta

    from portal.clock import today
    member = member_client.member
    later = today() + timedelta(days=40)
    pending = procedures.start(db_session, member, "bank_account_change", "新しい振替口座：みずほ銀行 ***2345",
                               effective_date=later)
    done = procedures.start(db_session, member, "phone_change", "新しい電話番号", status="completed",
                            effective_date=date(2020, 1, 6), notify=False)
    page = member_client.get("/requests")
    assert page.status_code == 200
    head, _, rest = page.text.partition("お手続き中・反映待ちの変更")
    pending_block = rest.split("</section>")[0]
    assert "振替口座変更" in pending_block and f"{later.year}年{later.month}月{later.day}日から反映" in pending_block
    assert "電話番号変更" not in pending_block
    assert pending.receipt_no in page.text and done.receipt_no in page.text
    # the acknowledgement notice of the procedure is in the outbox, same transaction
    assert [m.subject for m in outbox_for(db_session, member)] == ["【受付】振替口座変更"]
    # a status change sends a notice through the member's chosen channel
    procedures.change_status(db_session, pending, "reviewing")
    assert [m.subject for m in outbox_for(db_session, member)][-1] == "【状況】振替口座変更"
    assert outbox_for(db_session, member)[-1].channel == "sms"


def test_another_members_receipt_number_is_a_404(member_client, db_session, make_member):
    from portal.procedures import services as procedures
    other = make_member()
    theirs = procedures.start(db_session, other, "address_change", "他人の住所", status="completed", notify=False)
    mine = procedures.start(db_session, member_client.member, "address_change", "自分の住所", status="completed",
                            notify=False)
    assert member_client.get(f"/requests/{mine.receipt_no}").status_code == 200
    response = member_client.get(f"/requests/{theirs.receipt_no}")
    assert response.status_code == 404 and "他人の住所" not in response.text
    assert member_client.get("/requests/R0000-XXXXXXXX").status_code == 404


def test_profile_index_links_every_page(member_client):
    page = member_client.get("/profile")
    assert page.status_code == 200
    for path in ("/profile/address", "/profile/phone", "/profile/email", "/profile/bank-account",
                 "/profile/notifications"):
        assert f'href="{path}"' in page.text
