"""No code, password or full phone number in any log line (every auth test runs the
guard at teardown; these show the guard sees real lines and can fail)."""
from __future__ import annotations

import logging

import pytest

from tests.auth.conftest import identity
from tests.auth.leakguard import LeakGuard


def test_a_whole_signup_logs_without_secrets(client, outbox, newcomer, caplog, leak_guard):
    member = newcomer()
    leak_guard.add("Kotoba-no-mori-77")
    client.post("/signup", data=identity(member))
    client.post("/signup/code", data={"code": "000000"})
    client.post("/signup/code", data={"code": outbox.code(member.phone)})
    client.post("/signup/credentials", data={"password": "Kotoba-no-mori-77", "password_confirm": "Kotoba-no-mori-77"})
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("portal")]
    assert any("issued" in line for line in lines) and any("wrong code" in line for line in lines)
    assert any(member.phone[-4:] in line for line in lines)  # last 4 digits only
    LeakGuard().check(caplog.records)


@pytest.mark.parametrize("line", ["sent to 090-1234-0002", "to +819012340002", "phone 09012340002"])
def test_the_guard_catches_a_full_phone_number(line):
    record = logging.LogRecord("portal", logging.INFO, __file__, 1, line, None, None)
    with pytest.raises(AssertionError):
        LeakGuard().check([record])


def test_the_guard_catches_a_registered_secret():
    guard = LeakGuard()
    guard.add("482915")
    record = logging.LogRecord("portal", logging.INFO, __file__, 1, "code %s", ("482915",), None)
    with pytest.raises(AssertionError):
        guard.check([record])
