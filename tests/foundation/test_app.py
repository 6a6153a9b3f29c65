"""The app factory, configuration, error pages, headers, cookies, health."""
from __future__ import annotations

import pytest

from portal import create_app
from portal.config import ConfigError


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        create_app({"PORTAL_ENV": "production", "DATABASE_URL": "sqlite://"})


def test_production_refuses_outbox_sms(monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", "sqlite://")
    with pytest.raises(ConfigError, match="outbox"):
        create_app({"PORTAL_ENV": "production", "SECRET_KEY": "x" * 32})


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="PORTAL_ENV"):
        create_app({"PORTAL_ENV": "staging"})


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    from portal.config import load_config
    first = load_config(tmp_path, {"PORTAL_ENV": "development"})["SECRET_KEY"]
    second = load_config(tmp_path, {"PORTAL_ENV": "development"})["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_variables_are_read(monkeypatch, tmp_path):
    from portal.config import load_config
    monkeypatch.setenv("PORTAL_SMS_BACKEND", "aws")
    monkeypatch.setenv("PORTAL_AWS_REGION", "us-east-1")
    config = load_config(tmp_path, {"PORTAL_ENV": "test"})
    assert config["SMS_BACKEND"] == "aws" and config["AWS_REGION"] == "us-east-1"


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database():
    app = create_app({"PORTAL_ENV": "test", "SECRET_KEY": "k",
                      "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


@pytest.mark.parametrize("path,status,text", [
    ("/no-such-page", 404, "ページが見つかりません"),
])
def test_error_pages_are_japanese(client, path, status, text):
    response = client.get(path)
    assert response.status_code == status
    assert text in response.text
    assert '<html lang="ja"' in response.text


def test_405_page(client):
    response = client.get("/text-size")
    assert response.status_code == 405
    assert "この操作はできません" in response.text


def test_400_page_for_a_missing_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login", data={"login_id": "x", "password": "y"})
    assert response.status_code == 400
    assert "有効期限が切れました" in response.text


def test_403_401_429_500_pages(make_app):
    from flask import abort
    app = make_app()

    @app.get("/boom/<int:code>")
    def boom(code):
        if code == 500:
            raise RuntimeError("unexpected")
        abort(code)

    from portal import endpoints
    endpoints.PUBLIC_ENDPOINTS.add("boom")
    try:
        client = app.test_client()
        expected = {401: "ログインが必要です", 403: "権限がありません", 429: "アクセスが集中しています",
                    500: "システムエラーが発生しました", 400: "リクエストを処理できませんでした"}
        for code, text in expected.items():
            response = client.get(f"/boom/{code}")
            assert response.status_code == code
            assert text in response.text
            assert "Traceback" not in response.text
    finally:
        endpoints.PUBLIC_ENDPOINTS.discard("boom")


def test_security_headers_on_every_response(client):
    for path in ("/", "/login", "/no-such-page", "/healthz"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"]
        assert "max-age" in headers["Strict-Transport-Security"]  # test env is not development


def test_no_store_on_member_pages(member_client):
    assert member_client.get("/mypage").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(make_app, make_member):
    app = make_app(SESSION_COOKIE_SECURE=True)
    member = make_member()
    client = app.test_client()
    response = client.post("/login", data={"login_id": member.login_id, "password": member.password_plain})
    assert response.status_code == 302 and response.headers["Location"] == "/mypage"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_text_size_is_remembered(client):
    response = client.post("/text-size", data={"size": "large", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert 'class="text-large"' in client.get("/login").text
    # An absolute URL is never followed (no open redirect).
    assert client.post("/text-size", data={"size": "normal", "next": "//evil.example"}).headers["Location"] == "/"


def test_base_layout(client):
    html = client.get("/").text
    assert 'name="viewport"' in html and "cdn" not in html.lower()
    assert "みらい共済生協" in html
