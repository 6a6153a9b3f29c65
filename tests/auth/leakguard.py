"""Checks captured log records for secrets (logs never hold a code,
a password or a full phone number)."""
from __future__ import annotations

import logging
import re

# A Japanese phone number in full: national (0X0-XXXX-XXXX, hyphens optional) or E.164.
FULL_PHONE = re.compile(r"(?<!\d)(?:0\d0-?\d{4}-?\d{4}|\+81\d{9,10}|0\d{9})(?!\d)")


class LeakGuard:
    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.checked = 0

    def add(self, *values: str) -> None:
        self.secrets.update(v for v in values if v)

    def check(self, records: list[logging.LogRecord]) -> None:
        for record in records:
            line = record.getMessage()
            if record.exc_text:
                line += record.exc_text
            self.checked += 1
            assert not FULL_PHONE.search(line), f"full phone number in a log line: {line!r}"
            for secret in self.secrets:
                assert secret not in line, f"a code, password or phone in a log line: {line!r}"
