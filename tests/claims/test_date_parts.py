"""The claim's dates are typed as 年・月・日 boxes (the same field as every other form),
full-width digits read, an impossible date said once next to its boxes and kept as typed;
outpatient days are a list of such rows, one more added at a time."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from portal.claims.models import Claim
from tests.claims.helpers import jpeg
from tests.claims.test_flow import _draft, insured_member  # noqa: F401 - the fixture is used by name


def _step2(client, member, benefits):
    person = member.insured_persons[0]
    page = client.post("/claims/new", data={"person_id": str(person.id), "benefits": benefits, "cause": "illness"})
    assert page.status_code == 200 and "日付と病院" in page.text
    return page


def _parts(name: str, year: str, month: str, day: str) -> dict[str, str]:
    return {f"{name}-year": year, f"{name}-month": month, f"{name}-day": day}


def test_dates_are_year_month_day_boxes_and_full_width_digits_count(insured_member, member_client):
    step2 = _step2(member_client, insured_member, ["hospital", "surgery"])
    for name in ("hospital_from", "hospital_to", "surgery_date"):
        for part in ("year", "month", "day"):
            assert f'name="{name}-{part}"' in step2.text
    assert 'type="date"' not in step2.text
    step3 = member_client.post("/claims/new/details", data={
        "draft": _draft(step2.text), **_parts("hospital_from", "２０２６", "１１", "１"),
        **_parts("hospital_to", "2026", "11", "10"), **_parts("surgery_date", "２０２６", "11", "２"),
        "surgery_name": "腹腔鏡下胆嚢摘出術", "surgery_in_hospital": "yes", "hospital_name": "渋谷中央病院"})
    assert step3.status_code == 200 and "お支払い見込額" in step3.text, step3.text
    # 10 days × (10,000 + 1,500) + surgery 60,000, as when the dates were typed whole.
    assert '<strong id="estimate-total">175,000円</strong>' in step3.text


def test_an_impossible_date_is_said_once_and_kept_as_typed(insured_member, member_client):
    step2 = _step2(member_client, insured_member, ["hospital"])
    bad = member_client.post("/claims/new/details", data={
        "draft": _draft(step2.text), **_parts("hospital_from", "2026", "２", "30"),
        **_parts("hospital_to", "2026", "11", "10"), "hospital_name": "渋谷中央病院"})
    assert bad.status_code == 200 and "お支払い見込額" not in bad.text
    assert "入院日を正しく入力してください（例：2026年11月30日）" in bad.text
    assert "入院日を入力してください" not in bad.text  # not a second message for the same boxes
    assert 'id="hospital_from-month" name="hospital_from-month" value="2"' in bad.text
    assert 'id="hospital_from-day" name="hospital_from-day" value="30"' in bad.text
    assert 'value="10"' in bad.text and 'value="渋谷中央病院"' in bad.text
    # Corrected, the same draft goes on.
    good = member_client.post("/claims/new/details", data={
        "draft": _draft(bad.text), **_parts("hospital_from", "2026", "11", "3"),
        **_parts("hospital_to", "2026", "11", "10"), "hospital_name": "渋谷中央病院"})
    assert "お支払い見込額" in good.text


def test_outpatient_days_are_rows_and_one_more_keeps_year_and_month(insured_member, member_client, db_session):
    step2 = _step2(member_client, insured_member, ["outpatient"])
    for row in range(3):
        assert f'name="outpatient_dates-{row}-day"' in step2.text
    assert 'name="outpatient_dates-3-day"' not in step2.text
    typed = {**_parts("outpatient_dates-0", "2026", "11", "2"), **_parts("outpatient_dates-1", "2026", "11", "9"),
             **_parts("outpatient_dates-2", "２０２６", "１１", "１６"), "hospital_name": "代々木クリニック"}
    more = member_client.post("/claims/new/details", data={"draft": _draft(step2.text), **typed, "add_day": "1"})
    assert more.status_code == 200 and "お支払い見込額" not in more.text
    assert 'id="outpatient_dates-3-year" name="outpatient_dates-3-year" value="2026"' in more.text
    assert 'id="outpatient_dates-3-month" name="outpatient_dates-3-month" value="11"' in more.text
    assert 'id="outpatient_dates-3-day" name="outpatient_dates-3-day" value=""' in more.text
    assert 'name="outpatient_dates-2-day" value="16"' in more.text and 'value="代々木クリニック"' in more.text
    step3 = member_client.post("/claims/new/details", data={
        "draft": _draft(more.text), **typed, **_parts("outpatient_dates-3", "2026", "11", "20"),
        **_parts("outpatient_dates-4", "2026", "11", "")})  # a row added and left: not counted, no error
    assert "4日 × 2,000円" in step3.text, step3.text
    step4 = member_client.post("/claims/new/documents", data={
        "draft": _draft(step3.text), "payee": "debit", "files": [(io.BytesIO(jpeg()), "receipt.jpg")]},
        content_type="multipart/form-data")
    member_client.post("/claims/new/submit", data={"draft": _draft(step4.text)})
    claim = db_session.scalar(select(Claim).where(Claim.member_id == insured_member.id))
    assert claim.outpatient_dates == "2026-11-02,2026-11-09,2026-11-16,2026-11-20"


def test_no_outpatient_day_typed_is_said_above_the_rows(insured_member, member_client):
    step2 = _step2(member_client, insured_member, ["outpatient"])
    empty = member_client.post("/claims/new/details", data={"draft": _draft(step2.text), "hospital_name": "医院"})
    assert 'id="outpatient_dates-error"' in empty.text and "通院した日を入力してください。" in empty.text
    one_bad = member_client.post("/claims/new/details", data={
        "draft": _draft(step2.text), **_parts("outpatient_dates-0", "2026", "13", "1"), "hospital_name": "医院"})
    assert "通院日を正しく入力してください" in one_bad.text
    assert 'id="outpatient_dates-error"' not in one_bad.text


def test_damage_day_is_year_month_day_boxes(member_client, make_contract, db_session):
    from datetime import date

    member = member_client.member
    contract = make_contract(member, "SUMAIRU", start=date(2016, 9, 1), units=300,
                             coverage_kwargs={"building_units": 200, "goods_units": 100},
                             property_address="東京都渋谷区代々木1-2-3", property_structure="wooden")
    page = member_client.get("/claims/damage/new")
    assert 'name="day-year"' in page.text
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page.text).group(1)
    data = {"form_token": token, "contract_no": contract.contract_no, "cause": "storm",
            "description": "台風で屋根瓦が飛び雨漏り"}
    bad = member_client.post("/claims/damage/new", data={**data, **_parts("day", "2026", "9", "31")})
    assert "損害が起きた日を正しく入力してください" in bad.text and 'name="day-day" value="31"' in bad.text
    sent = member_client.post("/claims/damage/new", data={**data, **_parts("day", "２０２６", "９", "５"),
                                                          "files": [(io.BytesIO(jpeg()), "roof.jpg")]},
                              content_type="multipart/form-data")
    assert sent.status_code == 302, sent.text
    claim = db_session.scalar(select(Claim).where(Claim.member_id == member.id))
    assert claim.first_day == date(2026, 9, 5)
