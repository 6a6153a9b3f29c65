"""Text normalisation for Japanese form input.

Every value a member types goes through :func:`normalize` (NFKC) before it is
validated, so full-width digits and letters (１２３, ＡＢＣ), the ideographic
space and half-width katakana (ｶﾅ) all work.
"""
from __future__ import annotations

import re
import unicodedata

import jaconv

from .errors import JpValueError

__all__ = [
    "SMALL_TO_LARGE_KANA",
    "normalize",
    "to_katakana",
    "normalize_furigana",
    "digits_only",
    "kana_search_key",
    "enlarge_small_kana",
]

_SPACES = re.compile(r"\s+")

# Small (捨て仮名) full-width katakana and the large kana they stand for.
SMALL_TO_LARGE_KANA: dict[str, str] = {
    "ァ": "ア", "ィ": "イ", "ゥ": "ウ", "ェ": "エ", "ォ": "オ",
    "ャ": "ヤ", "ュ": "ユ", "ョ": "ヨ", "ッ": "ツ", "ヮ": "ワ",
    "ヵ": "カ", "ヶ": "ケ",
}
_SMALL_TO_LARGE = str.maketrans(SMALL_TO_LARGE_KANA)

# Characters people type between digit groups (after NFKC, so the full-width
# hyphen-minus "－" has already become "-" and the half-width "ｰ" has become "ー").
DASHES = "-‐‑‒–—―−ー─━﹣⁃"
_DASH_CLASS = "[" + re.escape(DASHES) + "]"
_DASH_RE = re.compile(_DASH_CLASS)
_ASCII_DIGITS = re.compile(r"[0-9]*")

_FURIGANA_OK = re.compile(r"[ァ-ヺー・ヽヾ ]+")


def normalize(s: str | None) -> str:
    """NFKC, strip, and collapse every run of whitespace to one ASCII space.

    ``None`` gives ``""``. 全角 letters and digits become ASCII, ｶﾅ becomes カナ,
    the ideographic space becomes an ASCII space.
    """
    if s is None:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", s)).strip()


def to_katakana(s: str | None) -> str:
    """Hiragana and half-width katakana to full-width katakana (for フリガナ).

    ``"やまだ ﾀﾛｳ"`` → ``"ヤマダ タロウ"``. Other characters are left as they are
    (after :func:`normalize`); use :func:`normalize_furigana` to validate.
    """
    return jaconv.hira2kata(normalize(s))


def normalize_furigana(s: str | None, *, label: str = "フリガナ") -> str:
    """Return ``s`` as full-width katakana, or raise :class:`JpValueError`.

    Accepts hiragana, katakana of either width, ー, ・ and spaces.
    """
    kana = to_katakana(s)
    if not kana:
        raise JpValueError(f"{label}を入力してください")
    if not _FURIGANA_OK.fullmatch(kana):
        raise JpValueError(f"{label}はカタカナまたはひらがなで入力してください")
    return kana


def digits_only(s: str | None) -> str:
    """ASCII digits from a number typed with optional hyphens and spaces.

    Full-width digits and the hyphen look-alikes (-, －, ー, ｰ, ‐, −, …) are
    accepted: ``"０９０－１２３４ー０００２"`` → ``"09012340002"``. Any other character
    raises :class:`JpValueError`. Empty input gives ``""`` (required-ness is the
    caller's business).
    """
    text = _DASH_RE.sub("", normalize(s)).replace(" ", "")
    if not _ASCII_DIGITS.fullmatch(text):
        raise JpValueError("数字で入力してください")
    return text


def enlarge_small_kana(s: str) -> str:
    """Full-width small katakana to large (キュウ → キユウ); nothing else changes."""
    return s.translate(_SMALL_TO_LARGE)


def kana_search_key(s: str | None) -> str:
    """A key under which ｶﾅ, かな and カナ (and キュウ/キユウ) compare equal.

    NFKC, hiragana → katakana, small kana → large, every long-vowel or dash
    mark → ー, spaces and ・ removed, ASCII upper-cased. Kanji are kept, so the
    same key works for names: ``kana_search_key("みずほ") == kana_search_key("ﾐｽﾞﾎ")``.
    """
    text = enlarge_small_kana(to_katakana(s))
    text = _DASH_RE.sub("ー", text)
    return text.replace(" ", "").replace("・", "").upper()


def honorific(name: str) -> str:
    """A person's name as the pages address them (山田 太郎さま): one word on every page.

    Letters, notices and printed documents keep the written form 様 of correspondence.
    """
    return f"{name}さま"
