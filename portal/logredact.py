"""Redaction for log lines: phone numbers keep their last 4 digits, six-digit
codes and long digit runs (account numbers) are masked."""
import re

_PHONE = re.compile(r"(\+81|0)\d{1,4}-?\d{1,4}-?(\d{4})\b")
_DIGITS = re.compile(r"\b\d{6,}\b")


def redact(text: str) -> str:
    text = _PHONE.sub(lambda m: "***-" + m.group(2), text)
    return _DIGITS.sub(lambda m: "*" * (len(m.group(0)) - 4) + m.group(0)[-4:] if len(m.group(0)) > 6 else "******", text)
