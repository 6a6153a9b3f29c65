"""Japanese telephone numbers, through ``phonenumbers`` (region JP)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from .errors import JpValueError
from .masking import mask_digits
from .text import DASHES, normalize

__all__ = ["Phone", "parse_phone", "format_phone", "mask_phone", "can_receive_sms"]

MSG_INVALID = "電話番号の形式が正しくありません"
MSG_REQUIRED = "電話番号を入力してください"
MSG_NOT_MOBILE = "携帯電話番号（060・070・080・090で始まる11桁）を入力してください"

_STRIP = re.compile("[" + re.escape(DASHES) + r"\s()]")
_SHAPE = re.compile(r"(?:0[0-9]{8,11}|\+[0-9]{9,15})")

# Types that can take an automated voice call (a one-time code read aloud).
_VOICE_TYPES = frozenset({
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.VOIP,  # 050 IP phones
})


@dataclass(frozen=True)
class Phone:
    """A valid Japanese number.

    ``national`` is digits only with the leading 0 (``'09012340002'``), the form
    to store; ``e164`` is for SMS / voice providers.
    """

    national: str
    e164: str
    is_mobile: bool
    masked: str
    formatted: str
    can_receive_voice: bool

    @property
    def can_receive_sms(self) -> bool:
        """SMS codes go only to numbers phonenumbers calls MOBILE."""
        return self.is_mobile


def _parse(s: str | None) -> phonenumbers.PhoneNumber:
    text = _STRIP.sub("", normalize(s))
    if not text:
        raise JpValueError(MSG_REQUIRED)
    # A national number must keep its leading 0 ("9012340002" is refused);
    # an international one must start with "+" (only +81 is valid).
    if not _SHAPE.fullmatch(text):
        raise JpValueError(MSG_INVALID)
    try:
        number = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException:
        raise JpValueError(MSG_INVALID) from None
    if number.country_code != 81 or not phonenumbers.is_valid_number(number):
        raise JpValueError(MSG_INVALID)
    return number


def _mask_formatted(formatted: str) -> str:
    """Keep the first group and the last four digits: '090-****-0002'."""
    first, sep, rest = formatted.partition("-")
    if not sep:
        return formatted
    total = sum(ch.isdigit() for ch in rest)
    keep_from = total - 4
    out: list[str] = []
    seen = 0
    for ch in rest:
        if ch.isdigit():
            out.append(ch if seen >= keep_from else "*")
            seen += 1
        else:
            out.append(ch)
    return first + sep + "".join(out)


def parse_phone(s: str | None, *, mobile_only: bool = False) -> Phone:
    """Parse a Japanese phone number typed by a member.

    Accepts hyphens, spaces, parentheses, full-width digits and ``+81``:
    ``'０９０－１２３４－０００２'`` → ``Phone(national='09012340002',
    e164='+819012340002', is_mobile=True, masked='090-****-0002', ...)``.
    Mobile means phonenumbers type MOBILE (060/070/080/090, 11 digits).
    Raises :class:`JpValueError` ('電話番号の形式が正しくありません'), or, with
    ``mobile_only=True``, a message asking for a mobile number.
    """
    number = _parse(s)
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    national = re.sub(r"[^0-9]", "", formatted)
    number_type = phonenumbers.number_type(number)
    is_mobile = number_type == PhoneNumberType.MOBILE
    if mobile_only and not is_mobile:
        raise JpValueError(MSG_NOT_MOBILE)
    return Phone(
        national=national,
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        is_mobile=is_mobile,
        masked=_mask_formatted(formatted),
        formatted=formatted,
        can_receive_voice=number_type in _VOICE_TYPES,
    )


def format_phone(national: str) -> str:
    """``'09012340002'`` → ``'090-1234-0002'``; ``'0312345678'`` → ``'03-1234-5678'``."""
    return phonenumbers.format_number(_parse(national), PhoneNumberFormat.NATIONAL)


def mask_phone(national: str | None) -> str:
    """Hide all but the first group and the last 4 digits: ``'090-****-0002'``.

    For showing where a code was sent; never log the full number. A stored value
    that is not a valid number still shows only its last 4 digits.
    """
    if not national:
        return ""
    try:
        return _mask_formatted(format_phone(national))
    except JpValueError:
        return mask_digits(national)


def can_receive_sms(national: str | None) -> bool:
    """THE rule for "can this number get an SMS" (codes and notices alike):
    a valid number phonenumbers calls MOBILE. Never raises."""
    try:
        return parse_phone(national).can_receive_sms
    except JpValueError:
        return False
