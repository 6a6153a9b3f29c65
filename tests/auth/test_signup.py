"""Signup in at most 4 form submissions, by SMS or by voice; neutral answers at step 1."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, func, select

from portal.auth.models import CodeChallenge
from portal.auth.passwords import verify_password
from portal.clock import TOKYO
from portal.gateways.sms import OutboxSmsGateway
from portal.members.models import Member
from portal.gateways.models import DevOutboxEntry
from tests.auth.conftest import identity

NEW_PASSWORD = "Kotoba-no-mori-77"
START = datetime(2026, 11, 2, 10, 0, tzinfo=TOKYO)


class CountingClient:
    """Counts form submissions (POSTs) the member makes."""

    def __init__(self, client):
        self.client, self.posts = client, 0

    def post(self, *args, **kwargs):
        self.posts += 1
        return self.client.post(*args, **kwargs)

    def get(self, *args, **kwargs):
        return self.client.get(*args, **kwargs)


def test_signup_by_sms_in_three_submissions(client, outbox, newcomer, db_session, leak_guard):
    member = newcomer()
    leak_guard.add(NEW_PASSWORD)
    browser = CountingClient(client)
    response = browser.post("/signup", data=identity(member))
    assert response.status_code == 302 and response.headers["Location"] == "/signup/code"
    page = browser.get("/signup/code")
    assert "認証コードを送信しました（090-****-" + member.phone[-4:] + "）" in page.text
    assert 'data-countdown="60"' in page.text
    code = outbox.code(member.phone)
    assert outbox.entries(member.phone)[0]["channel"] == "sms"
    response = browser.post("/signup/code", data={"code": code})
    assert response.headers["Location"] == "/signup/credentials"
    response = browser.post("/signup/credentials", data={"login_id": "jiro-sato", "password": NEW_PASSWORD,
                                                         "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/mypage"
    home = browser.get("/mypage")
    assert home.status_code == 200
    assert f"ようこそ、{member.name}さま" in home.text
    assert browser.posts == 3 <= 4
    db_session.expire_all()
    stored = db_session.get(Member, member.id)
    assert stored.login_id == "jiro-sato" and stored.registered_at is not None
    assert verify_password(stored.password_hash, NEW_PASSWORD)
    assert client.get_cookie("mypage_device") is not None  # this browser is now known


def test_signup_switching_to_voice_takes_four_submissions(client, outbox, newcomer, db_session, leak_guard):
    member = newcomer()
    leak_guard.add(NEW_PASSWORD)
    browser = CountingClient(client)
    with time_machine.travel(START, tick=False) as traveller:
        browser.post("/signup", data=identity(member))
        sms_code = outbox.code(member.phone)
        traveller.shift(timedelta(seconds=61))  # the countdown before a switch
        response = browser.post("/code/switch", data={"flow": "signup", "channel": "voice"})
        assert response.headers["Location"] == "/signup/code"
        page = browser.get("/signup/code")
        assert "自動音声の電話で認証コードをお知らせします（090-****-" + member.phone[-4:] + "）" in page.text
        call = outbox.entries(member.phone)[0]
        assert call["channel"] == "voice"
        voice_code = outbox.code(member.phone)
        spoken = "、".join(voice_code)
        assert call["body"].count(spoken) == 2  # read twice, digit by digit
        response = browser.post("/signup/code", data={"code": voice_code})
        assert response.headers["Location"] == "/signup/credentials"
        response = browser.post("/signup/credentials", data={"login_id": "", "password": NEW_PASSWORD,
                                                             "password_confirm": NEW_PASSWORD})
        assert response.headers["Location"] == "/mypage"
        assert "次回から組合員番号でログインできます" in client.get("/mypage").text
    assert browser.posts == 4
    db_session.expire_all()
    assert db_session.get(Member, member.id).is_registered


def test_signup_with_voice_chosen_at_step_one(client, outbox, newcomer, db_session):
    member = newcomer(phone="0312345678")  # a fixed line: voice only
    client.post("/signup", data=identity(member, channel="voice"))
    assert outbox.entries(member.phone)[0]["channel"] == "voice"
    code = outbox.code(member.phone)
    assert client.post("/signup/code", data={"code": code}).headers["Location"] == "/signup/credentials"


def test_certificate_number_and_full_width_input(client, outbox, newcomer, make_contract, db_session):
    member = newcomer()
    contract = make_contract(member)
    wide = str.maketrans("0123456789-", "０１２３４５６７８９－")
    phone = f"{member.phone[:3]}-{member.phone[3:7]}-{member.phone[7:]}".translate(wide)
    data = identity(member, phone=phone, identifier=contract.contract_no.translate(wide),
                    birth_date=member.birth_date.strftime("%Y/%m/%d").translate(wide))
    assert client.post("/signup", data=data).headers["Location"] == "/signup/code"
    assert outbox.entries(member.phone), "the code went to the phone on file"


@pytest.mark.parametrize("year, month, day", [("1975", "10", "10"), ("１９７５", "１０", "１０"), ("昭和50", "10", "10"),
                                             ("S50", "10", "10"), ("昭和５０年", "１０月", "１０日")])
def test_birth_date_in_year_month_day_boxes(client, outbox, newcomer, year, month, day):
    member = newcomer()  # born 1975-10-10
    data = identity(member)
    del data["birth_date"]
    data.update({"birth_date-year": year, "birth_date-month": month, "birth_date-day": day})
    assert client.post("/signup", data=data).headers["Location"] == "/signup/code"
    assert outbox.entries(member.phone)


@pytest.mark.parametrize("year, month, day", [("1975", "13", "10"), ("1975", "2", "30"), ("平成32", "1", "1"),
                                             ("99999999", "1", "1"), ("", "10", "10"), ("昭和", "10", "10")])
def test_impossible_birth_date_is_refused_next_to_the_field_and_kept(client, newcomer, year, month, day):
    member = newcomer()
    data = identity(member)
    del data["birth_date"]
    data.update({"birth_date-year": year, "birth_date-month": month, "birth_date-day": day})
    response = client.post("/signup", data=data)
    assert response.status_code == 200
    assert 'id="birth_date-error"' in response.text and "生年月日を正しく入力してください" in response.text
    assert f'name="birth_date-month" value="{month}"' in response.text  # what was typed stays
    assert f'value="{member.member_no}"' in response.text


def test_odd_birth_date_input_never_fails_the_server(client, newcomer):
    member = newcomer()
    for year in ("9" * 40, "19\x0075", "１" * 500):
        data = identity(member)
        del data["birth_date"]
        data.update({"birth_date-year": year, "birth_date-month": "1", "birth_date-day": "1"})
        assert client.post("/signup", data=data).status_code in (200, 400)


def test_birth_date_boxes_are_labelled_and_numeric(client):
    html = client.get("/signup").text
    assert "<legend>生年月日" in html and 'type="date"' not in html
    for part, unit in (("year", "年"), ("month", "月"), ("day", "日")):
        assert f'id="birth_date-{part}" name="birth_date-{part}"' in html
        assert f'<label for="birth_date-{part}">{unit}</label>' in html
    assert html.count('inputmode="numeric"') >= 3


def test_a_decoy_never_verifies_and_credentials_need_a_verified_code(client, newcomer, db_session):
    member = newcomer()
    client.post("/signup", data=identity(member, birth_date="1999-01-01"))  # wrong birth date
    row = db_session.scalar(select(CodeChallenge).order_by(CodeChallenge.id.desc()))
    assert row.is_decoy and row.member_id is None
    from portal.auth.codes import code_for
    with client.application.app_context():  # the code comes from the seed and the app's key
        code = code_for(row.secret)
    response = client.post("/signup/code", data={"code": code})
    assert "認証コードが正しくありません" in response.text
    assert client.get("/signup/credentials").headers["Location"] == "/signup"


def test_provider_failure_keeps_input_and_stores_nothing(app, client, newcomer, db_session, monkeypatch):
    # A real aws gateway pointed at a closed local port: the provider is unreachable.
    from portal.gateways.aws_sms import AwsSmsGateway, client_config
    from tests.gateways.conftest import closed_port
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    broken = AwsSmsGateway(region="ap-northeast-1", endpoint_url=f"http://127.0.0.1:{closed_port()}",
                           origination_identity="+815000000000", config=client_config(connect_timeout=0.5))
    monkeypatch.setitem(app.extensions, "sms_gateway", broken)
    member = newcomer()
    before = db_session.scalar(select(func.count()).select_from(CodeChallenge))
    response = client.post("/signup", data=identity(member))
    assert response.status_code == 200
    assert "SMSを送信できませんでした" in response.text
    assert f'value="{member.member_no}"' in response.text  # what the member typed is still there
    assert 'name="birth_date-year" value="1975"' in response.text  # 年・月・日 boxes keep the date
    assert 'name="birth_date-month" value="10"' in response.text and 'name="birth_date-day" value="10"' in response.text
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(CodeChallenge)) == before
    assert not db_session.get(Member, member.id).is_registered
    monkeypatch.setitem(app.extensions, "sms_gateway", OutboxSmsGateway())
    # The member may retry at once (nothing was sent, so no countdown).
    assert client.post("/signup", data=identity(member)).headers["Location"] == "/signup/code"


@pytest.mark.parametrize("password,message", [
    ("short-pw1", "10文字以上"),
    ("password1234", "よく使われている"),
    ("qwertyuiop", "よく使われている"),
    ("xX{member_no}Xx", "組合員番号・生年月日・電話番号"),
    ("Born-19751010!", "組合員番号・生年月日・電話番号"),
    ("Tel-{phone}", "組合員番号・生年月日・電話番号"),
])
def test_password_rules_at_step_three(client, outbox, newcomer, db_session, password, message, leak_guard):
    member = newcomer()
    password = password.format(member_no=member.member_no, phone=member.phone)
    leak_guard.add(password)
    client.post("/signup", data=identity(member))
    client.post("/signup/code", data={"code": outbox.code(member.phone)})
    response = client.post("/signup/credentials", data={"password": password, "password_confirm": password})
    assert response.status_code == 200
    assert message in response.text
    db_session.expire_all()
    assert not db_session.get(Member, member.id).is_registered


def test_login_id_rules_and_double_submit(client, outbox, newcomer, make_member, db_session, leak_guard):
    leak_guard.add(NEW_PASSWORD)
    other = make_member()
    member = newcomer()
    client.post("/signup", data=identity(member))
    client.post("/signup/code", data={"code": outbox.code(member.phone)})
    form = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    assert "すでに使われています" in client.post("/signup/credentials", data={**form, "login_id": other.login_id}).text
    assert "紛らわしい" in client.post("/signup/credentials", data={**form, "login_id": "1234567"}).text
    assert "一致しません" in client.post("/signup/credentials", data={**form, "login_id": "ok-id",
                                                                      "password_confirm": "different-pw-123"}).text
    assert client.post("/signup/credentials", data={**form, "login_id": "ok-id"}).headers["Location"] == "/mypage"
    # A resent form after success changes nothing (the flow state is gone).
    again = client.post("/signup/credentials", data={**form, "login_id": "other-id"})
    assert again.status_code == 302
    db_session.expire_all()
    assert db_session.get(Member, member.id).login_id == "ok-id"


# --- enumeration ---------------------------------------------------------------------
def _step_one(app, client, data):
    from portal.extensions import db
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        # The outbox row is the stand-in gateway's own write, not the portal's work.
        if "dev_outbox" not in statement and "SAVEPOINT" not in statement.upper():
            statements.append(statement.split()[0].upper())

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        response = client.post("/signup", data=data)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    page = client.get("/signup/code")
    return response, page, statements


def _without_tokens(html: str) -> str:
    """Each browser has its own CSRF token; everything else must be equal."""
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", html)


def test_known_and_unknown_members_get_identical_answers(app, outbox, newcomer, make_member, db_session):
    member = newcomer(phone="09023450099")
    registered = make_member(birth_date=member.birth_date, phone="09023460099")
    landline = newcomer(phone="0312340099")
    typed = "090-2345-0099"
    cases = {
        "match": identity(member, phone=typed),
        "unknown number": identity(member, phone=typed, identifier="9999999999"),
        "wrong birth date": identity(member, phone=typed, birth_date="1975-10-11"),
        "wrong phone": identity(member, phone="090-2399-0099"),
        "already registered": identity(registered, phone="090-2346-0099"),
        "SMS to a fixed line": identity(landline, phone="03-1234-0099"),
    }
    answers = {}
    with time_machine.travel(START, tick=False) as traveller:
        for name, data in cases.items():
            traveller.shift(timedelta(minutes=13))  # past every send limit
            browser = app.test_client()
            response, page, statements = _step_one(app, browser, data)
            answers[name] = (response.status_code, response.headers.get("Location"),
                             page.status_code, _without_tokens(page.text).replace("03-****-0099", "090-****-0099"),
                             statements)
    reference = answers["match"]
    assert len(outbox.entries(member.phone)) == 1  # only the real member got a code
    assert "090-****-0099" in reference[3]
    for name, answer in answers.items():
        assert answer[:3] == reference[:3], name
        assert answer[3] == reference[3], name
        assert answer[4] == reference[4], name  # the same database work, statement by statement
