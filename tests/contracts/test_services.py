"""Cover per insured person for the demo household, computed by hand from
portal/contracts/catalogue.py (SOGO_TABLE etc.) and portal/seed/household.py."""
from __future__ import annotations

from datetime import date

import pytest
from werkzeug.exceptions import NotFound

from portal.contracts import services
from portal.contracts.catalogue import AGE_MAX


def _person(household, name):
    return next(p for p in household.people if p.person.name == name)


def _totals(person):
    return {kind: ("無制限" if line.is_unlimited else line.amount_yen) for kind, line in person.lines.items()}


TARO_COMMON = {
    # 住まいる共済: building 200口 + goods 100口 of 10万円; natural disaster 30% of the fire cover
    "fire_building": 20_000_000, "fire_goods": 10_000_000, "natural_disaster": 9_000_000,
    # マイカー共済
    "bodily_injury_liability": "無制限", "property_damage_liability": "無制限",
    "personal_injury": 30_000_000, "vehicle": 1_500_000,
    # ねんきん共済 1口
    "pension_yearly": 60_000,
}


def test_taro_before_his_60th_birthday(db_session, demo):
    household = services.household_summary(db_session, demo["taro"], date(2026, 12, 14))
    taro = _person(household, "山田 太郎")
    assert taro.age == 59
    assert _totals(taro) == {
        "death_traffic": 12_000_000, "death_accident": 8_000_000, "death_illness": 4_000_000,
        "hospital_traffic": 5_000, "hospital_accident": 3_000, "hospital_illness": 1_500, **TARO_COMMON,
    }
    assert len(taro.in_force) == 4 and not taro.not_in_force


def test_taro_on_his_60th_birthday_steps_down(db_session, demo):
    household = services.household_summary(db_session, demo["taro"], date(2026, 12, 15))
    taro = _person(household, "山田 太郎")
    assert taro.age == 60
    assert _totals(taro) == {
        "death_traffic": 10_000_000, "death_accident": 6_000_000, "death_illness": 3_000_000,
        "hospital_traffic": 5_000, "hospital_accident": 3_000, "hospital_illness": 1_500, **TARO_COMMON,
    }
    line = taro.line("death_illness")
    assert [(c.contract_no, a.amount_yen) for c, a in line.parts] == [("100000000101", 3_000_000)]


def test_rest_of_the_household(db_session, demo):
    household = services.household_summary(db_session, demo["taro"], date(2026, 12, 15))
    assert [p.person.name for p in household.people] == ["山田 太郎", "山田 花子", "山田 一郎", "山田 さくら"]
    hanako = _person(household, "山田 花子")
    assert hanako.age == 56
    assert _totals(hanako) == {
        "death_traffic": 500_000, "death_accident": 500_000, "death_illness": 500_000,
        "hospital_traffic": 10_000, "hospital_accident": 10_000, "hospital_illness": 10_000,
        "outpatient": 2_000, "surgery": 60_000, "advanced_care": 10_000_000,
    }
    ichiro, sakura = _person(household, "山田 一郎"), _person(household, "山田 さくら")
    assert (ichiro.age, sakura.age) == (14, 11)
    kodomo = {"hospital_traffic": 5_000, "hospital_accident": 5_000, "hospital_illness": 5_000,
              "support_per_day": 5_000, "fracture": 50_000, "surgery": 50_000, "outpatient": 2_000}
    assert _totals(ichiro) == kodomo and _totals(sakura) == kodomo
    # 1,800 + 2,300 + 1,200 × 2 + ねんきん 10,000 monthly; 住まいる 78,000 + マイカー 60,000 yearly
    assert household.monthly_premium_yen == 16_500
    assert household.yearly_premium_yen == 138_000
    assert _person(household, "山田 太郎").monthly_premium_yen == 11_800


def test_contract_starting_next_month_and_lapsed_contract_are_not_counted(db_session, demo, make_contract):
    taro_member = demo["taro"]
    db_session.refresh(taro_member)
    self_ = taro_member.insured_persons[0]
    upcoming = make_contract(taro_member, "KOKUMIN_IRYO", insured=self_, start=date(2027, 1, 1))
    lapsed = make_contract(taro_member, "KOKUMIN_SOGO", insured=self_, start=date(2012, 4, 1),
                           status="lapsed", end_date=date(2024, 4, 1))

    household = services.household_summary(db_session, taro_member, date(2026, 12, 15))
    taro = _person(household, "山田 太郎")
    assert taro.line("death_illness").amount_yen == 3_000_000       # not 3,000,000 × 2 + 500,000
    assert taro.line("hospital_illness").amount_yen == 1_500        # not + 10,000
    assert "surgery" not in taro.lines
    assert {c.contract_no for c in taro.not_in_force} == {upcoming.contract_no, lapsed.contract_no}
    assert taro.monthly_premium_yen == 11_800
    assert services.contract_state(upcoming, date(2026, 12, 15))[0] == "pending"
    assert services.contract_state(lapsed, date(2026, 12, 15)) == ("lapsed", "失効")

    # On its start date the new contract counts; the lapsed one never does again.
    household = services.household_summary(db_session, taro_member, date(2027, 1, 1))
    taro = _person(household, "山田 太郎")
    assert taro.line("death_illness").amount_yen == 3_500_000
    assert taro.line("hospital_illness").amount_yen == 11_500
    assert taro.line("surgery").amount_yen == 60_000
    assert [c.contract_no for c in taro.not_in_force] == [lapsed.contract_no]
    assert taro.monthly_premium_yen == 11_800 + 2_300


def test_coverage_totals_is_keyed_by_insured_person(db_session, demo):
    totals = services.coverage_totals(db_session, demo["taro"], date(2026, 12, 15))
    db_session.refresh(demo["taro"])
    taro_id = demo["taro"].insured_persons[0].id
    assert totals[taro_id]["death_illness"].amount_yen == 3_000_000
    assert totals[taro_id]["bodily_injury_liability"].is_unlimited


def test_next_band_and_end_of_cover(db_session, demo):
    from sqlalchemy import select

    from portal.contracts.models import Contract
    sogo = db_session.scalar(select(Contract).where(Contract.contract_no == "100000000101"))
    taro = sogo.insured_person
    band = services.next_band(sogo, taro, 59)
    assert (band.age, band.on) == (60, date(2026, 12, 15))
    assert services.by_kind(list(band.amounts))["death_illness"].amount_yen == 3_000_000
    assert services.next_band(sogo, taro, 60).age == 65
    assert services.next_band(sogo, taro, 80).age == 86 and services.next_band(sogo, taro, 80).ends
    assert services.coverage_for_age(sogo, 86) == []
    kodomo = db_session.scalar(select(Contract).where(Contract.contract_no == "100000000103"))
    end = services.next_band(kodomo, kodomo.insured_person, 14)
    assert end.ends and end.age == 18 and end.on == date(2030, 5, 5)
    mycar = db_session.scalar(select(Contract).where(Contract.contract_no == "100000000106"))
    assert services.next_band(mycar, taro, 59) is None
    assert max(r.age_to for r in mycar.coverages) == AGE_MAX


def test_birthday_at_leap_day():
    assert services.birthday_at(date(2000, 2, 29), 25) == date(2025, 3, 1)
    assert services.birthday_at(date(2000, 2, 29), 24) == date(2024, 2, 29)


def test_get_contract_or_404_refuses_another_members_number(db_session, demo):
    assert services.get_contract_or_404(db_session, demo["taro"], "100000000101").contract_no == "100000000101"
    with pytest.raises(NotFound):
        services.get_contract_or_404(db_session, demo["jiro"], "100000000101")
    with pytest.raises(NotFound):
        services.get_contract_or_404(db_session, demo["taro"], "200000000201")


def test_premium_history_gives_the_reason_and_the_change(db_session, demo):
    contract = services.get_contract_or_404(db_session, demo["taro"], "100000000101")
    history = services.premium_history(contract)
    assert [(s.effective_from, s.premium_yen, s.change_yen) for s in history] == [
        (date(2023, 4, 1), 1_800, 200), (date(2010, 4, 1), 1_600, None)]
    assert history[0].reason.startswith("制度改定")


def test_recent_payments_are_the_last_twelve_months(db_session, make_member, make_contract):
    from tests.contracts.helpers import tokyo
    member = make_member()
    with tokyo(2026, 11, 28):
        contract = make_contract(member, start=date(2020, 4, 1), payments=True)
        payments = services.recent_payments(db_session, contract, date(2026, 11, 28))
    assert len(payments) == 12
    assert payments[0].period == date(2026, 11, 1) and payments[-1].period == date(2025, 12, 1)
