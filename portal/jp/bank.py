"""Bank accounts for premium debit (口座振替).

Bank and branch codes, names and kana come from ``zengin-code`` (offline; the
tables load when this module is first imported). Holder names are converted to
the bank character set used in 全銀 files.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Iterable, NamedTuple

import jaconv
import zengin_code  # noqa: F401  (importing loads the tables into Bank.all)
from zengin_code import Bank as _ZenginBank

from .errors import JpValueError
from .text import digits_only, enlarge_small_kana, kana_search_key, normalize

__all__ = [
    "YUCHO_BANK_CODE",
    "HOLDER_NAME_MAX_LENGTH",
    "AccountType",
    "ACCOUNT_TYPE_LABELS",
    "Bank",
    "Branch",
    "YuchoAccount",
    "find_bank",
    "search_banks",
    "find_branch",
    "search_branches",
    "normalize_bank_code",
    "normalize_branch_code",
    "normalize_account_number",
    "normalize_holder_name",
    "parse_account_type",
    "yucho_to_branch_account",
]

YUCHO_BANK_CODE = "9900"
# 預金者名 is a 30-character field in the 全銀 口座振替 record.
HOLDER_NAME_MAX_LENGTH = 30


class AccountType(IntEnum):
    """預金種目, with the codes used in 全銀 files."""

    ORDINARY = 1  # 普通
    CURRENT = 2  # 当座
    SAVINGS = 4  # 貯蓄

    @property
    def label(self) -> str:
        return ACCOUNT_TYPE_LABELS[self]


ACCOUNT_TYPE_LABELS: dict[AccountType, str] = {
    AccountType.ORDINARY: "普通",
    AccountType.CURRENT: "当座",
    AccountType.SAVINGS: "貯蓄",
}


@dataclass(frozen=True)
class Bank:
    code: str  # 4 digits
    name: str  # as zengin-code spells it, without 銀行 (e.g. 'みずほ', '三菱ＵＦＪ')
    kana: str  # full-width katakana, large kana only ('ユウチヨ')
    hira: str


@dataclass(frozen=True)
class Branch:
    bank_code: str
    code: str  # 3 digits
    name: str
    kana: str
    hira: str


class YuchoAccount(NamedTuple):
    branch_code: str
    account_number: str
    account_type: AccountType


# ---------------------------------------------------------------- lookup tables

def _bank(z) -> Bank:
    return Bank(code=z.code, name=z.name, kana=z.kana, hira=z.hira)


def _branch(bank_code: str, z) -> Branch:
    return Branch(bank_code=bank_code, code=z.code, name=z.name, kana=z.kana, hira=z.hira)


_BANKS: dict[str, Bank] = {code: _bank(z) for code, z in sorted(_ZenginBank.all.items())}
# per bank: branch code -> Branch (built lazily; most requests need one bank)
_BRANCHES: dict[str, dict[str, Branch]] = {}
# search keys: code -> tuple of keys (name, kana)
_BANK_KEYS: dict[str, tuple[str, ...]] = {
    b.code: (kana_search_key(b.name), kana_search_key(b.kana)) for b in _BANKS.values()
}
_BRANCH_KEYS: dict[str, dict[str, tuple[str, ...]]] = {}


def _branches_of(bank_code: str) -> dict[str, Branch]:
    table = _BRANCHES.get(bank_code)
    if table is None:
        z = _ZenginBank.all[bank_code]
        table = {code: _branch(bank_code, br) for code, br in sorted(z.branches.items())}
        _BRANCHES[bank_code] = table
        _BRANCH_KEYS[bank_code] = {
            br.code: (kana_search_key(br.name), kana_search_key(br.kana))
            for br in table.values()
        }
    return table


def normalize_bank_code(code: str | None) -> str:
    """Four digits (全角 ok), or :class:`JpValueError`."""
    try:
        digits = digits_only(code)
    except JpValueError:
        digits = ""
    if len(digits) != 4:
        raise JpValueError("金融機関コードは4桁の数字で入力してください")
    return digits


def normalize_branch_code(code: str | None) -> str:
    """Three digits (全角 ok), or :class:`JpValueError`."""
    try:
        digits = digits_only(code)
    except JpValueError:
        digits = ""
    if len(digits) != 3:
        raise JpValueError("支店コードは3桁の数字で入力してください")
    return digits


def find_bank(code: str | None) -> Bank:
    """The bank with this 4-digit code; :class:`JpValueError` if malformed or unknown."""
    digits = normalize_bank_code(code)
    bank = _BANKS.get(digits)
    if bank is None:
        raise JpValueError(f"金融機関コード「{digits}」の金融機関が見つかりません")
    return bank


def find_branch(bank_code: str | None, branch_code: str | None) -> Branch:
    """The branch of that bank; :class:`JpValueError` if malformed or unknown."""
    bank = find_bank(bank_code)
    digits = normalize_branch_code(branch_code)
    branch = _branches_of(bank.code).get(digits)
    if branch is None:
        raise JpValueError(f"{bank.name}に支店コード「{digits}」の支店が見つかりません")
    return branch


# Words people add to a query that the zengin names leave out or abbreviate.
_QUERY_REWRITES: tuple[tuple[str, str], ...] = (
    ("信用金庫", "信金"), ("シンヨウキンコ", "シンキン"),
    ("信用組合", "信組"), ("シンヨウクミアイ", "シンクミ"),
    ("農業協同組合", "農協"), ("ノウギヨウキヨウドウクミアイ", "ノウキヨウ"),
)
_BANK_SUFFIXES = ("銀行", "ギンコウ")
_BRANCH_SUFFIXES = ("支店", "シテン", "出張所", "シユツチヨウジヨ", "営業部", "エイギヨウブ")


def _query_key(query: str, suffixes: Iterable[str]) -> str:
    key = kana_search_key(query)
    for long, short in _QUERY_REWRITES:
        key = key.replace(long, short)
    for suffix in suffixes:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
            break
    return key


def _rank(query_key: str, keys: tuple[str, ...]) -> int | None:
    """0: a key equals the query, 1: starts with it, 2: contains it, None: no match."""
    best: int | None = None
    for key in keys:
        if key == query_key:
            return 0
        if key.startswith(query_key):
            best = 1
        elif query_key in key and best is None:
            best = 2
    return best


def _is_code_query(query: str) -> str | None:
    text = normalize(query)
    if not text:
        return None
    try:
        digits = digits_only(text)
    except JpValueError:
        return None
    return digits or None


def search_banks(query: str | None, limit: int = 20) -> list[Bank]:
    """Banks whose code starts with ``query`` (when it is digits) or whose name
    or kana matches it (ｶﾅ / かな / カナ / 漢字; '銀行' may be typed or not).

    Best matches first (exact, then prefix, then substring), by code within a
    rank. Empty query → ``[]``.
    """
    digits = _is_code_query(query or "")
    if digits is not None:
        return [b for code, b in _BANKS.items() if code.startswith(digits)][:limit]
    key = _query_key(query or "", _BANK_SUFFIXES)
    if not key:
        return []
    ranked: list[tuple[int, str]] = []
    for code, keys in _BANK_KEYS.items():
        rank = _rank(key, keys)
        if rank is not None:
            ranked.append((rank, code))
    ranked.sort()
    return [_BANKS[code] for _, code in ranked[:limit]]


def search_branches(bank_code: str | None, query: str | None, limit: int = 20) -> list[Branch]:
    """Branches of one bank by code prefix or name/kana, like :func:`search_banks`.

    An empty query lists the bank's first ``limit`` branches by code. Raises
    :class:`JpValueError` if the bank code is malformed or unknown.
    """
    bank = find_bank(bank_code)
    table = _branches_of(bank.code)
    if not normalize(query):
        return list(table.values())[:limit]
    digits = _is_code_query(query or "")
    if digits is not None:
        return [br for code, br in table.items() if code.startswith(digits)][:limit]
    key = _query_key(query or "", _BRANCH_SUFFIXES)
    if not key:
        return []
    ranked: list[tuple[int, str]] = []
    for code, keys in _BRANCH_KEYS[bank.code].items():
        rank = _rank(key, keys)
        if rank is not None:
            ranked.append((rank, code))
    ranked.sort()
    return [table[code] for _, code in ranked[:limit]]


# ---------------------------------------------------------------- account fields

def parse_account_type(value: str | int | None) -> AccountType:
    """'1' / 1 / '普通' → AccountType.ORDINARY (likewise 2 当座, 4 貯蓄)."""
    if isinstance(value, AccountType):
        return value
    text = normalize(str(value)) if value is not None else ""
    for account_type, label in ACCOUNT_TYPE_LABELS.items():
        if text in (str(int(account_type)), label, label + "預金"):
            return account_type
    raise JpValueError("預金種目を選択してください")


def normalize_account_number(s: str | None) -> str:
    """1–7 digits (全角, hyphens ok) → 7 digits, zero-padded on the left."""
    try:
        digits = digits_only(s)
    except JpValueError:
        raise JpValueError("口座番号は数字7桁以内で入力してください") from None
    if not digits:
        raise JpValueError("口座番号を入力してください")
    if len(digits) > 7:
        raise JpValueError("口座番号は数字7桁以内で入力してください")
    if set(digits) == {"0"}:
        raise JpValueError("口座番号が正しくありません")
    return digits.zfill(7)


# Holder names: the bank character set.
_HOLDER_ALLOWED = re.compile(r"[ｦｱ-ﾝﾞﾟA-Z0-9 ().\-/]*")  # no small ｧ-ｯ, no ｰ
# The same set before the width change: large full-width katakana (small ones
# and ヰヱ have been replaced by then), ヴ, and the ASCII part.
_HOLDER_ALLOWED_WIDE = re.compile(r"[ア-ンヴA-Z0-9 ().\-/]")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_HOLDER_EXTRA = str.maketrans({
    "ヰ": "イ", "ヱ": "エ",  # no half-width forms
    "ー": "-", "‐": "-", "‑": "-", "−": "-", "–": "-", "—": "-", "―": "-",  # 長音 → '-'
})


def normalize_holder_name(s: str | None, *, max_length: int = HOLDER_NAME_MAX_LENGTH) -> str:
    """Convert an account holder name (口座名義) to the bank character set.

    Output: half-width katakana with large kana only (``'キュウ'`` → ``'ｷﾕｳ'``;
    small ｧｨｩｪｫｬｭｮｯ become ｱｲｳｴｵﾔﾕﾖﾂ), ﾞ ﾟ, A–Z, 0–9, one space between
    words, and ( ) . - /; the long-vowel mark ー becomes '-'.
    Input may be hiragana, katakana of either width, or full-width / lower-case
    letters and digits. Any other character is refused by name:
    ``JpValueError('口座名義に使えない文字「漢」が含まれています')``. At most
    ``max_length`` half-width characters (a voiced kana such as ｶﾞ counts two).
    """
    text = normalize(s)  # NFKC: ｶﾅ→カナ, ＡＢ→AB, （）→(), 全角space→space
    if not text:
        raise JpValueError("口座名義を入力してください")
    text = enlarge_small_kana(jaconv.hira2kata(text)).translate(_HOLDER_EXTRA).translate(_ASCII_UPPER)
    for ch in text:  # checked before narrowing, so the message names what was typed
        if not _HOLDER_ALLOWED_WIDE.fullmatch(ch):
            raise JpValueError(f"口座名義に使えない文字「{ch}」が含まれています")
    text = jaconv.z2h(text, kana=True, ascii=False, digit=False)
    if not _HOLDER_ALLOWED.fullmatch(text):  # pragma: no cover - guards the tables above
        raise JpValueError("口座名義に使えない文字が含まれています")
    if len(text) > max_length:
        raise JpValueError(f"口座名義は半角{max_length}文字以内で入力してください")
    return text


# ---------------------------------------------------------------- ゆうちょ銀行

def yucho_to_branch_account(kigo: str | None, bangou: str | None, *,
                            savings: bool = False) -> YuchoAccount:
    """ゆうちょ銀行 記号・番号 → (店番, 口座番号, 預金種目), by ゆうちょ銀行's published rule.

    * 記号 starting with 1 (総合口座・通常貯金・通常貯蓄貯金): 店番 = 2nd–3rd digits of
      記号 + '8'; 口座番号 = 番号 without its last digit (always '1'), zero-padded to
      7; 種目 普通 (貯蓄 for 通常貯蓄貯金: pass ``savings=True``).
      記号10100 番号12345671 → ('018', '1234567', 普通).
    * 記号 starting with 0 (振替口座): 店番 = 2nd–3rd digits + '9'; 口座番号 = 番号
      (up to 6 digits) zero-padded to 7; 種目 当座. The single digit sometimes
      printed between 記号 and 番号 (00120-4-123456) is not used.

    The 店番 must exist in zengin-code's ゆうちょ branch table.
    """
    try:
        k = digits_only(kigo)
    except JpValueError:
        k = ""
    if len(k) != 5 or k[0] not in "01":
        raise JpValueError("記号は0または1で始まる5桁の数字で入力してください")
    try:
        n = digits_only(bangou)
    except JpValueError:
        raise JpValueError("番号は数字で入力してください") from None
    if not n:
        raise JpValueError("番号を入力してください")
    if k[0] == "1":
        if len(n) > 8:
            raise JpValueError("番号は8桁以内の数字で入力してください")
        if len(n) < 2:
            raise JpValueError("番号をお確かめください")
        if not n.endswith("1"):
            raise JpValueError("番号をお確かめください（通帳の番号は末尾が「1」です）")
        branch_code = k[1:3] + "8"
        account = n[:-1]
        account_type = AccountType.SAVINGS if savings else AccountType.ORDINARY
    else:
        if len(n) > 6:
            raise JpValueError("振替口座の番号は6桁以内の数字で入力してください")
        branch_code = k[1:3] + "9"
        account = n
        account_type = AccountType.CURRENT
    if set(account) == {"0"}:
        raise JpValueError("番号をお確かめください")
    if branch_code not in _branches_of(YUCHO_BANK_CODE):
        raise JpValueError("記号をお確かめください（対応する店番がありません）")
    return YuchoAccount(branch_code, account.zfill(7), account_type)
