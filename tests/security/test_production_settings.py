"""Production settings: what the portal refuses to start with, the CSP built from
configuration, the client's address behind load balancers, Secure cookies."""
from __future__ import annotations

import pytest

from portal import create_app
from portal.config import ConfigError, load_config

GOOD_KEY = "k" * 32


@pytest.fixture
def production_env(monkeypatch):
    """Everything production needs; each test then takes one piece away."""
    for name in ("PORTAL_CSP_STRIPE_HOSTS", "PORTAL_CSP_STORAGE_HOSTS", "PORTAL_STRIPE_API_BASE",
                 "PORTAL_AWS_ENDPOINT_URL", "PORTAL_STORAGE", "PORTAL_PROXY_COUNT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("PORTAL_SMS_BACKEND", "aws")
    monkeypatch.setenv("PORTAL_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("PORTAL_WEBAUTHN_RP_ID", "mypage.mirai-kyosai.jp")
    monkeypatch.setenv("PORTAL_WEBAUTHN_ORIGIN", "https://mypage.mirai-kyosai.jp")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # never used: nothing is sent
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def _load(tmp_path, **overrides):
    return load_config(tmp_path, {"PORTAL_ENV": "production", **overrides})


def test_production_starts_with_complete_settings(production_env, tmp_path):
    config = _load(tmp_path)
    csp = config["CONTENT_SECURITY_POLICY"]
    assert "https://js.stripe.com" in csp and "127.0.0.1" not in csp and "http:" not in csp


def test_production_refuses_in_memory_rate_limits(production_env, monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_REDIS_URL")
    with pytest.raises(ConfigError, match="PORTAL_REDIS_URL"):
        _load(tmp_path)


@pytest.mark.parametrize("key", ["short", "x" * 31, "秘密" * 5])  # 5 kanji are 30 bytes
def test_production_refuses_a_short_secret_key(production_env, monkeypatch, tmp_path, key):
    monkeypatch.setenv("PORTAL_SECRET_KEY", key)
    with pytest.raises(ConfigError, match="32 bytes"):
        _load(tmp_path)


@pytest.mark.parametrize("name,value", [
    ("PORTAL_STRIPE_API_BASE", "http://127.0.0.1:8420"),  # localstripe left in the environment
    ("PORTAL_CSP_STRIPE_HOSTS", "https://js.stripe.com http://localhost:8420"),
    ("PORTAL_CSP_STORAGE_HOSTS", "https://files.mirai.test"),
    ("PORTAL_CSP_STORAGE_HOSTS", "https://[::1]:9000"),
])
def test_production_refuses_a_csp_naming_development_hosts(production_env, monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="development hosts"):
        _load(tmp_path)


def test_csp_hosts_come_from_configuration(production_env, monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_STORAGE", "s3")
    monkeypatch.setenv("PORTAL_S3_BUCKET", "mirai-mypage-prod")
    config = _load(tmp_path)
    assert "img-src 'self' data: https://mirai-mypage-prod.s3.ap-northeast-1.amazonaws.com" in \
        config["CONTENT_SECURITY_POLICY"]
    monkeypatch.setenv("PORTAL_CSP_STRIPE_HOSTS", "https://js.stripe.com https://api.stripe.com https://m.stripe.network")
    monkeypatch.setenv("PORTAL_CSP_STORAGE_HOSTS", "https://files.mirai-kyosai.jp")
    app = create_app({"PORTAL_ENV": "production"})
    csp = app.test_client().get("/healthz").headers["Content-Security-Policy"]
    assert "frame-src 'self' https://js.stripe.com https://api.stripe.com https://m.stripe.network;" in csp
    assert "img-src 'self' data: https://files.mirai-kyosai.jp;" in csp


def test_development_csp_allows_localstripe_only_when_configured(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_CSP_STRIPE_HOSTS", raising=False)
    monkeypatch.setenv("PORTAL_STRIPE_API_BASE", "http://127.0.0.1:8420")
    assert "script-src 'self' http://127.0.0.1:8420 " in load_config(tmp_path, {"PORTAL_ENV": "development"})[
        "CONTENT_SECURITY_POLICY"]
    monkeypatch.delenv("PORTAL_STRIPE_API_BASE")
    assert "8420" not in load_config(tmp_path, {"PORTAL_ENV": "development"})["CONTENT_SECURITY_POLICY"]


def test_text_size_cookie_is_secure_in_production(production_env):
    app = create_app({"PORTAL_ENV": "production", "WTF_CSRF_ENABLED": False})
    response = app.test_client().post("/text-size", data={"size": "large", "next": "/"})  # plain http behind TLS
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("textsize=")]
    assert cookie.startswith("textsize=large") and "Secure" in cookie and "HttpOnly" in cookie


@pytest.mark.parametrize("target", ["/\\evil.example", "//evil.example", "https://evil.example"])
def test_text_size_never_redirects_off_site(client, target):
    assert client.post("/text-size", data={"size": "large", "next": target}).headers["Location"] == "/"


# --- behind load balancers -----------------------------------------------------------------
def _seen_address(app, headers):
    from flask import request

    seen = {}

    @app.get("/_address_probe", endpoint="_address_probe")
    def probe():  # a route of the test's own app only
        from flask_limiter.util import get_remote_address
        seen["remote"] = request.remote_addr
        seen["limiter"] = get_remote_address()
        seen["secure"] = request.is_secure
        return "ok"

    from portal.endpoints import PUBLIC_ENDPOINTS
    PUBLIC_ENDPOINTS.add("_address_probe")
    try:
        response = app.test_client().get("/_address_probe", headers=headers,
                                         environ_base={"REMOTE_ADDR": "10.0.0.7"})
        assert response.status_code == 200, response.status_code
    finally:
        PUBLIC_ENDPOINTS.discard("_address_probe")
    return seen


def test_proxy_count_gives_rate_limits_the_clients_address(app_config):
    headers = {"X-Forwarded-For": "198.51.100.9, 203.0.113.5", "X-Forwarded-Proto": "https"}
    behind_one = create_app({**app_config, "PROXY_COUNT": 1})
    assert _seen_address(behind_one, headers) == {"remote": "203.0.113.5", "limiter": "203.0.113.5", "secure": True}
    # Without the setting a forged header changes nothing: the balancer's address is used.
    direct = create_app(app_config)
    assert _seen_address(direct, headers) == {"remote": "10.0.0.7", "limiter": "10.0.0.7", "secure": False}


def test_proxy_count_puts_the_clients_address_in_the_audit_log(make_app, make_staff, db_session):
    from sqlalchemy import select

    from portal.audit.models import AuditLog
    app = make_app(PROXY_COUNT=2)
    staff = make_staff("support")
    app.test_client().post("/staff/login", data={"email": staff.email, "password": "wrong-password-1"},
                           headers={"X-Forwarded-For": "192.0.2.1, 203.0.113.77, 10.1.1.1"},
                           environ_base={"REMOTE_ADDR": "10.0.0.7"})
    row = db_session.scalars(select(AuditLog).where(AuditLog.action == "staff.login_failed")
                             .order_by(AuditLog.id.desc())).first()
    assert row is not None and row.ip == "203.0.113.77"


def test_proxy_count_must_be_a_whole_number(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_PROXY_COUNT", "two")
    with pytest.raises(ConfigError, match="PORTAL_PROXY_COUNT"):
        load_config(tmp_path, {"PORTAL_ENV": "test"})


@pytest.mark.parametrize("rp_id,origin", [
    (None, None),  # the development defaults, localhost
    ("mypage.mirai-kyosai.jp", "http://mypage.mirai-kyosai.jp"),
    ("mypage.mirai-kyosai.jp", "https://other.example.jp"),
])
def test_production_refuses_passkey_settings_for_another_site(production_env, monkeypatch, tmp_path, rp_id,
                                                              origin):
    for name, value in (("PORTAL_WEBAUTHN_RP_ID", rp_id), ("PORTAL_WEBAUTHN_ORIGIN", origin)):
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="PORTAL_WEBAUTHN"):
        _load(tmp_path)
