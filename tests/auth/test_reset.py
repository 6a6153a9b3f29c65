"""Password reset by a code to the phone on file; it ends every other session."""
from __future__ import annotations

from portal.auth.passwords import verify_password
from portal.members.models import Member
from tests.auth.conftest import identity

NEW_PASSWORD = "Sora-no-iro-2027"


def test_reset_ends_every_other_session(app, client, auth, make_member, outbox, db_session, leak_guard):
    member = make_member(phone="09087650101")
    leak_guard.add(member.password_plain, NEW_PASSWORD, member.phone)
    phone_one, phone_two = app.test_client(), app.test_client()
    for other in (phone_one, phone_two):
        assert other.post("/login", data={"login_id": member.login_id,
                                          "password": member.password_plain}).status_code == 302
        assert other.get("/mypage").status_code == 200
    assert client.post("/password/reset", data=identity(member)).headers["Location"] == "/password/reset/code"
    code = outbox.code(member.phone)
    assert client.post("/password/reset/code", data={"code": code}).headers["Location"] == "/password/reset/new"
    response = client.post("/password/reset/new", data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/mypage"
    assert "パスワードを再設定しました" in client.get("/mypage").text
    for other in (phone_one, phone_two):
        assert other.get("/mypage").headers["Location"].startswith("/login")
    db_session.expire_all()
    stored = db_session.get(Member, member.id)
    assert verify_password(stored.password_hash, NEW_PASSWORD)
    assert not verify_password(stored.password_hash, member.password_plain)
    assert auth.login(member.login_id, member.password_plain).status_code == 200  # old password refused


def test_reset_for_an_unregistered_member_is_neutral(client, newcomer, outbox, db_session):
    member = newcomer()
    response = client.post("/password/reset", data=identity(member))
    assert response.headers["Location"] == "/password/reset/code"
    assert "認証コードを送信しました" in client.get("/password/reset/code").text
    assert outbox.entries(member.phone) == []


def test_reset_new_password_follows_the_rules(client, make_member, outbox, leak_guard):
    member = make_member(phone="09087650102")
    leak_guard.add(member.phone)
    client.post("/password/reset", data=identity(member))
    client.post("/password/reset/code", data={"code": outbox.code(member.phone)})
    weak = "password123"
    response = client.post("/password/reset/new", data={"password": weak + "4", "password_confirm": weak + "4"})
    assert "よく使われている" in response.text
