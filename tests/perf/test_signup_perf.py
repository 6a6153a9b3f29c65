"""Benchmark: server time of the whole signup (3 submissions, gateway excluded) and the
cost of one password check with the production scrypt settings.

Run: .venv/bin/python -m pytest tests/perf/test_signup_perf.py -s --override-ini addopts=
(SQLite by default; PostgreSQL too when PORTAL_TEST_DATABASE_URL is set.)
"""
from __future__ import annotations

import re
import statistics
import time
from datetime import date

import pytest

from portal.auth import passwords
from portal.auth.passwords import hash_password, verify_password

RUNS = 5
PASSWORD = "Kotoba-no-mori-77"


class TimedGateway:
    """Delegates to the real configured gateway and adds up the time spent in it."""

    def __init__(self, inner) -> None:
        self.inner, self.spent = inner, 0.0

    def send_sms(self, to, body):
        started = time.perf_counter()
        try:
            self.inner.send_sms(to, body)
        finally:
            self.spent += time.perf_counter() - started

    def send_voice(self, to, text):
        started = time.perf_counter()
        try:
            self.inner.send_voice(to, text)
        finally:
            self.spent += time.perf_counter() - started


@pytest.fixture
def production_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "METHOD", passwords.PRODUCTION_METHOD)


def test_password_check_cost(production_hashing):
    stored = hash_password(PASSWORD)
    cpu, wall = [], []
    for _ in range(RUNS):
        c, w = time.process_time(), time.perf_counter()
        assert verify_password(stored, PASSWORD)
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    print(f"\npassword check ({passwords.PRODUCTION_METHOD}): median {statistics.median(cpu):.0f} ms CPU, "
          f"{statistics.median(wall):.0f} ms wall (min {min(cpu):.0f}, max {max(cpu):.0f})")
    assert 50 <= statistics.median(cpu) <= 250


def test_whole_signup_server_time(app, production_hashing, monkeypatch, make_member, db_session):
    gateway = TimedGateway(app.extensions["sms_gateway"])
    monkeypatch.setitem(app.extensions, "sms_gateway", gateway)
    totals = []
    for n in range(RUNS):
        member = make_member(password=None, birth_date=date(1975, 10, 10), phone=f"0908888{n:04d}")
        client = app.test_client()
        gateway.spent = 0.0
        started = time.perf_counter()
        client.post("/signup", data={"identifier": member.member_no, "birth_date": "1975-10-10",
                                     "phone": member.phone, "channel": "sms"})
        server = time.perf_counter() - started
        body = client.get("/dev/outbox.json").get_json()[0]["body"]  # reading the SMS is the member's time
        code = re.search(r"(\d{6})", body).group(1)
        started = time.perf_counter()
        r1 = client.post("/signup/code", data={"code": code})
        r2 = client.post("/signup/credentials", data={"password": PASSWORD, "password_confirm": PASSWORD})
        server += time.perf_counter() - started
        assert r1.status_code == r2.status_code == 302 and r2.headers["Location"] == "/mypage"
        totals.append((server - gateway.spent) * 1000)
    print(f"\nwhole signup, 3 submissions, server time without the gateway: median "
          f"{statistics.median(totals):.0f} ms (min {min(totals):.0f}, max {max(totals):.0f}; {RUNS} runs)")
