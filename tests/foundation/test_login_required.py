"""Sign-in is required by default: an automatic walk over the whole URL map."""
from __future__ import annotations

import pytest

from portal.endpoints import PUBLIC_ENDPOINTS
from tests.support.urls import sample_url


def _url_for_rule(rule) -> str:
    return sample_url(rule)


def test_every_endpoint_outside_the_allow_list_requires_sign_in(app, client):
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint == "static":
            continue
        url = _url_for_rule(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            expected = "/staff/login" if rule.endpoint.startswith(("staff.", "staff_")) else "/login"
            assert response.status_code == 302, (rule.endpoint, method, response.status_code)
            assert response.headers["Location"].startswith(expected), (rule.endpoint, response.headers["Location"])
            checked.append(rule.endpoint)
    assert {"mypage.home", "procedures.index"} <= set(checked)


def test_signed_in_member_reaches_mypage(member_client):
    response = member_client.get("/mypage")
    assert response.status_code == 200
    assert member_client.member.name in response.text


def test_logout_is_server_side(client, auth, make_member):
    member = make_member()
    auth.login_member(member)
    stolen = client.get_cookie("mypage_session").value
    assert client.get("/mypage").status_code == 200
    auth.logout()
    client.set_cookie("mypage_session", stolen)  # replay the captured cookie
    response = client.get("/mypage")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_wrong_password_gives_one_message(client, auth, make_member):
    member = make_member()
    wrong = auth.login(member.login_id, "not-the-password")
    unknown = auth.login("nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    assert "ログインIDまたはパスワードが正しくありません" in wrong.text
    assert "ログインIDまたはパスワードが正しくありません" in unknown.text


def test_full_width_member_number_signs_in(client, auth, make_member):
    member = make_member()
    full_width = member.member_no.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert auth.login(full_width, member.password_plain).status_code == 302


def test_staff_client_fixture_signs_in_staff(staff_client):
    client = staff_client("cs")
    with client.session_transaction() as s:
        assert s["_user_id"].startswith("staff:")
