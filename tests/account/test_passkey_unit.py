"""The passkey rules without HTTP: portal.account.passkeys and py_webauthn itself,
fed with assertions a software authenticator really signed (generated data)."""
from __future__ import annotations

import pytest
from webauthn import verify_authentication_response
from webauthn.helpers.exceptions import InvalidAuthenticationResponse

from portal.account import passkeys
from tests.account.authenticator import SoftAuthenticator, challenge_of

RP = passkeys.RelyingParty(id="localhost", name="テスト", origin="http://localhost:5000", secret="s" * 32)


@pytest.fixture
def registered(app, db_session, make_member):
    """A member's passkey, registered inside a request (the audit row needs one)."""
    context = app.test_request_context()
    context.push()
    member = make_member()
    key = SoftAuthenticator()
    ceremony = passkeys.registration_options(db_session, RP, member, user_name="m", display_name="m")
    row = passkeys.finish_registration(db_session, RP, member, credential_json=key.create(ceremony.options_json),
                                       challenge=ceremony.challenge, name="unit")
    yield member, key, row
    context.pop()


def _assert(db_session, key, **get_kw):
    ceremony = passkeys.authentication_options(db_session, RP, "login")
    return ceremony, key.get(ceremony.options_json, **get_kw)


def test_a_replayed_assertion_is_refused(db_session, registered):
    _member, key, row = registered
    ceremony, assertion = _assert(db_session, key)
    assert passkeys.finish_authentication(db_session, RP, credential_json=assertion, challenge=ceremony.challenge,
                                          purpose="login").id == row.id
    with pytest.raises(passkeys.PasskeyError):  # the same bytes, the same (spent) challenge
        passkeys.finish_authentication(db_session, RP, credential_json=assertion, challenge=ceremony.challenge,
                                       purpose="login")
    # The library alone refuses the replay too: its counter is no longer ahead of the stored one.
    db_session.refresh(row)
    with pytest.raises(InvalidAuthenticationResponse):
        verify_authentication_response(credential=assertion, expected_challenge=challenge_of(ceremony.options_json),
                                       expected_rp_id=RP.id, expected_origin=RP.origin,
                                       credential_public_key=row.public_key,
                                       credential_current_sign_count=row.sign_count, require_user_verification=True)


def test_an_assertion_for_another_origin_is_refused(db_session, registered):
    _member, key, row = registered
    ceremony, assertion = _assert(db_session, key, origin="https://mypage-kyosai.example.com")
    with pytest.raises(InvalidAuthenticationResponse):
        verify_authentication_response(credential=assertion, expected_challenge=challenge_of(ceremony.options_json),
                                       expected_rp_id=RP.id, expected_origin=RP.origin,
                                       credential_public_key=row.public_key,
                                       credential_current_sign_count=row.sign_count, require_user_verification=True)
    with pytest.raises(passkeys.PasskeyError):
        passkeys.finish_authentication(db_session, RP, credential_json=assertion, challenge=ceremony.challenge,
                                       purpose="login")
    db_session.refresh(row)
    assert row.sign_count == 0 and row.last_used_at is None


def test_the_same_credential_is_registered_once(db_session, registered, make_member):
    member, key, _row = registered
    for owner in (member, make_member()):
        ceremony = passkeys.registration_options(db_session, RP, owner, user_name="m", display_name="m")
        with pytest.raises(passkeys.PasskeyError, match="すでに登録"):
            passkeys.finish_registration(db_session, RP, owner, credential_json=key.create(ceremony.options_json),
                                         challenge=ceremony.challenge, name="again")
