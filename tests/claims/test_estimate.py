"""The estimate at every edge, in exact yen."""
from __future__ import annotations

from datetime import date, timedelta

from portal.claims.estimate import Event, claim_deadline, estimate

TODAY = date(2026, 11, 30)


def _person(member):
    return member.insured_persons[0]


def _lines(result):
    return [(line.contract.product.code, line.kind, line.days, line.unit_yen, line.amount_yen) for line in result.lines]


def test_age_band_of_the_first_day_applies_to_the_whole_stay(make_member, make_contract):
    member = make_member(birth_date=date(1961, 6, 10))  # turns 65 on 2026-06-10
    contract = make_contract(member, "KOKUMIN_SOGO", start=date(2010, 4, 1))
    stay = Event(cause="illness", first_day=date(2026, 6, 5), hospital_from=date(2026, 6, 5),
                 hospital_to=date(2026, 6, 14))
    result = estimate(_person(member), [contract], stay, today=TODAY)
    assert result.age == 64
    assert _lines(result) == [("KOKUMIN_SOGO", "hospital", 10, 1_500, 15_000)]
    later = Event(cause="illness", first_day=date(2026, 6, 10), hospital_from=date(2026, 6, 10),
                  hospital_to=date(2026, 6, 14))
    result = estimate(_person(member), [contract], later, today=TODAY)
    assert result.age == 65
    assert _lines(result) == [("KOKUMIN_SOGO", "hospital", 5, 1_000, 5_000)]


def test_hospital_stay_is_limited_to_180_days(make_member, make_contract):
    member = make_member(birth_date=date(1980, 1, 1))
    contract = make_contract(member, "KOKUMIN_IRYO", start=date(2020, 1, 1))
    event = Event(cause="illness", first_day=date(2025, 1, 1), hospital_from=date(2025, 1, 1),
                  hospital_to=date(2025, 7, 31))  # 212 days, both ends counted
    result = estimate(_person(member), [contract], event, today=TODAY)
    assert _lines(result) == [("KOKUMIN_IRYO", "hospital", 180, 10_000, 1_800_000)]
    assert "180日限度" in result.lines[0].note and "入院212日" in result.lines[0].note
    exactly = Event(cause="illness", first_day=date(2025, 1, 1), hospital_from=date(2025, 1, 1),
                    hospital_to=date(2025, 6, 29))  # 180 days
    assert estimate(_person(member), [contract], exactly, today=TODAY).total_yen == 1_800_000


def test_outpatient_days_are_limited_to_90_an_event(make_member, make_contract):
    member = make_member(birth_date=date(1980, 1, 1))
    contract = make_contract(member, "KOKUMIN_IRYO", start=date(2020, 1, 1))
    days = tuple(date(2025, 1, 1) + timedelta(days=i) for i in range(100))
    event = Event(cause="illness", first_day=days[0], outpatient_dates=days)
    result = estimate(_person(member), [contract], event, today=TODAY)
    assert _lines(result) == [("KOKUMIN_IRYO", "outpatient", 90, 2_000, 180_000)]
    ninety = Event(cause="illness", first_day=days[0], outpatient_dates=days[:90])
    assert estimate(_person(member), [contract], ninety, today=TODAY).total_yen == 180_000
    assert estimate(_person(member), [contract], Event(cause="illness", first_day=days[0],
                                                       outpatient_dates=days[:89]), today=TODAY).total_yen == 178_000


def test_three_year_limit_from_the_day_after_the_event_ends(make_member, make_contract):
    member = make_member(birth_date=date(1980, 1, 1))
    contract = make_contract(member, "KOKUMIN_IRYO", start=date(2020, 1, 1))
    event = Event(cause="accident", first_day=date(2023, 3, 1), hospital_from=date(2023, 3, 1),
                  hospital_to=date(2023, 3, 10))
    assert claim_deadline(event.last_day) == date(2026, 3, 10)
    assert estimate(_person(member), [contract], event, today=date(2026, 3, 10)).total_yen == 100_000
    late = estimate(_person(member), [contract], event, today=date(2026, 3, 11))
    assert late.total_yen == 0 and late.lines == []
    assert late.reasons == ["請求期限（2026年3月10日）を過ぎているため、お支払いの対象になりません。"]
    assert claim_deadline(date(2024, 2, 29)) == date(2027, 2, 28)


def test_no_cover_on_the_first_day(make_member, make_contract):
    member = make_member(birth_date=date(1980, 1, 1))
    contract = make_contract(member, "KOKUMIN_IRYO", start=date(2024, 4, 1))
    before = Event(cause="illness", first_day=date(2024, 3, 31), hospital_from=date(2024, 3, 31),
                   hospital_to=date(2024, 4, 5))
    result = estimate(_person(member), [contract], before, today=TODAY)
    assert result.total_yen == 0 and not result.is_payable
    assert "2024年3月31日" in result.reasons[0] and "有効なご契約がありません" in result.reasons[0]
    ended = make_contract(make_member(birth_date=date(1980, 1, 1)), "KOKUMIN_IRYO", start=date(2018, 1, 1),
                          status="ended", end_date=date(2024, 1, 1))
    after = Event(cause="illness", first_day=date(2024, 1, 1), hospital_from=date(2024, 1, 1),
                  hospital_to=date(2024, 1, 3))
    assert estimate(ended.insured_person, [ended], after, today=TODAY).total_yen == 0


def test_several_contracts_pay_for_one_event(make_member, make_contract):
    member = make_member(birth_date=date(1980, 1, 1))
    sogo = make_contract(member, "KOKUMIN_SOGO", start=date(2015, 1, 1))
    iryo = make_contract(member, "KOKUMIN_IRYO", start=date(2018, 1, 1))
    event = Event(cause="accident", first_day=date(2026, 10, 1), hospital_from=date(2026, 10, 1),
                  hospital_to=date(2026, 10, 10), surgery_date=date(2026, 10, 2))
    result = estimate(_person(member), [sogo, iryo], event, today=TODAY)
    assert sorted(_lines(result)) == sorted([
        ("KOKUMIN_SOGO", "hospital", 10, 3_000, 30_000),
        ("KOKUMIN_IRYO", "hospital", 10, 10_000, 100_000),
        ("KOKUMIN_IRYO", "surgery", None, 60_000, 60_000),
    ])
    assert result.total_yen == 190_000 and result.needs_certificate
    assert result.reasons == []


def test_kodomo_rules(make_member, make_contract):
    member = make_member(birth_date=date(1980, 1, 1), household=True)
    from portal.members.models import InsuredPerson
    child = InsuredPerson(member_id=member.id, relation="child", name="試験 子", name_kana="シケン コ",
                          birth_date=date(2015, 8, 20), sex="female")
    member.insured_persons.append(child)
    contract = make_contract(member, "KOKUMIN_KODOMO", insured=child, start=date(2015, 10, 1), units=1)
    injury = Event(cause="accident", first_day=date(2026, 9, 1), hospital_from=date(2026, 9, 1),
                   hospital_to=date(2026, 9, 5), outpatient_dates=(date(2026, 9, 8), date(2026, 9, 9),
                                                                   date(2026, 9, 10)),
                   surgery_date=date(2026, 9, 8), is_surgery_in_hospital=False, fracture=True)
    result = estimate(child, [contract], injury, today=TODAY)
    assert sorted(_lines(result)) == sorted([
        ("KOKUMIN_KODOMO", "hospital", 5, 5_000, 25_000),
        ("KOKUMIN_KODOMO", "support", 5, 5_000, 25_000),
        ("KOKUMIN_KODOMO", "outpatient", 3, 2_000, 6_000),
        ("KOKUMIN_KODOMO", "surgery", None, 25_000, 25_000),
        ("KOKUMIN_KODOMO", "fracture", None, 50_000, 50_000),
    ])
    assert result.total_yen == 131_000
    illness = Event(cause="illness", first_day=date(2026, 9, 1), outpatient_dates=(date(2026, 9, 1),))
    result = estimate(child, [contract], illness, today=TODAY)
    assert result.total_yen == 0
    assert result.reasons == ["通院は、ご契約の内容により病気の場合は対象になりません。"]


def test_advanced_care_pays_the_fee_up_to_the_cover(make_member, make_contract):
    member = make_member(birth_date=date(1980, 1, 1))
    contract = make_contract(member, "KOKUMIN_IRYO", start=date(2020, 1, 1))
    event = Event(cause="illness", first_day=date(2026, 5, 1), advanced_care_fee_yen=12_345_678)
    assert estimate(_person(member), [contract], event, today=TODAY).total_yen == 10_000_000
    event = Event(cause="illness", first_day=date(2026, 5, 1), advanced_care_fee_yen=2_987_654)
    assert estimate(_person(member), [contract], event, today=TODAY).total_yen == 2_987_654


def test_benefit_without_cover_is_explained(make_member, make_contract):
    member = make_member(birth_date=date(1980, 1, 1))
    sogo = make_contract(member, "KOKUMIN_SOGO", start=date(2015, 1, 1))
    event = Event(cause="illness", first_day=date(2026, 10, 1), surgery_date=date(2026, 10, 1))
    result = estimate(_person(member), [sogo], event, today=TODAY)
    assert result.total_yen == 0
    assert result.reasons == ["手術の保障があるご契約がないため、手術はお支払いの対象になりません。"]
