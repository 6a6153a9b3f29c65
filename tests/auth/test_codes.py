"""Every code limit with frozen time: lifetime, single use, purpose, resend, 3 wrong,
lockout, and the send throttles (checked before the gateway is called)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.auth import codes
from portal.auth.codes import CodeError, code_for, send_code, verify_code
from portal.auth.models import CodeChallenge
from portal.clock import TOKYO
from portal.extensions import db
from portal.gateways.models import DevOutboxEntry

START = datetime(2026, 11, 2, 10, 0, tzinfo=TOKYO)
PHONE = "09076540002"


@pytest.fixture
def session(app, db_session, leak_guard):
    leak_guard.add(PHONE)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        yield db.session


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def send(session, phone=PHONE, purpose="signup", channel="sms", member_id=None, ip="192.0.2.1"):
    return send_code(session, purpose=purpose, phone=phone, channel=channel, member_id=member_id, ip=ip)


def sent_count(session) -> int:
    return session.scalar(select(func.count()).select_from(DevOutboxEntry))


def code_of(challenge, leak_guard=None) -> str:
    return code_for(challenge.secret)


def test_the_database_keeps_no_code(session, clock):
    challenge = send(session)
    code = code_of(challenge)
    row = session.execute(select(CodeChallenge.__table__)).mappings().one()
    assert code not in " ".join(str(v) for v in row.values())
    assert len(challenge.secret) == 32 and code.isdigit() and len(code) == 6
    # A fresh secret per challenge: two sends, two different secrets.
    clock.shift(timedelta(seconds=61))
    assert send(session).secret != challenge.secret


def test_code_is_valid_until_just_before_five_minutes(session, clock):
    first = send(session)
    clock.shift(timedelta(minutes=4, seconds=59))
    assert verify_code(session, first.id, code_of(first), purpose="signup").status == "used"
    second = send(session)
    clock.shift(timedelta(minutes=5))
    with pytest.raises(CodeError) as error:
        verify_code(session, second.id, code_of(second), purpose="signup")
    assert error.value.kind == "expired"
    assert error.value.message == "認証コードの有効期限が切れました。もう一度送信してください。"


def test_code_is_single_use(session, clock):
    challenge = send(session)
    verify_code(session, challenge.id, code_of(challenge), purpose="signup")
    with pytest.raises(CodeError) as error:
        verify_code(session, challenge.id, code_of(challenge), purpose="signup")
    assert error.value.kind == "used"


def test_full_width_code_is_accepted(session, clock):
    challenge = send(session)
    wide = code_of(challenge).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert verify_code(session, challenge.id, wide, purpose="signup").status == "used"


@pytest.mark.parametrize("issued,used", [("signup", "login"), ("login", "reset"), ("reset", "phone_change"),
                                         ("phone_change", "signup")])
def test_code_is_bound_to_its_purpose(session, clock, issued, used):
    challenge = send(session, purpose=issued)
    with pytest.raises(CodeError) as error:
        verify_code(session, challenge.id, code_of(challenge), purpose=used)
    assert error.value.kind == "invalid"
    assert verify_code(session, challenge.id, code_of(challenge), purpose=issued).status == "used"


def test_resend_invalidates_the_previous_code(session, clock):
    first = send(session)
    clock.shift(timedelta(seconds=60))
    second = codes.resend_code(session, first.id, purpose="signup", channel=None, ip="192.0.2.1", can_send=True) \
        if first.member_id else send(session)
    with pytest.raises(CodeError) as error:
        verify_code(session, first.id, code_of(first), purpose="signup")
    assert error.value.kind == "replaced"
    assert verify_code(session, second.id, code_of(second), purpose="signup").status == "used"


def test_three_wrong_entries_burn_the_code(session, clock):
    challenge = send(session)
    good = code_of(challenge)
    wrong = "000000" if good != "000000" else "111111"
    messages = []
    for _ in range(3):
        with pytest.raises(CodeError) as error:
            verify_code(session, challenge.id, wrong, purpose="signup")
        messages.append(error.value.message)
    assert messages[0] == "認証コードが正しくありません。あと2回入力できます。"
    assert messages[1] == "認証コードが正しくありません。あと1回入力できます。"
    assert "3回間違えた" in messages[2]
    with pytest.raises(CodeError) as error:
        verify_code(session, challenge.id, good, purpose="signup")
    assert error.value.kind == "burned"


def _fail(session, challenge, times):
    wrong = "000000" if code_of(challenge) != "000000" else "111111"
    for _ in range(times):
        with pytest.raises(CodeError) as error:
            verify_code(session, challenge.id, wrong, purpose=challenge.purpose)
        assert error.value.kind in ("invalid", "burned", "locked")
    assert challenge.wrong_attempts == times


def test_ten_failures_in_a_day_lock_code_entry_for_thirty_minutes(session, clock):
    for _ in range(3):  # 9 failures over 3 codes, spread over the day
        _fail(session, send(session), 3)
        clock.shift(timedelta(hours=2))
    challenge = send(session)
    _fail(session, challenge, 1)  # the 10th
    fresh_at = datetime.now(TOKYO)
    clock.shift(timedelta(seconds=61))
    with pytest.raises(CodeError) as error:
        send(session)  # no new code while locked
    assert error.value.kind == "locked"
    assert error.value.retry_at == (fresh_at + timedelta(minutes=30))
    assert f"{(fresh_at + timedelta(minutes=30)):%H:%M}まで認証できません" in error.value.message
    with pytest.raises(CodeError) as error:
        verify_code(session, challenge.id, code_of(challenge), purpose="signup")  # even the right code
    assert error.value.kind == "locked"
    clock.shift(timedelta(minutes=28))  # 29:01 after the 10th failure
    with pytest.raises(CodeError):
        send(session)
    clock.shift(timedelta(minutes=1))  # 30:01
    unlocked = send(session)
    assert verify_code(session, unlocked.id, code_of(unlocked), purpose="signup").status == "used"


def test_failures_older_than_a_day_do_not_count(session, clock):
    for _ in range(3):
        _fail(session, send(session), 3)
        clock.shift(timedelta(hours=1))
    clock.shift(timedelta(hours=22))  # the first 3 failures leave the 24 h window
    challenge = send(session)
    _fail(session, challenge, 1)
    clock.shift(timedelta(seconds=61))
    ok = send(session)
    assert verify_code(session, ok.id, code_of(ok), purpose="signup").status == "used"


def test_lockout_is_per_member_across_phones(session, clock, newcomer):
    member = newcomer()
    phones = ["09076540011", "09076540012", "09076540013", "09076540014"]
    for phone in phones[:3]:
        _fail(session, send(session, phone=phone, member_id=member.id, purpose="phone_change"), 3)
    _fail(session, send(session, phone=phones[3], member_id=member.id, purpose="phone_change"), 1)
    with pytest.raises(CodeError) as error:
        send(session, phone="09076540015", member_id=member.id, purpose="phone_change")
    assert error.value.kind == "locked"
    # Another member at another number is not affected.
    other = send(session, phone="09076540016", member_id=None)
    assert other.status == "active"


def test_one_send_per_number_per_minute_without_calling_the_gateway(session, clock):
    send(session)
    before = sent_count(session)
    clock.shift(timedelta(seconds=30))
    with pytest.raises(CodeError) as error:
        send(session)
    assert error.value.kind == "throttled"
    assert error.value.retry_after_seconds == 30
    assert error.value.message == "認証コードの再送信は60秒に1回までです。あと30秒お待ちください。"
    assert sent_count(session) == before  # the gateway was not called
    clock.shift(timedelta(seconds=30))
    send(session)
    assert sent_count(session) == before + 1


def test_five_sends_per_number_per_hour(session, clock):
    for _ in range(5):
        send(session)
        clock.shift(timedelta(minutes=5))
    before = sent_count(session)
    with pytest.raises(CodeError) as error:  # 25 minutes after the first
        send(session)
    assert error.value.kind == "throttled"
    assert error.value.retry_after_seconds == 35 * 60
    assert "11:00以降（約35分後）" in error.value.message
    assert sent_count(session) == before
    clock.shift(timedelta(minutes=34, seconds=59))
    with pytest.raises(CodeError):
        send(session)
    clock.shift(timedelta(seconds=1))
    send(session)


def test_twenty_sends_per_ip_per_hour(session, clock):
    for n in range(20):
        send(session, phone=f"0907655{n:04d}", ip="198.51.100.7")
    before = sent_count(session)
    with pytest.raises(CodeError) as error:
        send(session, phone="09076559999", ip="198.51.100.7")
    assert error.value.kind == "throttled"
    assert sent_count(session) == before
    send(session, phone="09076559999", ip="198.51.100.8")  # another address is not affected
    clock.shift(timedelta(hours=1))
    send(session, phone="09076559998", ip="198.51.100.7")


def test_sms_only_to_mobiles_voice_also_to_fixed_lines(session, clock):
    with pytest.raises(CodeError) as error:
        send(session, phone="0312345678", channel="sms")
    assert error.value.kind == "channel"
    assert send(session, phone="0312345678", channel="voice").channel == "voice"
    with pytest.raises(CodeError):
        send(session, channel="fax")


def test_a_failed_send_stores_nothing(app, session, clock, monkeypatch):
    from portal.gateways import GatewayError

    class DownProvider:  # stands in for a provider outage; the aws backend's own failures are in tests/gateways
        def send_sms(self, to, body):
            raise GatewayError("ただいまSMSを送信できません。")

        send_voice = send_sms

    monkeypatch.setitem(app.extensions, "sms_gateway", DownProvider())
    with pytest.raises(CodeError) as error:
        send(session)
    assert error.value.kind == "gateway" and error.value.message == "ただいまSMSを送信できません。"
    assert session.scalar(select(func.count()).select_from(CodeChallenge)) == 0


# --- through the pages ---------------------------------------------------------------
def test_throttled_page_is_429_and_says_when(client, newcomer, clock):
    from tests.auth.conftest import identity
    member = newcomer()
    client.post("/signup", data=identity(member))
    clock.shift(timedelta(seconds=20))
    response = client.post("/code/resend", data={"flow": "signup"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "40"
    assert "あと40秒お待ちください" in response.text
    again = client.post("/signup", data=identity(member))
    assert again.status_code == 429 and "あと40秒お待ちください" in again.text


def test_wrong_code_pages_count_down_and_lock(client, newcomer, clock, db_session):
    from tests.auth.conftest import identity
    member = newcomer()
    client.post("/signup", data=identity(member))
    assert "あと2回入力できます" in client.post("/signup/code", data={"code": "12345x"}).text
    assert "あと1回入力できます" in client.post("/signup/code", data={"code": "000000"}).text
    burned = client.post("/signup/code", data={"code": "999999"})
    assert "3回間違えた" in burned.text or "あと" not in burned.text
    db_session.expire_all()
    row = db_session.scalar(select(CodeChallenge))
    assert row.wrong_attempts == 3 and row.status in ("burned", "used")
