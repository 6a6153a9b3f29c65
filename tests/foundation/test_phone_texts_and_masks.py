"""One sender name on every SMS and voice call, and one way of masking numbers."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

import portal
from portal.jp.masking import mask_account, mask_digits
from portal.jp.phone import mask_phone
from portal.messaging.services import CO_OP_SHORT_NAME, SMS_PREFIX, VOICE_OPENING

ROOT = Path(portal.__file__).resolve().parent


def _sent(db_session, channel):
    from portal.gateways.models import DevOutboxEntry
    return db_session.scalars(select(DevOutboxEntry).where(DevOutboxEntry.channel == channel)
                              .order_by(DevOutboxEntry.id.desc())).first().body


@pytest.mark.parametrize("subject", ["【受付】住所変更", "お知らせ", None])
def test_notices_by_sms_and_voice_start_with_the_co_op_name_once(app, db_session, make_member, subject):
    from portal.messaging.services import queue_notice, send_now

    member = make_member()
    with app.app_context():
        for channel in ("sms", "voice"):
            send_now(queue_notice(db_session, member, subject, "住所変更を受け付けました。", channel=channel))
        db_session.flush()
        sms, voice = _sent(db_session, "sms"), _sent(db_session, "voice")
    assert sms.startswith(SMS_PREFIX) and sms.count(CO_OP_SHORT_NAME) == 1 and sms.count("【") == 1
    assert voice.startswith(VOICE_OPENING) and voice.count(CO_OP_SHORT_NAME) == 1 and "【" not in voice
    assert voice.endswith("住所変更を受け付けました。")
    if subject == "【受付】住所変更":
        assert sms.startswith("【みらい共済生協】受付：住所変更\n")
        assert voice.startswith("みらい共済生協です。受付、住所変更。")


def test_codes_by_sms_and_voice_start_with_the_co_op_name_once():
    from portal.auth.codes import sms_text, voice_text

    for purpose in ("signup", "login"):
        sms, voice = sms_text("482915", purpose), voice_text("482915", purpose)
        assert sms.startswith(SMS_PREFIX) and sms.count(CO_OP_SHORT_NAME) == 1
        assert voice.startswith(VOICE_OPENING) and voice.count(CO_OP_SHORT_NAME) == 1


def test_the_sender_name_is_written_in_one_place():
    """Senders use the constants; no other module spells the SMS prefix or the voice opening."""
    spelt = [f"{path.relative_to(ROOT.parent)}:{n}" for path in ROOT.rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if f"【{CO_OP_SHORT_NAME}】" in line or f"{CO_OP_SHORT_NAME}です" in line]
    assert spelt == [], spelt


def test_masks():
    assert mask_digits("1234567") == "***4567"
    assert mask_digits("A-2020-000123") == "*********0123"
    assert mask_digits("123") == "123"
    assert mask_phone("09012340002") == "090-****-0002"
    assert mask_phone("12345678") == "****5678"  # not a valid number: still only the last four
    assert mask_account("みずほ銀行", "本店", "普通", "1234567") == "みずほ銀行 本店 普通 ***4567"


def test_numbers_are_masked_only_through_portal_jp():
    """No hand-written star masks outside portal/jp: stars glued to a slice of a
    number, or stars multiplied by a length."""
    pattern = re.compile(r"""\*\*\*\{|["']\*["']\s*\*\s*\(?len\(""")
    found = [f"{path.relative_to(ROOT.parent)}:{n}" for path in ROOT.rglob("*.py") if path.parent.name != "jp"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert found == [], found


def test_masked_accounts_and_contract_numbers(db_session, demo):
    from portal.contracts.models import Contract
    from portal.members.models import DebitAccount

    account = db_session.scalars(select(DebitAccount).where(DebitAccount.member_id == demo["taro"].id)).first()
    assert account.masked.endswith(f" ***{account.account_number[-4:]}")
    assert account.account_number not in account.masked
    contract = db_session.scalars(select(Contract).where(Contract.member_id == demo["taro"].id)).first()
    assert contract.masked_no == mask_digits(contract.contract_no) != contract.contract_no
