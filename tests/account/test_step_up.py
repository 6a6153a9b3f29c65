"""Step-up before a sensitive change (phone, bank account, passkey removal): every one
offers a passkey, a fresh SMS or voice code, and the password, and any one of them
opens the change for five minutes."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.account.models import Passkey
from portal.auth.models import AuthSession
from portal.clock import utcnow
from tests.account.conftest import code_sent_to, register_passkey


def _stale(db_session) -> None:
    db_session.execute(update(AuthSession).values(reauthenticated_at=utcnow() - timedelta(minutes=6)))


@pytest.mark.parametrize("target,page", [("phone", "/profile/phone"), ("bank", "/profile/bank-account"),
                                         ("passkeys", "/account/security")])
def test_every_step_up_offers_a_passkey_a_code_and_the_password(member_client, authenticator, target, page):
    register_passkey(member_client, authenticator)
    html = member_client.get(f"/profile/reauth?for={target}").text
    assert 'id="reauth-passkey"' in html and f'data-next="{page}"' in html
    assert 'name="password"' in html
    assert 'action="/account/reauth/code/send"' in html and f'name="next" value="{page}"' in html
    assert 'name="channel" value="sms"' in html and 'name="channel" value="voice"' in html


def _by_password(client, authenticator, db_session):
    return client.post("/profile/reauth?for=passkeys", data={"password": client.member.password_plain})


def _by_code(client, authenticator, db_session):
    client.post("/account/reauth/code/send", data={"channel": "sms", "next": "/account/security"})
    return client.post("/account/reauth/code", data={"code": code_sent_to(db_session, client.member.phone)})


def _by_passkey(client, authenticator, db_session):
    options = client.post("/account/reauth/passkey/options").get_json()
    return client.post("/account/reauth/passkey", json={"credential": authenticator.get(options),
                                                        "next": "/account/security"})


@pytest.mark.parametrize("step_up", [_by_password, _by_code, _by_passkey])
def test_a_passkey_is_removed_only_after_a_fresh_step_up_of_any_kind(member_client, authenticator, db_session,
                                                                     step_up):
    register_passkey(member_client, authenticator)
    register_passkey(member_client, type(authenticator)(rp_id="localhost", origin="http://localhost:5000"),
                     name="予備")
    key_id = db_session.scalars(select(Passkey.id).where(Passkey.member_id == member_client.member.id)
                                .order_by(Passkey.id)).first()
    _stale(db_session)
    gate = member_client.post(f"/account/passkeys/{key_id}/delete")
    assert gate.headers["Location"] == "/profile/reauth?for=passkeys"
    db_session.expire_all()
    assert db_session.get(Passkey, key_id) is not None
    done = step_up(member_client, authenticator, db_session)
    assert done.status_code in (200, 302)
    member_client.post(f"/account/passkeys/{key_id}/delete")
    db_session.expire_all()
    assert db_session.get(Passkey, key_id) is None


def test_sending_the_code_twice_waits_for_the_one_on_its_way(member_client, db_session):
    from sqlalchemy import func

    from portal.gateways.models import DevOutboxEntry
    data = {"channel": "sms", "next": "/profile/bank-account"}
    first = member_client.post("/account/reauth/code/send", data=data)
    second = member_client.post("/account/reauth/code/send", data=data)  # a double click
    assert first.headers["Location"] == second.headers["Location"] == "/account/reauth/code"
    db_session.expire_all()
    recipient = "+81" + member_client.member.phone[1:]
    assert db_session.scalar(select(func.count()).select_from(DevOutboxEntry)
                             .where(DevOutboxEntry.recipient == recipient)) == 1
    code = code_sent_to(db_session, member_client.member.phone)
    assert member_client.post("/account/reauth/code", data={"code": code}).headers["Location"] == \
        "/profile/bank-account"


def test_a_code_that_does_not_arrive_can_come_by_the_other_channel(member_client, db_session):
    import time_machine

    with time_machine.travel(utcnow(), tick=False) as clock:
        member_client.post("/account/reauth/code/send", data={"channel": "sms", "next": "/profile/phone"})
        page = member_client.get("/account/reauth/code").text
        assert "音声通話で送り直す" in page and 'name="next" value="/profile/phone"' in page
        clock.shift(61)
        again = member_client.post("/account/reauth/code/send", data={"channel": "voice", "next": "/profile/phone"})
        assert again.headers["Location"] == "/account/reauth/code"
        assert "自動音声の電話" in member_client.get("/account/reauth/code").text
        code = code_sent_to(db_session, member_client.member.phone)
        done = member_client.post("/account/reauth/code", data={"code": code})
    assert done.headers["Location"] == "/profile/phone"
