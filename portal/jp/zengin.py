"""全銀協 総合振込 (bulk transfer) files: 120-byte records in Shift_JIS, CRLF.

`write_transfer_file` makes the file a bank takes; `parse_transfer_file` reads one
back field by field (the tests prove the writer with it, and staff can check a
file before sending). Names are converted to the bank character set
(portal.jp.bank.normalize_holder_name): half-width katakana, large kana only,
A–Z, 0–9, space and ( ) . - /, one byte each in Shift_JIS, so a field's width
in characters is its width in bytes.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from .bank import normalize_holder_name
from .errors import JpValueError

RECORD_BYTES = 120
ENCODING = "shift_jis"
NEWLINE = b"\r\n"
MAX_AMOUNT_YEN = 9_999_999_999  # 10 digits

# (name, width) per record type; the widths add up to 120.
HEADER = (("record", 1), ("kind", 2), ("code_type", 1), ("requester_code", 10), ("requester_name", 40),
          ("transfer_date", 4), ("bank_code", 4), ("bank_name", 15), ("branch_code", 3), ("branch_name", 15),
          ("account_type", 1), ("account_number", 7), ("dummy", 17))
DATA = (("record", 1), ("bank_code", 4), ("bank_name", 15), ("branch_code", 3), ("branch_name", 15),
        ("clearing_house", 4), ("account_type", 1), ("account_number", 7), ("payee_name", 30),
        ("amount", 10), ("new_code", 1), ("customer_code1", 10), ("customer_code2", 10),
        ("transfer_kind", 1), ("identification", 1), ("dummy", 7))
TRAILER = (("record", 1), ("total_count", 6), ("total_amount", 12), ("dummy", 101))
END = (("record", 1), ("dummy", 119))
NUMERIC = {"record", "kind", "code_type", "requester_code", "transfer_date", "bank_code", "branch_code",
           "account_type", "account_number", "amount", "total_count", "total_amount"}
for _layout in (HEADER, DATA, TRAILER, END):
    assert sum(width for _, width in _layout) == RECORD_BYTES


@dataclass(frozen=True)
class Account:
    """A bank account as the file names it, at either end of a payment."""

    bank_code: str
    bank_name: str       # kana or katakana, converted to the bank set
    branch_code: str
    branch_name: str
    account_type: int
    account_number: str


@dataclass(frozen=True)
class Requester(Account):
    """The co-op's own account the money leaves from (仕向)."""

    code: str = field(kw_only=True)  # 依頼人コード, 10 digits, given by the bank
    name: str = field(kw_only=True)  # 依頼人名


@dataclass(frozen=True)
class Transfer(Account):
    payee_name: str
    amount_yen: int
    customer_code: str = ""  # 顧客コード1: the claim's reference, comes back on the bank's report


@dataclass(frozen=True)
class TransferFile:
    header: dict[str, str]
    records: list[dict[str, str]]
    trailer: dict[str, str]

    @property
    def total_yen(self) -> int:
        return int(self.trailer["total_amount"])

    @property
    def count(self) -> int:
        return int(self.trailer["total_count"])


def bank_text(value: str, width: int) -> str:
    """A name in the bank character set, cut to `width` (a ﾞ left alone at the cut goes too)."""
    text = normalize_holder_name(value, max_length=10_000)
    return text[:width]


def _number(value: int | str, width: int, name: str) -> str:
    text = str(value)
    if not text.isdigit() or len(text) > width:
        raise JpValueError(f"{name}が正しくありません")
    return text.zfill(width)


def _text(value: str, width: int) -> str:
    return value[:width].ljust(width)


def _record(layout: Sequence[tuple[str, int]], values: dict[str, str]) -> bytes:
    raw = "".join(values.get(name, "").ljust(width) if name not in NUMERIC else values[name]
                  for name, width in layout)
    data = raw.encode(ENCODING)
    if len(data) != RECORD_BYTES:  # a character outside the bank set would make it longer
        raise JpValueError("振込データに使えない文字が含まれています")
    return data


def _account_fields(account: Account, side: str) -> dict[str, str]:
    """The six fields naming an account: 仕向 (the co-op's) in the header, 被仕向 (the payee's) in a record."""
    return {
        "bank_code": _number(account.bank_code, 4, f"{side}銀行番号"),
        "bank_name": _text(bank_text(account.bank_name, 15), 15),
        "branch_code": _number(account.branch_code, 3, f"{side}支店番号"),
        "branch_name": _text(bank_text(account.branch_name, 15), 15),
        "account_type": _number(account.account_type, 1, "預金種目"),
        "account_number": _number(account.account_number, 7, "口座番号"),
    }


def write_transfer_file(requester: Requester, transfer_date: date, transfers: Sequence[Transfer]) -> bytes:
    header = _record(HEADER, {
        "record": "1", "kind": "21", "code_type": "0",
        "requester_code": _number(requester.code, 10, "依頼人コード"),
        "requester_name": _text(bank_text(requester.name, 40), 40),
        "transfer_date": f"{transfer_date:%m%d}",
        **_account_fields(requester, "仕向"),
    })
    records = [header]
    total = 0
    for t in transfers:
        if not 0 < t.amount_yen <= MAX_AMOUNT_YEN:
            raise JpValueError("振込金額が正しくありません")
        total += t.amount_yen
        records.append(_record(DATA, {
            "record": "2",
            **_account_fields(t, "被仕向"),
            "payee_name": _text(bank_text(t.payee_name, 30), 30),
            "amount": _number(t.amount_yen, 10, "振込金額"),
            "new_code": "0",
            "customer_code1": _text(bank_text(t.customer_code, 10) if t.customer_code else "", 10),
        }))
    records.append(_record(TRAILER, {"record": "8", "total_count": _number(len(transfers), 6, "合計件数"),
                                     "total_amount": _number(total, 12, "合計金額")}))
    records.append(_record(END, {"record": "9"}))
    return b"".join(r + NEWLINE for r in records)


def _fields(layout: Sequence[tuple[str, int]], record: bytes) -> dict[str, str]:
    text = record.decode(ENCODING)
    out: dict[str, str] = {}
    position = 0
    for name, width in layout:
        value = text[position:position + width]
        position += width
        if name != "dummy":
            out[name] = value if name in NUMERIC else value.rstrip(" ")
    return out


def parse_transfer_file(data: bytes) -> TransferFile:
    """Read a file back; raises JpValueError when a record is not 120 bytes, out of
    order, or the trailer's totals do not match the records."""
    lines = data.split(NEWLINE)
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) < 3 or any(len(line) != RECORD_BYTES for line in lines):
        raise JpValueError("全銀ファイルの形式が正しくありません（1レコード120バイト）")
    kinds = [line[:1] for line in lines]
    if kinds[0] != b"1" or kinds[-1] != b"9" or kinds[-2] != b"8" or set(kinds[1:-2]) - {b"2"}:
        raise JpValueError("全銀ファイルのレコードの順序が正しくありません")
    header = _fields(HEADER, lines[0])
    records = [_fields(DATA, line) for line in lines[1:-2]]
    trailer = _fields(TRAILER, lines[-2])
    if int(trailer["total_count"]) != len(records) or \
            int(trailer["total_amount"]) != sum(int(r["amount"]) for r in records):
        raise JpValueError("全銀ファイルの合計が明細と一致しません")
    return TransferFile(header, records, trailer)
