"""Runs last: the log output of the whole suite holds no code, password, session
cookie, full phone number or full account number."""
from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ARTIFACTS, SUITE_LOG

SECRETS = ["Demo-pass-2026", "Staff-pass-2026", "Member-pass-2026", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"]
PATTERNS = {
    "full phone number": re.compile(r"(?<!\d)(?:\+81|0)[789]0-?\d{4}-?\d{4}(?!\d)"),
    "six-digit code": re.compile(r"(?<![\d*])\d{6}(?![\d])"),
    "account number": re.compile(r"(?<![\d*])\d{7}(?!\d)"),
    "session cookie": re.compile(r"mypage_session=[A-Za-z0-9._-]{20,}"),
}


def _logs() -> list[Path]:
    paths = [Path(SUITE_LOG), Path(ARTIFACTS) / "e2e-server.log"]
    return [p for p in paths if p.exists()]


def test_logs_hold_no_secrets():
    logs = _logs()
    assert logs, "the suite wrote no log to scan"
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} in {path.name}"
        for name, pattern in PATTERNS.items():
            match = pattern.search(text)
            assert match is None, f"{name} in {path.name}: …{text[max(0, match.start() - 60):match.end() + 20]}…"


def test_the_redaction_itself():
    import logging

    from portal.logredact import install_record_factory
    install_record_factory()
    record = logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1,
                                               "code %s to %s account %s", ("123456", "09012340001", "1234567"), None)
    assert "123456" not in record.getMessage() and "09012340001" not in record.getMessage()
    assert "1234567" not in record.getMessage() and record.getMessage().endswith("***4567")
