"""Redaction for log records: phone numbers keep their last 4 digits, six-digit
codes and long digit runs (account numbers) are masked, and so are base32 keys
(TOTP and one-time-code seeds) and the values of password/secret/token fields.

Installed as the logging record factory, so it applies to every logger and
handler, including ones added after start-up and the ones libraries use
(Werkzeug's access log, gunicorn, SQLAlchemy, botocore). The message, the
traceback of a logged exception (SQLAlchemy puts the statement's
"[parameters: …]" there) and a stack dump are all redacted, and numbers in
URL-encoded form (`%2B81%2090-…` in an access log line) too.
"""
from __future__ import annotations

import logging
import re
import traceback

from portal.jp.masking import mask_digits

# Separators people and URL encoders put between the parts of a phone number:
# hyphen, dot, space, "+" (a form-encoded space), %20 and %2D.
_SEP = r"(?:[-.\s+]|%20|%2[dD])?"
_PHONE = re.compile(
    r"(?:(?:\+|%2[bB])81" + _SEP + r"|(?<![\w%])0)"  # +81 / %2B81, or a national 0 not inside a word
    r"\d{1,4}" + _SEP + r"\d{1,4}" + _SEP + r"(\d{4})(?!\d)"
)
# Six or more digits in a row, also glued to Japanese text ("コード482915", where \b sees none).
_DIGITS = re.compile(r"(?<![0-9])[0-9]{6,}(?![0-9])")
# A code spelt out digit by digit, as the voice call reads it ("4、8、2、9、1、5").
_SPOKEN_CODE = re.compile(r"(?<![0-9])[0-9](?:\s*、\s*[0-9]){5}(?![0-9])")
# A base32 key of 16 characters or more (pyotp secrets are 32): never an ordinary word.
_BASE32_KEY = re.compile(r"(?<![A-Za-z0-9])[A-Z2-7]{16,}=*(?![A-Za-z0-9])")
# `password=…`, `'secret': '…'`, `"token_hash": "…"`: the value goes, the name stays.
_SECRET_FIELD = re.compile(
    r"""(?ix)
    (["']?\b(?:\w*password\w*|\w*secret\w*|\w*token\w*|otp|code)["']?\s*[:=]\s*)
    (["']?)
    [^"'&\s,;)}\]]+
    """
)


def redact(text: str) -> str:
    text = _SECRET_FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    text = _PHONE.sub(lambda m: "***-" + m.group(1), text)
    text = _BASE32_KEY.sub("[key]", text)
    text = _SPOKEN_CODE.sub("******", text)
    return _DIGITS.sub(lambda m: mask_digits(m.group(0)) if len(m.group(0)) > 6 else "******", text)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the record as it is
        return
    record.msg = redact(message)
    record.args = None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # Formatters print exc_text when it is set, instead of formatting exc_info again.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_record_factory() -> None:
    current = logging.getLogRecordFactory()
    if getattr(current, "portal_redacting", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _redact_record(record)
        return record

    factory.portal_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
