"""Passkeys: registration, sign-in, step-up and removal through the real endpoints,
verified by py_webauthn against data a software authenticator really signed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.account.models import Passkey, WebAuthnChallenge
from portal.auth.models import SignInEvent
from portal.clock import utcnow
from portal.audit.models import AuditLog
from tests.account.authenticator import SoftAuthenticator
from tests.account.conftest import register_passkey, sign_in_with_passkey


def _keys(db_session, member):
    db_session.expire_all()
    return list(db_session.scalars(select(Passkey).where(Passkey.member_id == member.id)))


def test_register_then_sign_in_with_no_password_and_no_code(member_client, authenticator, db_session, app):
    member = member_client.member
    response = register_passkey(member_client, authenticator, name="ｉＰｈｏｎｅ　１５")
    assert response.status_code == 200, response.text
    assert response.get_json() == {"redirect": "/account/security"}
    [key] = _keys(db_session, member)
    assert key.name == "iPhone 15"  # NFKC
    assert key.transports == "internal"
    page = member_client.get("/account/security").text
    assert "iPhone 15" in page and "まだ使われていません" in page

    member_client.post("/logout")
    assert member_client.get("/mypage").status_code == 302
    # Code sign-in is asked on a new device in production: passkeys skip it too.
    app.config["TRUST_NEW_DEVICES"] = False
    try:
        signed = sign_in_with_passkey(member_client, authenticator)
    finally:
        app.config["TRUST_NEW_DEVICES"] = True
    assert signed.status_code == 200, signed.text
    assert signed.get_json() == {"redirect": "/mypage"}
    assert "mypage_device" in signed.headers.get("Set-Cookie", "")
    assert member_client.get("/mypage").status_code == 200
    devices = member_client.get("/account/security").text.split('id="devices"')[1].split('id="history"')[0]
    assert "この端末</span>" in devices  # the passkey remembered this browser
    [key] = _keys(db_session, member)
    assert key.sign_count == 1 and key.last_used_at is not None
    event = db_session.scalars(select(SignInEvent).where(SignInEvent.member_id == member.id)
                               .order_by(SignInEvent.id.desc())).first()
    assert event.method == "passkey" and event.is_success
    assert db_session.scalar(select(AuditLog).where(AuditLog.action == "member.login_passkey")) is not None


def test_a_passkey_sign_in_goes_back_to_the_page_asked_for(member_client, authenticator):
    register_passkey(member_client, authenticator)
    member_client.post("/logout")
    member_client.get("/contracts")  # remembers where to go
    assert sign_in_with_passkey(member_client, authenticator).get_json() == {"redirect": "/contracts"}


def test_a_replayed_assertion_is_refused(member_client, authenticator):
    register_passkey(member_client, authenticator)
    member_client.post("/logout")
    options = member_client.post("/login/passkey/options").get_json()
    assertion = authenticator.get(options)
    assert member_client.post("/login/passkey", json={"credential": assertion}).status_code == 200
    member_client.post("/logout")
    # The very same bytes again: the challenge was used.
    replay = member_client.post("/login/passkey", json={"credential": assertion})
    assert replay.status_code == 400 and "有効期限" in replay.get_json()["error"]
    # Even with the used challenge put back into this browser's session.
    with member_client.session_transaction() as s:
        s["webauthn"] = {"login": options["challenge"]}
    assert member_client.post("/login/passkey", json={"credential": assertion}).status_code == 400
    assert member_client.get("/mypage").status_code == 302


def test_a_counter_that_did_not_grow_is_refused(member_client, authenticator, db_session):
    register_passkey(member_client, authenticator)
    member_client.post("/logout")
    assert sign_in_with_passkey(member_client, authenticator).status_code == 200
    member_client.post("/logout")
    # A cloned authenticator signs a fresh challenge with the same counter.
    cloned = sign_in_with_passkey(member_client, authenticator, bump=False)
    assert cloned.status_code == 400
    assert member_client.get("/mypage").status_code == 302
    events = db_session.scalars(select(SignInEvent).where(SignInEvent.member_id == member_client.member.id)
                                .order_by(SignInEvent.id)).all()
    assert (events[-1].method, events[-1].is_success) == ("passkey", False)


def test_an_assertion_for_another_origin_is_refused(member_client, authenticator):
    register_passkey(member_client, authenticator)
    member_client.post("/logout")
    phished = sign_in_with_passkey(member_client, authenticator, origin="https://mypage-kyosai.example.com")
    assert phished.status_code == 400
    assert member_client.get("/mypage").status_code == 302


def test_another_relying_party_id_is_refused(member_client, authenticator, db_session):
    register_passkey(member_client, authenticator)
    member_client.post("/logout")
    authenticator.rp_id = "evil.example"
    assert sign_in_with_passkey(member_client, authenticator).status_code == 400


def test_user_verification_is_required(member_client, db_session):
    unverified = SoftAuthenticator(user_verified=False)
    response = register_passkey(member_client, unverified)
    assert response.status_code == 400
    assert _keys(db_session, member_client.member) == []
    verified = SoftAuthenticator(credential_id=unverified.credential_id, key=unverified.key)
    assert register_passkey(member_client, verified).status_code == 200
    member_client.post("/logout")
    verified.user_verified = False
    assert sign_in_with_passkey(member_client, verified).status_code == 400


def test_registration_from_another_origin_is_refused(member_client, db_session):
    options = member_client.post("/account/passkeys/options").get_json()
    credential = SoftAuthenticator().create(options, origin="http://localhost:6000")
    assert member_client.post("/account/passkeys", json={"credential": credential}).status_code == 400
    assert _keys(db_session, member_client.member) == []


def test_the_same_credential_cannot_be_registered_twice(member_client, authenticator, db_session, make_member,
                                                        app):
    assert register_passkey(member_client, authenticator).status_code == 200
    options = member_client.post("/account/passkeys/options").get_json()
    assert options["excludeCredentials"][0]["id"] == _keys(db_session, member_client.member)[0].credential_id
    again = member_client.post("/account/passkeys", json={"credential": authenticator.create(options)})
    assert again.status_code == 400 and "すでに登録" in again.get_json()["error"]
    # Nor by another member.
    other = make_member()
    other_client = app.test_client()
    other_client.post("/login", data={"login_id": other.login_id, "password": other.password_plain})
    assert register_passkey(other_client, authenticator).status_code == 400
    assert len(list(db_session.scalars(select(Passkey)))) == 1


def test_options_ask_for_a_discoverable_credential_and_user_verification(member_client):
    options = member_client.post("/account/passkeys/options").get_json()
    assert options["rp"] == {"id": "localhost", "name": "みらい共済生協 マイページ"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["timeout"] == 300000
    assert member_client.member.member_no not in options["user"]["id"]
    login = member_client.post("/login/passkey/options").get_json()
    assert login["userVerification"] == "required" and login.get("allowCredentials", []) == []


def test_a_challenge_is_short_lived(member_client, authenticator, db_session):
    register_passkey(member_client, authenticator)
    member_client.post("/logout")
    options = member_client.post("/login/passkey/options").get_json()
    db_session.execute(update(WebAuthnChallenge).where(WebAuthnChallenge.challenge == options["challenge"])
                       .values(created_at=utcnow() - timedelta(minutes=6),
                               expires_at=utcnow() - timedelta(minutes=1)))
    response = member_client.post("/login/passkey", json={"credential": authenticator.get(options)})
    assert response.status_code == 400


def test_a_challenge_belongs_to_the_browser_that_asked(member_client, authenticator, app):
    register_passkey(member_client, authenticator)
    options = app.test_client().post("/login/passkey/options").get_json()
    thief = app.test_client()
    assert thief.post("/login/passkey", json={"credential": authenticator.get(options)}).status_code == 400
    assert thief.get("/mypage").status_code == 302


@pytest.mark.parametrize("body", [None, "not json", {"credential": "x"}, {"credential": {"id": 5}},
                                  {"credential": {"id": "A" * 5000}},
                                  {"credential": {"id": "abc", "response": {"clientDataJSON": "\x00\x01"}}}])
def test_odd_input_is_a_clear_refusal_not_a_500(client, body):
    client.post("/login/passkey/options")
    if isinstance(body, str):
        response = client.post("/login/passkey", data=body, content_type="application/json")
    else:
        response = client.post("/login/passkey", json=body)
    assert response.status_code == 400
    assert "パスキー" in response.get_json()["error"] or "有効期限" in response.get_json()["error"]


def test_removal_needs_a_fresh_step_up_and_the_key_stops_working(member_client, authenticator, db_session):
    register_passkey(member_client, authenticator)
    [key] = _keys(db_session, member_client.member)
    # Signed in more than five minutes ago: step-up first.
    from portal.auth.models import AuthSession
    db_session.execute(update(AuthSession).values(reauthenticated_at=utcnow() - timedelta(minutes=6)))
    gate = member_client.post(f"/account/passkeys/{key.id}/delete")
    assert gate.status_code == 302 and gate.headers["Location"] == "/profile/reauth?for=passkeys"
    assert len(_keys(db_session, member_client.member)) == 1
    step_up = member_client.post("/profile/reauth?for=passkeys",
                                 data={"password": member_client.member.password_plain})
    assert step_up.headers["Location"] == "/account/security"
    assert member_client.post(f"/account/passkeys/{key.id}/delete").status_code == 302
    assert _keys(db_session, member_client.member) == []
    member_client.post("/logout")
    assert sign_in_with_passkey(member_client, authenticator).status_code == 400
    assert member_client.get("/mypage").status_code == 302


def test_a_member_cannot_remove_another_members_passkey(member_client, authenticator, make_member, app,
                                                        db_session):
    register_passkey(member_client, authenticator)
    [key] = _keys(db_session, member_client.member)
    other = make_member()
    other_client = app.test_client()
    other_client.post("/login", data={"login_id": other.login_id, "password": other.password_plain})
    other_client.post(f"/account/passkeys/{key.id}/delete")
    assert len(_keys(db_session, member_client.member)) == 1


def test_step_up_with_a_passkey_opens_the_phone_change(member_client, authenticator, db_session, make_member,
                                                       app):
    from portal.auth.models import AuthSession
    register_passkey(member_client, authenticator)
    db_session.execute(update(AuthSession).values(reauthenticated_at=None))
    assert member_client.get("/profile/phone").status_code == 302
    page = member_client.get("/profile/reauth?for=phone").text
    assert 'id="reauth-passkey"' in page and 'data-next="/profile/phone"' in page
    options = member_client.post("/account/reauth/passkey/options").get_json()
    assert options["allowCredentials"][0]["id"] == _keys(db_session, member_client.member)[0].credential_id
    done = member_client.post("/account/reauth/passkey",
                              json={"credential": authenticator.get(options), "next": "/profile/phone"})
    assert done.get_json() == {"redirect": "/profile/phone"}
    assert member_client.get("/profile/phone").status_code == 200
    # Another member's passkey proves nothing about this member.
    db_session.execute(update(AuthSession).values(reauthenticated_at=None))
    other = make_member()
    other_client = app.test_client()
    other_client.post("/login", data={"login_id": other.login_id, "password": other.password_plain})
    other_key = SoftAuthenticator()
    register_passkey(other_client, other_key)
    options = member_client.post("/account/reauth/passkey/options").get_json()
    refused = member_client.post("/account/reauth/passkey",
                                 json={"credential": other_key.get(options), "next": "//evil.example"})
    assert refused.status_code == 400
    assert member_client.get("/profile/phone").status_code == 302


def test_step_up_offers_no_passkey_button_without_a_passkey(member_client):
    page = member_client.get("/profile/reauth?for=bank").text
    assert 'id="reauth-passkey"' not in page and "認証コードを送る" in page
    assert member_client.post("/account/reauth/passkey/options").status_code == 400


def test_a_user_handle_must_be_the_credential_owners(member_client, authenticator, app):
    from portal.account.passkeys import relying_party, user_handle
    register_passkey(member_client, authenticator)
    member_client.post("/logout")
    rp = relying_party(app.config)
    wrong = sign_in_with_passkey(member_client, authenticator, user_handle=user_handle(rp, "member:999999"))
    assert wrong.status_code == 400
    right = sign_in_with_passkey(member_client, authenticator,
                                 user_handle=user_handle(rp, member_client.member.get_id()))
    assert right.status_code == 200


def test_day_old_challenges_are_cleared_as_new_ones_come(client, db_session):
    client.post("/login/passkey/options")
    db_session.execute(update(WebAuthnChallenge).values(expires_at=utcnow() - timedelta(days=2)))
    client.post("/login/passkey/options")
    db_session.expire_all()
    assert len(db_session.scalars(select(WebAuthnChallenge)).all()) == 1
