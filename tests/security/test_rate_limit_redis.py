"""Rate limits hold across several workers: two app instances (as two gunicorn
workers would be) share one Redis and count together."""
from __future__ import annotations

import os
import uuid

import pytest

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="PORTAL_TEST_REDIS_URL not set (CI sets it)")
def test_login_limit_is_shared_by_two_workers(make_app):
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    first = make_app(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    second = make_app(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    clients = [first.test_client(), second.test_client()]
    # A new login ID each time: the per-account delay (portal.auth.throttle) is not what is measured.
    statuses = [clients[i % 2].post("/login", data={"login_id": f"nobody{i}", "password": "x" * 10}).status_code
                for i in range(31)]
    # /login allows 30 attempts an hour per address: exactly 30 pass, spread over both workers.
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    page = clients[0].post("/login", data={"login_id": "nobody-else", "password": "x" * 10})
    assert "アクセスが集中しています" in page.text and page.headers.get("Retry-After")
