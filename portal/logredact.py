"""Redaction for log records: phone numbers keep their last 4 digits, six-digit
codes and long digit runs (account numbers) are masked.

Installed as the logging record factory, so it applies to every logger and
handler, including ones added after start-up.
"""
from __future__ import annotations

import logging
import re

_PHONE = re.compile(r"(?:\+81|\b0)\d{1,4}-?\d{1,4}-?(\d{4})\b")
_DIGITS = re.compile(r"\b\d{6,}\b")


def redact(text: str) -> str:
    text = _PHONE.sub(lambda m: "***-" + m.group(1), text)
    return _DIGITS.sub(lambda m: "*" * (len(m.group(0)) - 4) + m.group(0)[-4:] if len(m.group(0)) > 6
                       else "******", text)


def install_record_factory() -> None:
    current = logging.getLogRecordFactory()
    if getattr(current, "portal_redacting", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the record as it is
            return record
        record.msg = redact(message)
        record.args = None
        return record

    factory.portal_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
