"""Staff may use a passkey as the second factor instead of the TOTP code."""
from __future__ import annotations

from sqlalchemy import select

from portal.account.models import Passkey
from portal.audit.models import AuditLog
from tests.account.authenticator import SoftAuthenticator


def _register(client, authenticator, name="業務用PC"):
    options = client.post("/staff/passkeys/options")
    assert options.status_code == 200, options.text
    return client.post("/staff/passkeys", json={"credential": authenticator.create(options.get_json()),
                                                "name": name})


def _password_step(app, staff):
    client = app.test_client()
    response = client.post("/staff/login", data={"email": staff.email, "password": staff.password_plain})
    assert response.headers["Location"] == "/staff/login/totp"
    return client


def test_a_staff_passkey_replaces_the_totp_code(app, staff_client, authenticator, db_session):
    office = staff_client("office")
    assert _register(office, authenticator).get_json() == {"redirect": "/staff/passkeys"}
    assert "業務用PC" in office.get("/staff/passkeys").text
    client = _password_step(app, office.staff)
    assert 'id="staff-passkey"' in client.get("/staff/login/totp").text
    options = client.post("/staff/login/passkey/options").get_json()
    assert [c["id"] for c in options["allowCredentials"]] == [
        db_session.scalar(select(Passkey.credential_id).where(Passkey.staff_id == office.staff.id))]
    done = client.post("/staff/login/passkey", json={"credential": authenticator.get(options)})
    assert done.get_json() == {"redirect": "/staff"}
    assert client.get("/staff").status_code == 200
    row = db_session.scalars(select(AuditLog).where(AuditLog.action == "staff.login")).all()[-1]
    assert '"second_factor": "passkey"' in row.detail


def test_no_passkey_sign_in_without_the_password_step(app, staff_client, authenticator):
    office = staff_client("office")
    _register(office, authenticator)
    stranger = app.test_client()
    assert stranger.post("/staff/login/passkey/options").status_code == 400
    assert stranger.post("/staff/login/passkey", json={"credential": {}}).status_code == 400
    assert stranger.get("/staff").status_code == 302


def test_another_staff_users_passkey_is_refused(app, staff_client, authenticator):
    office = staff_client("office")
    claims = staff_client("claims")
    _register(claims, authenticator)
    _register(office, SoftAuthenticator())
    client = _password_step(app, office.staff)
    options = client.post("/staff/login/passkey/options").get_json()
    assert client.post("/staff/login/passkey", json={"credential": authenticator.get(options)}).status_code == 400
    assert client.get("/staff").status_code == 302


def test_a_member_passkey_is_not_a_staff_factor(app, staff_client, member_client, authenticator):
    from tests.account.conftest import register_passkey
    register_passkey(member_client, authenticator)
    office = staff_client("office")
    _register(office, SoftAuthenticator())
    client = _password_step(app, office.staff)
    options = client.post("/staff/login/passkey/options").get_json()
    assert client.post("/staff/login/passkey", json={"credential": authenticator.get(options)}).status_code == 400


def test_removing_a_staff_passkey_needs_the_password(staff_client, authenticator, db_session):
    office = staff_client("office")
    _register(office, authenticator)
    key_id = db_session.scalar(select(Passkey.id).where(Passkey.staff_id == office.staff.id))
    wrong = office.post(f"/staff/passkeys/{key_id}/delete", data={f"key{key_id}-password": "nope"})
    assert wrong.status_code == 400 and "パスワードが正しくありません" in wrong.text
    assert office.post(f"/staff/passkeys/{key_id}/delete",
                       data={f"key{key_id}-password": office.staff.password_plain}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Passkey, key_id) is None
