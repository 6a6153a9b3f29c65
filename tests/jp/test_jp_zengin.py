"""全銀協 総合振込: every record 120 bytes of Shift_JIS, and the file parses back."""
from __future__ import annotations

from datetime import date

import pytest

from portal.jp.errors import JpValueError
from portal.jp.zengin import Requester, Transfer, parse_transfer_file, write_transfer_file

REQUESTER = Requester("0001", "ミズホ", "001", "トウキョウエイギョウブ", 1, "7654321", code="1234567890",
                      name="セイカツキョウドウクミアイキョウサイ")
TRANSFERS = [
    Transfer("0005", "ミツビシユーエフジェイ", "135", "シブヤ", 1, "0012345", "ヤマダ タロウ", 190_000, "0000000001"),
    Transfer("9900", "ゆうちょ", "018", "ゼロイチハチ", 1, "1234567", "さとう じろう", 5_000, "0000000002"),
    Transfer("0009", "ミツイスミトモ", "001", "トウキヨウ", 4, "7", "ｷﾕｳｼﾞﾂ ﾊﾅｺ(ｶ", 1_234_567_890, "0000000003"),
]


def test_every_record_is_120_bytes_of_shift_jis_with_crlf():
    data = write_transfer_file(REQUESTER, date(2026, 12, 4), TRANSFERS)
    records = data.split(b"\r\n")
    assert records[-1] == b"" and len(records) == 1 + 3 + 2 + 1
    for record in records[:-1]:
        assert len(record) == 120
        record.decode("shift_jis")  # strict: every byte valid Shift_JIS
    assert [r[:1] for r in records[:-1]] == [b"1", b"2", b"2", b"2", b"8", b"9"]


def test_file_parses_back_field_by_field():
    parsed = parse_transfer_file(write_transfer_file(REQUESTER, date(2026, 12, 4), TRANSFERS))
    assert parsed.header == {
        "record": "1", "kind": "21", "code_type": "0", "requester_code": "1234567890",
        "requester_name": "ｾｲｶﾂｷﾖｳﾄﾞｳｸﾐｱｲｷﾖｳｻｲ", "transfer_date": "1204", "bank_code": "0001",
        "bank_name": "ﾐｽﾞﾎ", "branch_code": "001", "branch_name": "ﾄｳｷﾖｳｴｲｷﾞﾖｳﾌﾞ", "account_type": "1",
        "account_number": "7654321"}
    first, second, third = parsed.records
    assert first == {"record": "2", "bank_code": "0005", "bank_name": "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ", "branch_code": "135",
                     "branch_name": "ｼﾌﾞﾔ", "clearing_house": "", "account_type": "1", "account_number": "0012345",
                     "payee_name": "ﾔﾏﾀﾞ ﾀﾛｳ", "amount": "0000190000", "new_code": "0",
                     "customer_code1": "0000000001", "customer_code2": "", "transfer_kind": "",
                     "identification": ""}
    assert (second["bank_name"], second["payee_name"], second["amount"]) == ("ﾕｳﾁﾖ", "ｻﾄｳ ｼﾞﾛｳ", "0000005000")
    assert (third["account_type"], third["account_number"], third["amount"]) == ("4", "0000007", "1234567890")
    assert third["payee_name"] == "ｷﾕｳｼﾞﾂ ﾊﾅｺ(ｶ"
    assert parsed.count == 3 and parsed.total_yen == 190_000 + 5_000 + 1_234_567_890
    assert parsed.trailer == {"record": "8", "total_count": "000003", "total_amount": "001234762890"}


def test_long_names_are_cut_to_their_field():
    long = Transfer("0005", "ミツビシユーエフジェイギンコウホンテン", "135", "シブヤ", 1, "1", "ア" * 40, 1)
    record = write_transfer_file(REQUESTER, date(2026, 12, 4), [long]).split(b"\r\n")[1]
    assert len(record) == 120
    assert parse_transfer_file(write_transfer_file(REQUESTER, date(2026, 12, 4), [long])).records[0][
        "payee_name"] == "ｱ" * 30


@pytest.mark.parametrize("transfer", [
    Transfer("0005", "ミツビシ", "135", "シブヤ", 1, "1", "山田", 1),         # kanji is not in the bank set
    Transfer("0005", "ミツビシ", "135", "シブヤ", 1, "12345678", "ヤマダ", 1),  # 8-digit account
    Transfer("0005", "ミツビシ", "135", "シブヤ", 1, "1", "ヤマダ", 0),         # nothing to pay
    Transfer("0005", "ミツビシ", "135", "シブヤ", 1, "1", "ヤマダ", 10**10),    # more than 10 digits
])
def test_bad_transfers_are_refused(transfer):
    with pytest.raises(JpValueError):
        write_transfer_file(REQUESTER, date(2026, 12, 4), [transfer])


def test_parser_refuses_broken_files():
    data = write_transfer_file(REQUESTER, date(2026, 12, 4), TRANSFERS)
    with pytest.raises(JpValueError):
        parse_transfer_file(data.replace(b"0000190000", b"0000190001"))  # trailer no longer matches
    with pytest.raises(JpValueError):
        parse_transfer_file(data[:-3] + b"\r\n")  # a short record
    with pytest.raises(JpValueError):
        parse_transfer_file(b"\r\n".join(data.split(b"\r\n")[1:]))  # no header
