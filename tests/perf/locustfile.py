"""Signed-in members browsing My Page (driven by tests/perf/test_load.py).

Each simulated user is another member on another device: its own login ID and
its own address (X-Forwarded-For, read by the portal behind PORTAL_PROXY_COUNT=1
as behind nginx), so the per-address and per-member rate limits count each
member as they would in production instead of counting everyone as one.
"""
from __future__ import annotations

import itertools
import os
import re

from locust import HttpUser, between, tag, task

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
USERS = int(os.environ.get("BENCH_LOGIN_USERS", "20"))
# A member writes to the co-op now and then, not every few seconds: the portal's
# limit is 30 a day, so each simulated member sends at most this many.
VOICES_PER_MEMBER = 10
_numbers = itertools.count()


class Member(HttpUser):
    wait_time = between(0.0, 0.05)

    def on_start(self) -> None:
        number = next(_numbers)
        login_id = f"bench{number % USERS:03d}"
        self.client.headers["X-Forwarded-For"] = f"198.51.100.{number % 250 + 1}"
        self.voices_left = VOICES_PER_MEMBER
        page = self.client.get("/login", name="/login")
        token = CSRF.search(page.text).group(1)
        response = self.client.post("/login", data={"csrf_token": token, "login_id": login_id,
                                                    "password": "Bench-pass-2026"}, name="/login POST")
        if not response.url.endswith("/mypage"):
            raise RuntimeError(f"benchmark sign-in failed: {response.url}")

    @tag("browse", "mypage")
    @task(4)
    def mypage(self) -> None:
        self.client.get("/mypage", name="/mypage")

    @tag("browse")
    @task(2)
    def contracts(self) -> None:
        self.client.get("/contracts", name="/contracts")

    @tag("browse")
    @task(2)
    def coverage(self) -> None:
        self.client.get("/coverage", name="/coverage")

    @tag("browse", "bare")
    @task(4)
    def bare(self) -> None:
        self.client.get("/bench/bare", name="/bench/bare")

    @tag("browse")
    @task(1)
    def voice(self) -> None:
        page = self.client.get("/voices/new", name="/voices/new")
        match = CSRF.search(page.text)
        if not match or self.voices_left == 0:
            return
        self.voices_left -= 1
        data = {"csrf_token": match.group(1), "kind": "opinion", "topic": "web",
                "body": "マイページの文字が読みやすくなりました。負荷試験からの声です。", "reply_wanted": ""}
        for name, value in re.findall(r'name="(submit_token)"[^>]*value="([^"]+)"', page.text):
            data[name] = value
        with self.client.post("/voices/new", data=data, name="/voices/new POST", catch_response=True) as response:
            if not response.url.endswith("/voices/thanks"):
                response.failure(f"voice not accepted: {response.status_code} {response.url}")
