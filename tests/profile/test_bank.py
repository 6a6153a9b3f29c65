"""Debit-account change: zengin validation, ゆうちょ, holder names, the first debit date, completion."""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.clock import TOKYO
from portal.members.models import DebitAccount
from tests.profile.conftest import sign_in_member_directly
from tests.profile.helpers import audit_rows, hidden, reauthenticate, requests_of

GOOD = {"bank_code": "0001", "branch_code": "001", "account_type": "1", "account_number": "１２３４５",
        "holder_name": "ｼｹﾝ ﾀﾛｳ"}


@pytest.fixture
def bank_client(member_client, db_session, make_contract):
    member = member_client.member
    old = DebitAccount(member_id=member.id, bank_code="0005", bank_name="三菱UFJ銀行", branch_code="001",
                       branch_name="本店", account_type=1, account_number="7654321", holder_name="ｼｹﾝ ﾀﾛｳ")
    db_session.add(old)
    db_session.flush()
    member_client.old_account = old
    member_client.contracts = [make_contract(member, "KOKUMIN_SOGO", debit=old),
                               make_contract(member, "KOKUMIN_IRYO", debit=old)]
    reauthenticate(member_client, member, "bank")
    return member_client


def _confirm(client, form_response):
    """From a valid form, through the confirmation page, to the submit: its response."""
    assert form_response.headers["Location"] == "/profile/bank-account/confirm"
    page = client.get("/profile/bank-account/confirm")
    assert page.status_code == 200 and "この内容で申し込む" in page.text
    return client.post("/profile/bank-account/confirm", data={"form_token": hidden(page.text, "form_token")})


def _post(client, **fields):
    """The whole round trip; a refused form comes back as the form page."""
    page = client.get("/profile/bank-account")
    assert page.status_code == 200, page.status_code
    response = client.post("/profile/bank-account", data={"form_token": hidden(page.text, "form_token"), **fields})
    return _confirm(client, response) if response.status_code == 302 else response


def test_step_up_is_required(member_client):
    response = member_client.get("/profile/bank-account")
    assert response.headers["Location"] == "/profile/reauth?for=bank"


def test_request_is_received_with_the_first_debit_date(bank_client, db_session):
    member = bank_client.member
    with time_machine.travel(datetime(2026, 9, 11, 12, 0, tzinfo=TOKYO), tick=False):
        sign_in_member_directly(bank_client, db_session, member)
        bank_client.post("/profile/reauth?for=bank", data={"password": member.password_plain})
        page = bank_client.get("/profile/bank-account")
        # received on the 11th: three months on, 27 Dec 2026 is a Sunday → Monday the 28th
        assert "2026年12月28日" in page.text
        response = _confirm(bank_client, bank_client.post("/profile/bank-account",
                                                          data={"form_token": hidden(page.text, "form_token"), **GOOD}))
        assert response.status_code == 302
        shown = bank_client.get(response.headers["Location"])
    assert "2026年12月28日の口座振替から" in shown.text and "受付済" in shown.text
    [request] = requests_of(db_session, member, "bank_account_change")
    assert request.status == "received" and request.effective_date == date(2026, 12, 28)
    account = db_session.get(DebitAccount, json.loads(request.detail)["debit_account_id"])
    assert (account.bank_code, account.branch_code, account.account_type, account.account_number) == \
        ("0001", "001", 1, "0012345")
    assert account.bank_name == "みずほ銀行" and account.is_current is False
    assert "0012345" not in request.summary and "***2345" in request.summary
    [row] = audit_rows(db_session, "profile.bank_account_change_requested")
    assert "0012345" not in row.detail and "7654321" not in row.detail and "***2345" in row.detail
    assert "0012345" not in shown.text
    for contract in bank_client.contracts:  # nothing switches before completion
        db_session.refresh(contract)
        assert contract.debit_account_id == bank_client.old_account.id


def test_received_by_the_10th_debits_the_month_after_next(bank_client, db_session):
    with time_machine.travel(datetime(2026, 9, 10, 23, 30, tzinfo=TOKYO), tick=False):
        sign_in_member_directly(bank_client, db_session, bank_client.member)
        bank_client.post("/profile/reauth?for=bank", data={"password": bank_client.member.password_plain})
        assert _post(bank_client, **GOOD).status_code == 302
    [request] = requests_of(db_session, bank_client.member, "bank_account_change")
    assert request.effective_date == date(2026, 11, 27)


@pytest.mark.parametrize("fields,field,message", [
    ({"bank_code": "0000"}, "bank_code", "金融機関コード「0000」の金融機関が見つかりません"),
    ({"bank_code": "12"}, "bank_code", "金融機関コードは4桁の数字で入力してください"),
    ({"branch_code": "999"}, "branch_code", "支店コード「999」の支店が見つかりません"),
    ({"account_number": "12345678"}, "account_number", "口座番号は数字7桁以内で入力してください"),
    ({"account_number": "12a45"}, "account_number", "口座番号は数字7桁以内で入力してください"),
    ({"account_type": "3"}, "account_type", "預金種目を選択してください"),
    ({"holder_name": "山田 太郎"}, "holder_name", "口座名義に使えない文字「山」が含まれています"),
    ({"holder_name": "ヤマダ☆タロウ"}, "holder_name", "口座名義に使えない文字「☆」が含まれています"),
])
def test_zengin_validation_through_the_form(bank_client, db_session, fields, field, message):
    response = _post(bank_client, **{**GOOD, **fields})
    assert response.status_code == 200
    assert f'id="{field}-error"' in response.text and message in response.text
    for name, value in {**GOOD, **fields}.items():
        if name != "account_type":  # input kept (NFKC-normalised: １２３４５ comes back as 12345)
            assert f'value="{unicodedata.normalize("NFKC", value)}"' in response.text
    assert requests_of(db_session, bank_client.member, "bank_account_change") == []


@pytest.mark.parametrize("typed,stored", [
    ("ﾔﾏﾀﾞ ﾀﾛｳ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
    ("やまだ　たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"),
    ("ヤマダ キュウ", "ﾔﾏﾀﾞ ｷﾕｳ"),
    ("ｷｯﾄ ｼｮｳｺﾞ", "ｷﾂﾄ ｼﾖｳｺﾞ"),
    ("ｓｍｉｔｈ ｊｏｈｎ", "SMITH JOHN"),
    ("カ）ミライ", "ｶ)ﾐﾗｲ"),
    ("ローソン", "ﾛ-ｿﾝ"),
])
def test_holder_name_is_normalised_to_the_bank_character_set(bank_client, db_session, typed, stored):
    assert _post(bank_client, **{**GOOD, "holder_name": typed}).status_code == 302
    account = db_session.scalars(select(DebitAccount).where(DebitAccount.member_id == bank_client.member.id,
                                                            DebitAccount.is_current.is_(False))).one()
    assert account.holder_name == stored


def test_yucho_kigo_bangou_is_converted(bank_client, db_session):
    response = _post(bank_client, bank_code="9900", kigo="１０１００", bangou="12345671", holder_name="ｼｹﾝ ﾀﾛｳ")
    assert response.status_code == 302
    account = db_session.scalars(select(DebitAccount).where(DebitAccount.bank_code == "9900")).one()
    assert (account.branch_code, account.account_number, account.account_type) == ("018", "1234567", 1)
    assert account.bank_name == "ゆうちょ銀行" and account.branch_name == "〇一八店"


def test_yucho_bad_bangou_is_named_next_to_the_field(bank_client):
    response = _post(bank_client, bank_code="9900", kigo="10100", bangou="12345670", holder_name="ｼｹﾝ ﾀﾛｳ")
    assert 'id="bangou-error"' in response.text and "末尾が「1」" in response.text
    assert 'id="kigo"' in response.text and 'value="10100"' in response.text


def test_double_submit_creates_one_request(bank_client, db_session):
    page = bank_client.get("/profile/bank-account")
    bank_client.post("/profile/bank-account", data={"form_token": hidden(page.text, "form_token"), **GOOD})
    confirm = bank_client.get("/profile/bank-account/confirm")
    data = {"form_token": hidden(confirm.text, "form_token")}
    first = bank_client.post("/profile/bank-account/confirm", data=data)
    second = bank_client.post("/profile/bank-account/confirm", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"].replace("http://localhost", "")
    assert first.headers["Location"].startswith("/requests/")
    assert len(requests_of(db_session, bank_client.member, "bank_account_change")) == 1


def test_confirmation_shows_the_account_masked_and_creates_nothing(bank_client, db_session):
    with time_machine.travel(datetime(2026, 9, 11, 12, 0, tzinfo=TOKYO), tick=False):
        sign_in_member_directly(bank_client, db_session, bank_client.member)
        bank_client.post("/profile/reauth?for=bank", data={"password": bank_client.member.password_plain})
        page = bank_client.get("/profile/bank-account")
        response = bank_client.post("/profile/bank-account", data={"form_token": hidden(page.text, "form_token"),
                                                                   **GOOD, "account_number": "１２３４５６７"})
        assert response.status_code == 302
        confirm = bank_client.get("/profile/bank-account/confirm")
    text = confirm.text
    assert "みずほ銀行" in text and "東京営業部" in text and "普通" in text and "ｼｹﾝ ﾀﾛｳ" in text
    assert "***4567" in text and "2026年12月28日" in text
    assert "1234567" not in text and "１２３４５６７" not in text
    assert requests_of(db_session, bank_client.member, "bank_account_change") == []


def test_correct_returns_to_the_form_with_everything_typed(bank_client, db_session):
    page = bank_client.get("/profile/bank-account")
    typed = {**GOOD, "account_number": "7654", "holder_name": "やまだ　たろう", "account_type": "4"}
    bank_client.post("/profile/bank-account", data={"form_token": hidden(page.text, "form_token"), **typed})
    confirm = bank_client.get("/profile/bank-account/confirm")
    assert 'href="/profile/bank-account"' in confirm.text  # 修正する
    back = bank_client.get("/profile/bank-account")
    assert back.status_code == 200
    for name, value in (("bank_code", "0001"), ("branch_code", "001"), ("account_number", "7654"),
                        ("holder_name", "やまだ たろう")):
        assert re.search(rf'<input[^>]*name="{name}"[^>]*value="{value}"', back.text), name
    assert re.search(r'<input[^>]*checked[^>]*value="4"|<input[^>]*value="4"[^>]*checked', back.text)
    # Corrected and sent again: one request, with the corrected number.
    again = bank_client.post("/profile/bank-account", data={
        "form_token": hidden(back.text, "form_token"), **typed, "account_number": "7655"})
    assert _confirm(bank_client, again).status_code == 302
    [request] = requests_of(db_session, bank_client.member, "bank_account_change")
    assert "***7655" in request.summary


def test_the_confirmation_still_needs_the_step_up(bank_client, db_session):
    page = bank_client.get("/profile/bank-account")
    bank_client.post("/profile/bank-account", data={"form_token": hidden(page.text, "form_token"), **GOOD})
    confirm = bank_client.get("/profile/bank-account/confirm")
    token = hidden(confirm.text, "form_token")
    with time_machine.travel(datetime.now(TOKYO) + timedelta(minutes=6)):
        assert bank_client.get("/profile/bank-account/confirm").headers["Location"] == "/profile/reauth?for=bank"
        late = bank_client.post("/profile/bank-account/confirm", data={"form_token": token})
        assert late.headers["Location"] == "/profile/reauth?for=bank"
    assert requests_of(db_session, bank_client.member, "bank_account_change") == []


def test_the_confirmation_without_a_form_goes_back_to_the_form(bank_client, db_session):
    assert bank_client.get("/profile/bank-account/confirm").headers["Location"] == "/profile/bank-account"
    posted = bank_client.post("/profile/bank-account/confirm", data={"form_token": "x" * 32})
    assert posted.headers["Location"] == "/profile/bank-account"
    assert requests_of(db_session, bank_client.member, "bank_account_change") == []


def test_cli_completes_the_change_and_switches_contracts(app, bank_client, db_session):
    assert _post(bank_client, **GOOD).status_code == 302
    [request] = requests_of(db_session, bank_client.member, "bank_account_change")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["complete-bank-change", request.receipt_no])
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    assert request.status == "completed"
    assert [e.status for e in request.events] == ["received", "reviewing", "completed"]
    new = db_session.get(DebitAccount, json.loads(request.detail)["debit_account_id"])
    assert new.is_current is True and bank_client.old_account.is_current is False
    assert {c.debit_account_id for c in bank_client.contracts} == {new.id}
    again = runner.invoke(args=["complete-bank-change", request.receipt_no])
    assert again.exit_code == 1 and "すでに「完了」" in again.output
    unknown = runner.invoke(args=["complete-bank-change", "R0000-NOPE"])
    assert unknown.exit_code == 1


def test_a_second_change_waits_for_the_first(bank_client, db_session):
    assert _post(bank_client, **GOOD).status_code == 302
    second = _post(bank_client, **{**GOOD, "account_number": "7777777"})
    assert second.status_code == 200 and "お手続き中です" in second.text


def test_json_search_endpoints(member_client):
    banks = member_client.get("/profile/banks.json?q=ﾐｽﾞﾎ").json["banks"]
    assert banks[0] == {"code": "0001", "name": "みずほ銀行", "kana": "ミズホ"}
    branches = member_client.get("/profile/banks/0001/branches.json?q=001").json["branches"]
    assert branches[0]["code"] == "001" and branches[0]["name"] == "東京営業部"
    assert member_client.get("/profile/banks/0000/branches.json?q=a").status_code == 404


def test_server_side_search_without_script(bank_client):
    page = bank_client.get("/profile/bank-account?bank_q=みずほ")
    assert 'href="/profile/bank-account?bank=0001"' in page.text
    page = bank_client.get("/profile/bank-account?bank=0001&branch_q=東京営業部")
    assert 'href="/profile/bank-account?bank=0001&amp;branch=001"' in page.text
    chosen = bank_client.get("/profile/bank-account?bank=0001&branch=001")
    assert 'id="bank_code" name="bank_code" type="text" value="0001"' in chosen.text or 'value="0001"' in chosen.text
