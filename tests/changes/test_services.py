"""Contract changes: the money rules in exact yen, the office's completion, and
that the figures shown before confirming are the ones settled."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from portal.changes import completion, cover_end, services
from portal.changes.models import BeneficiaryDesignation, CoverEndNotice, ProxyClaimant
from portal.contracts.models import Contract, PremiumPayment
from portal.enrollment.models import Application
from portal.messaging.models import OutboxMessage
from portal.procedures import services as procedures


def _notices(db_session, member):
    return list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id)
                                   .order_by(OutboxMessage.id)))


# ----------------------------------------------------------------- 解約

def test_monthly_cancellation_up_to_the_10th_stops_this_months_debit(make_member, make_contract):
    member = make_member()
    contract = make_contract(member, "KOKUMIN_SOGO", premium_yen=1_800)
    quote = services.cancellation_quote(contract, date(2026, 12, 10))
    assert quote.cover_ends_on == date(2026, 12, 10)
    assert quote.last_debit_on == date(2026, 11, 27)  # November's debit, already taken
    assert (quote.last_debit_yen, quote.refund_yen) == (1_800, 0)


def test_monthly_cancellation_from_the_11th_keeps_this_months_debit(make_member, make_contract):
    member = make_member()
    contract = make_contract(member, "KOKUMIN_IRYO", premium_yen=2_300)
    quote = services.cancellation_quote(contract, date(2026, 12, 11))
    assert quote.cover_ends_on == date(2026, 12, 31)
    assert quote.last_debit_on == date(2026, 12, 28)  # the 27th is a Sunday
    assert (quote.last_debit_yen, quote.refund_yen) == (2_300, 0)


@pytest.mark.parametrize("premium, end, months, refund", [
    (15_590, date(2026, 12, 15), 3, 3_897),    # 15,590 × 3 / 12 = 3,897.5 → 3,897
    (15_590, date(2026, 12, 31), 3, 3_897),
    (15_590, date(2026, 11, 30), 4, 5_196),    # uncovered 1 Dec to 31 Mar: four whole months
    (15_590, date(2026, 12, 1), 3, 3_897),     # uncovered from 2 Dec: three
    (12_000, date(2027, 3, 31), 0, 0),         # the last day of the contract year
    (7_777, date(2026, 4, 1), 11, 7_128),      # covered on the first day only: 7,777 × 11 / 12 = 7,128.9…
])
def test_yearly_cancellation_refunds_whole_months_left(make_member, make_contract, premium, end, months, refund):
    member = make_member()
    contract = make_contract(member, "SUMAIRU", premium_yen=premium, start=date(2020, 4, 1))
    quote = services.cancellation_quote(contract, date(2026, 4, 1), end)
    assert (quote.months_refunded, quote.refund_yen) == (months, refund)
    assert quote.cover_ends_on == end


def test_yearly_cancellation_date_must_be_in_this_contract_year(make_member, make_contract):
    member = make_member()
    contract = make_contract(member, "SUMAIRU", premium_yen=12_000, start=date(2020, 4, 1))
    with pytest.raises(services.ChangeError) as error:
        services.cancellation_quote(contract, date(2026, 12, 1), date(2027, 4, 1))
    assert error.value.field == "end_date"
    with pytest.raises(services.ChangeError):
        services.cancellation_quote(contract, date(2026, 12, 1), date(2026, 11, 30))


def test_office_settles_the_refund_the_member_confirmed(db_session, make_member, make_contract):
    member = make_member()
    contract = make_contract(member, "SUMAIRU", premium_yen=15_590, start=date(2020, 4, 1))
    shown = services.cancellation_quote(contract, date(2026, 12, 1), date(2026, 12, 15))
    request = services.request_cancellation(db_session, member, contract, date(2026, 12, 1),
                                            requested_end=date(2026, 12, 15), reason="引っ越しのため",
                                            idempotency_key="cancel:t1")
    again = services.request_cancellation(db_session, member, contract, date(2026, 12, 1),
                                          requested_end=date(2026, 12, 15), reason="", idempotency_key="cancel:t1")
    assert again.id == request.id  # a double click creates one request
    # Even if the premium changed meanwhile, the office settles what the member saw.
    contract.premium_yen = 99_999
    db_session.flush()
    assert completion.money_of(request)["refund_yen"] == shown.refund_yen == 3_897
    result = completion.complete(db_session, request.receipt_no)
    assert "refund 3897 yen" in result
    assert (contract.status, contract.end_date) == ("ended", date(2026, 12, 16))
    assert not contract.is_in_force_on(date(2026, 12, 16)) and contract.is_in_force_on(date(2026, 12, 15))
    assert request.status == "completed"
    assert "解約返戻金 3,897円" in _notices(db_session, member)[-1].body
    with pytest.raises(services.ChangeError):
        completion.complete(db_session, request.receipt_no)  # not twice


def test_second_cancellation_of_the_same_contract_is_refused(db_session, make_member, make_contract):
    member = make_member()
    contract = make_contract(member, "KOKUMIN_SOGO")
    services.request_cancellation(db_session, member, contract, date(2026, 12, 1), requested_end=None, reason="",
                                  idempotency_key="cancel:a")
    with pytest.raises(services.ChangeError, match="すでに受け付けています"):
        services.request_cancellation(db_session, member, contract, date(2026, 12, 1), requested_end=None,
                                      reason="", idempotency_key="cancel:b")


# ----------------------------------------------------------------- cooling-off

def _online_application(db_session, member, contract, received: datetime):
    request = procedures.start(db_session, member, "enrollment", "こくみん共済 加入申込", status="approved")
    request.created_at = received
    application = Application(member_id=member.id, procedure_request_id=request.id,
                              insured_person_id=member.insured_persons[0].id, product_code="KOKUMIN_SOGO",
                              units=2, monthly_premium_yen=1_800, status="approved", contract_id=contract.id)
    db_session.add(application)
    db_session.flush()
    return application


def test_cooling_off_refunds_everything_paid_and_leaves_no_contract(db_session, make_member, make_contract):
    member = make_member()
    contract = make_contract(member, "KOKUMIN_SOGO", premium_yen=1_800, start=date(2026, 12, 1))
    db_session.add_all([PremiumPayment(contract_id=contract.id, period=date(2026, 12, 1), amount_yen=1_800,
                                       paid_on=date(2026, 12, 28), status="paid"),
                        PremiumPayment(contract_id=contract.id, period=date(2027, 1, 1), amount_yen=1_800,
                                       status="unpaid")])
    # received 1 Dec 2026 09:00 Tokyo; day 8 is 8 Dec
    application = _online_application(db_session, member, contract, datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc))
    quote = services.cooling_off_quote(db_session, member, application.id, date(2026, 12, 8))
    assert (quote.refund_yen, quote.last_day) == (1_800, date(2026, 12, 8))
    request = services.request_cooling_off(db_session, member, application.id, date(2026, 12, 8),
                                           idempotency_key="co:1")
    assert completion.money_of(request)["refund_yen"] == 1_800
    completion.complete(db_session, request.receipt_no)
    assert db_session.get(Contract, contract.id) is None
    assert application.status == "withdrawn" and application.contract_id is None
    assert "1,800円を全額ご返金" in _notices(db_session, member)[-1].body


def test_cooling_off_closes_after_8_days(db_session, make_member, make_contract):
    member = make_member()
    contract = make_contract(member, "KOKUMIN_SOGO", start=date(2026, 12, 1))
    application = _online_application(db_session, member, contract, datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc))
    with pytest.raises(services.ChangeError, match="8日間"):
        services.cooling_off_quote(db_session, member, application.id, date(2026, 12, 9))


# ----------------------------------------------------------------- 脱退

def test_withdrawal_only_without_contracts_in_force(db_session, make_member, make_contract):
    member = make_member(shares=12)
    contract = make_contract(member, "KOKUMIN_SOGO")
    with pytest.raises(services.ChangeError, match="有効なご契約"):
        services.withdrawal_quote(db_session, member, date(2026, 12, 1))
    contract.status, contract.end_date = "ended", date(2026, 11, 1)
    db_session.flush()
    quote = services.withdrawal_quote(db_session, member, date(2026, 12, 1))
    assert quote.refund_yen == 1_200
    assert quote.business_year_ends_on == date(2027, 5, 31)
    assert quote.refund_on == date(2027, 6, 30)
    request = services.request_withdrawal(db_session, member, date(2026, 12, 1), idempotency_key="w:1")
    assert completion.money_of(request)["refund_yen"] == 1_200
    completion.complete(db_session, request.receipt_no)
    assert member.status == "withdrawn"


# ----------------------------------------------------------------- 受取人・代理請求人・氏名

def test_beneficiary_needs_the_insured_persons_consent(db_session, make_member, make_contract):
    member = make_member(household=True)
    spouse = member.insured_persons[1]
    contract = make_contract(member, "KOKUMIN_IRYO", insured=spouse)
    data = services.PersonInput("山田　次郎", "やまだ じろう", "sibling")
    with pytest.raises(services.ChangeError) as error:
        services.request_beneficiary_change(db_session, member, contract, data, consent_name=member.name,
                                            consented=True, idempotency_key="b:1")
    assert error.value.field == "consent_name"  # the member is not the insured person
    with pytest.raises(services.ChangeError) as error:
        services.request_beneficiary_change(db_session, member, contract, data, consent_name=spouse.name,
                                            consented=False, idempotency_key="b:1")
    assert error.value.field == "consent"
    assert services.current_beneficiary(db_session, contract) is None
    request = services.request_beneficiary_change(db_session, member, contract, data, consent_name=spouse.name,
                                                  consented=True, idempotency_key="b:1")
    completion.complete(db_session, request.receipt_no)
    active = services.current_beneficiary(db_session, contract)
    assert (active.name, active.name_kana, active.relation) == ("山田 次郎", "ヤマダ ジロウ", "sibling")


def test_no_beneficiary_on_a_contract_without_death_benefit(db_session, make_member, make_contract):
    member = make_member()
    contract = make_contract(member, "SUMAIRU", premium_yen=12_000)
    with pytest.raises(services.ChangeError, match="死亡共済金がありません"):
        services.check_beneficiary(db_session, contract, services.PersonInput("a", "ア", "spouse"))


def test_proxy_claimant_rules(db_session, make_member):
    member = make_member()
    on = date(2026, 12, 1)
    args = dict(birth_date=date(1990, 1, 1), phone="０９０－１２３４－５６７８", on=on)
    with pytest.raises(services.ChangeError) as error:
        services.request_proxy_claimant(db_session, member, services.PersonInput("甥 太郎", "オイ タロウ", "relative3"),
                                        lives_with_member=False, idempotency_key="p:1", **args)
    assert error.value.field == "lives_with_member"
    with pytest.raises(services.ChangeError) as error:
        services.request_proxy_claimant(db_session, member, services.PersonInput("子 太郎", "コ タロウ", "child"),
                                        lives_with_member=False, idempotency_key="p:1",
                                        **{**args, "birth_date": date(2010, 1, 1)})
    assert error.value.field == "birth_date"
    request = services.request_proxy_claimant(db_session, member, services.PersonInput("山田 花子", "ヤマダ ハナコ", "spouse"),
                                              lives_with_member=False, idempotency_key="p:1", **args)
    completion.complete(db_session, request.receipt_no)
    proxy = services.current_proxy(db_session, member)
    assert (proxy.name, proxy.phone) == ("山田 花子", "09012345678")


def _jpeg_with_gps() -> bytes:
    from io import BytesIO

    from PIL import Image
    image = Image.new("RGB", (40, 30), "white")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (35.0, 40.0, 0.0)}  # GPS IFD
    out = BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_name_change_document_is_private_and_stripped(app, db_session, make_member):
    from portal.gateways.storage import storage

    member = make_member()
    original = _jpeg_with_gps()
    assert b"Exif" in original
    with app.app_context():
        key, content_type = services.store_document(original)
        assert key.startswith("private/procedures/name-change/") and content_type == "image/jpeg"
        assert b"Exif" not in storage().open(key)
        with pytest.raises(services.ChangeError) as error:
            services.store_document(b"<html><script>alert(1)</script>")
        assert error.value.field == "document"
        request = services.request_name_change(db_session, member, new_name="佐藤　花子", new_name_kana="さとう はなこ",
                                               reason="marriage", document_key=key, content_type=content_type,
                                               idempotency_key="n:1")
        assert request.status == "checking_documents"
        assert member.name != "佐藤 花子"  # not before staff have checked it
        completion.complete(db_session, request.receipt_no)
    assert (member.name, member.name_kana) == ("佐藤 花子", "サトウ ハナコ")
    assert member.insured_persons[0].name == "佐藤 花子"


# ----------------------------------------------------------------- cover end

def kodomo_ending_march_2027(db_session, make_member, make_contract):
    """A こども保障 of a child born 20 Jan 2009, renewing each 1 April: cover ends 31 Mar 2027."""
    from portal.members.models import InsuredPerson

    member = make_member()
    child = InsuredPerson(member_id=member.id, relation="child", name="試験 一郎", name_kana="シケン イチロウ",
                          birth_date=date(2009, 1, 20), sex="male")
    db_session.add(child)
    db_session.flush()
    return member, make_contract(member, "KOKUMIN_KODOMO", insured=child, start=date(2012, 4, 1), units=1)


def test_kodomo_cover_ends_at_the_renewal_after_the_18th_birthday(db_session, make_member, make_contract):
    member, contract = kodomo_ending_march_2027(db_session, make_member, make_contract)
    end = cover_end.cover_end(contract)
    assert end.last_day == date(2027, 3, 31) and end.offers_adult_plan
    assert cover_end.send_cover_end_notices(db_session, date(2027, 1, 29)) == 0  # 61 days before
    assert cover_end.send_cover_end_notices(db_session, date(2027, 1, 30)) == 1  # 60 days before
    assert cover_end.send_cover_end_notices(db_session, date(2027, 1, 31)) == 0  # once only
    body = _notices(db_session, member)[-1].body
    assert "2027年3月31日で保障期間が満了" in body and "大人向けのこくみん共済" in body
    assert db_session.scalar(select(CoverEndNotice.cover_ends_on)) == date(2027, 3, 31)


def test_sogo_cover_ends_at_85(make_member, make_contract):
    member = make_member(birth_date=date(1950, 6, 10))
    contract = make_contract(member, "KOKUMIN_SOGO", start=date(2000, 4, 1))
    end = cover_end.cover_end(contract)
    assert end.last_day == date(2036, 3, 31) and not end.offers_adult_plan
    assert cover_end.cover_end(make_contract(member, "SUMAIRU", premium_yen=1)) is None


_ = (BeneficiaryDesignation, ProxyClaimant)
