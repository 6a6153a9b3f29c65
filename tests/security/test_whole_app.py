"""Whole-app security checks over the URL map, automatically:
CSRF on every POST, headers on every response, no GET changes the database."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.models import metadata
from portal.endpoints import PUBLIC_ENDPOINTS
from tests.support.urls import sample_url

# Tables a read legitimately writes: the session's last-seen time and the audit
# trail of what was viewed (both are required).
READ_SIDE_EFFECT_TABLES = {"auth_sessions", "audit_log"}
CSRF_EXEMPT = {"shop.webhook"}


def _sample_url(rule) -> str:
    return sample_url(rule)


def _post_rules(app):
    return [r for r in app.url_map.iter_rules() if "POST" in r.methods and r.endpoint not in CSRF_EXEMPT]


def test_every_post_without_a_csrf_token_is_refused(make_app, make_member):
    app = make_app(WTF_CSRF_ENABLED=True)
    member = make_member()
    client = app.test_client()
    login_page = client.get("/login").text
    from tests.conftest import csrf_token_from
    client.post("/login", data={"login_id": member.login_id, "password": member.password_plain,
                                "csrf_token": csrf_token_from(login_page)})
    rules = _post_rules(app)
    assert rules, "no POST routes found"
    for rule in rules:
        response = client.post(_sample_url(rule), data={"anything": "1"})
        assert response.status_code == 400, (rule.endpoint, response.status_code)


def test_security_headers_on_every_get_route(member_client, app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        response = member_client.get(_sample_url(rule))
        headers = response.headers
        assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), rule.endpoint
        assert headers.get("X-Content-Type-Options") == "nosniff", rule.endpoint
        assert headers.get("Referrer-Policy"), rule.endpoint
        if rule.endpoint not in PUBLIC_ENDPOINTS:
            assert headers.get("Cache-Control") == "no-store", rule.endpoint


def _row_counts(session) -> dict[str, int]:
    return {t.name: session.scalar(select(func.count()).select_from(t))
            for t in metadata.sorted_tables if t.name not in READ_SIDE_EFFECT_TABLES}


@pytest.mark.parametrize("who", ["anonymous", "member", "staff"])
def test_no_get_changes_the_database(who, app, client, db_session, demo, auth, staff_client):
    if who == "member":
        auth.login()
        visitor = client
    elif who == "staff":
        visitor = staff_client("support", "cs", "marketing", "admin")
    else:
        visitor = client
    taro = demo["taro"]
    known = {"contract_no": "100000000101", "member_id": taro.id, "id": 1, "slug": "X1"}
    before = _row_counts(db_session)
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        visitor.get(sample_url(rule, known))
    db_session.expire_all()
    assert _row_counts(db_session) == before
