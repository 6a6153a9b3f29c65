"""Helpers for the auth tests: read codes from /dev/outbox.json, and a guard that
no code, password or full phone number reaches a log line."""
from __future__ import annotations

import logging
import re
from datetime import date

import pytest

from tests.auth.leakguard import LeakGuard


@pytest.fixture(autouse=True)
def leak_guard(caplog):
    caplog.set_level(logging.DEBUG, logger="portal")
    caplog.set_level(logging.INFO)
    guard = LeakGuard()
    yield guard
    guard.check(caplog.records)


@pytest.fixture
def outbox(client, leak_guard):
    """outbox.code(to_national) → the newest code sent to that number (SMS or voice)."""
    class Outbox:
        def entries(self, national: str | None = None) -> list[dict]:
            rows = client.get("/dev/outbox.json").get_json()
            if national is None:
                return rows
            e164 = "+81" + national[1:]
            return [r for r in rows if r["to"] == e164]

        def code(self, national: str) -> str:
            rows = self.entries(national)
            assert rows, "nothing was sent to that number"
            digits = "".join(re.findall(r"\d", rows[0]["body"].replace("5分", "")))
            code = digits[:6]
            assert len(code) == 6
            leak_guard.add(code)
            return code

    return Outbox()


@pytest.fixture
def newcomer(make_member, leak_guard):
    """A member holding a contract, not yet registered (like demo member 1000000002)."""
    counter = iter(range(1, 1000))

    def factory(**fields):
        n = next(counter)
        values = dict(password=None, birth_date=date(1975, 10, 10), phone=f"0902345{n:04d}")
        values.update(fields)
        member = make_member(**values)
        leak_guard.add(member.phone)
        return member

    return factory


def identity(member, *, phone: str | None = None, channel: str = "sms", **overrides) -> dict:
    data = {"identifier": member.member_no, "birth_date": member.birth_date.isoformat(),
            "phone": phone or member.phone, "channel": channel}
    data.update(overrides)
    return data
