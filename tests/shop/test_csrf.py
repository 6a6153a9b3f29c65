"""Every shop POST needs a CSRF token, except the webhook (verified by signature instead)."""
from __future__ import annotations

import pytest


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


def test_shop_posts_need_csrf_and_the_webhook_does_not(csrf_on, client, db_session):
    checked = []
    for rule in csrf_on.url_map.iter_rules():
        if "POST" not in rule.methods or not rule.endpoint.startswith("shop."):
            continue
        values = {arg: 1 if arg == "subscription_id" else "X1" for arg in rule.arguments}
        response = client.post(rule.build(values, append_unknown=False)[1], data={"a": "1"})
        assert response.status_code == 400, rule.endpoint
        if rule.endpoint == "shop.webhook":
            assert response.json == {"error": "invalid signature"}
        else:
            assert b"CSRF" in response.data or "CSRF" in response.text.upper(), rule.endpoint
        checked.append(rule.endpoint)
    assert "shop.order" in checked and "shop.order_pay" in checked and "shop.webhook" in checked
