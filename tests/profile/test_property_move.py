"""The 住まいる共済 move: the moving date and the new building's structure are asked, the
property moves on that date (at once when it has come, otherwise by the scheduled job),
and the office's re-rating counts from the moving date with the member's structure."""
from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import select

from portal.clock import TOKYO
from portal.procedures.models import ProcedureRequest
from tests.profile.conftest import sign_in_member_directly
from tests.profile.helpers import audit_rows, hidden, outbox_for, requests_of

NEW = {"postal_code": "151-0053", "prefecture": "", "city": "", "street": "代々木4-5-6", "building": ""}
# Tuesday 1 December 2026, 10:00 in Tokyo.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO)


@pytest.fixture
def home(member_client, make_contract):
    from portal.contracts.catalogue import sumairu_premiums

    member = member_client.member
    total, earthquake = sumairu_premiums("wooden", 300)
    return make_contract(member, "SUMAIRU", start=date(2016, 9, 1), premium_yen=total, units=300,
                         deductible_yen=earthquake, property_postal_code=member.postal_code,
                         property_address=member.address, property_structure="wooden",
                         coverage_kwargs={"building_units": 200, "goods_units": 100})


def _page(client):
    page = client.get("/profile/address")
    assert page.status_code == 200
    return page, {"form_token": hidden(page.text, "form_token"), "version": hidden(page.text, "version")}


def _moving(day: str, month: str, year: str = "２０２６", structure: str = "steel") -> dict[str, str]:
    return {"property_moved": "yes", "moved_on-year": year, "moved_on-month": month, "moved_on-day": day,
            "structure": structure}


def _rerating(db_session, member) -> list[ProcedureRequest]:
    return requests_of(db_session, member, "property_rerating")


def test_the_form_asks_the_moving_date_and_structure_next_to_the_move(member_client, home):
    page, _token = _page(member_client)
    assert "転居日（建物・家財が新しいご住所に移る日）" in page.text
    assert 'name="moved_on-year"' in page.text and 'name="moved_on-day"' in page.text
    for value, label in (("wooden", "木造"), ("steel", "鉄骨"), ("mansion", "マンション")):
        assert f'value="{value}"' in page.text and label in page.text


def test_a_move_without_date_or_structure_is_refused_next_to_each_field(member_client, db_session, home):
    with time_machine.travel(NOW, tick=False):
        sign_in_member_directly(member_client, db_session, member_client.member)
        _page_, form = _page(member_client)
        data = {**form, **NEW, "property_moved": "yes", "action": "confirm"}
        page = member_client.post("/profile/address", data=data)
    assert page.status_code == 200
    assert 'id="moved_on-error"' in page.text and "転居日（建物・家財が新しいご住所に移る日）を入力してください" in page.text
    assert 'id="structure-error"' in page.text and "新しい建物の構造を選んでください" in page.text
    assert 'value="代々木4-5-6"' in page.text  # what was typed stays
    assert requests_of(db_session, member_client.member) == []


@pytest.mark.parametrize("fields,message", [
    (_moving("１", "２", "２０２６"), "転居日は2026年9月1日から2027年3月1日までの日付で入力してください"),
    (_moving("２", "３", "２０２７"), "転居日は2026年9月1日から2027年3月1日までの日付で入力してください"),
    (_moving("３１", "２", "２０２７"), "転居日を正しく入力してください"),
])
def test_a_moving_date_outside_the_window_or_impossible_is_refused(member_client, db_session, home, fields,
                                                                   message):
    with time_machine.travel(NOW, tick=False):
        sign_in_member_directly(member_client, db_session, member_client.member)
        _page_, form = _page(member_client)
        page = member_client.post("/profile/address", data={**form, **NEW, **fields, "action": "confirm"})
    assert 'id="moved_on-error"' in page.text and message in page.text
    typed_day = unicodedata.normalize("NFKC", fields["moved_on-day"])
    assert f'name="moved_on-day" value="{typed_day}"' in page.text  # kept as typed


def test_a_future_move_waits_for_its_date_then_the_job_moves_the_property(app, member_client, db_session, home):
    member = member_client.member
    with time_machine.travel(NOW, tick=False):
        sign_in_member_directly(member_client, db_session, member)
        _page_, form = _page(member_client)
        data = {**form, **NEW, **_moving("２０", "１２"), "action": "confirm"}  # full-width digits
        confirm = member_client.post("/profile/address", data=data)
        assert "2026年12月20日" in confirm.text and "この日に所在地と構造が変わります" in confirm.text
        assert "鉄骨" in confirm.text
        save = member_client.post("/profile/address", data={
            **form, **NEW, "property_moved": "yes", "moved_on": hidden(confirm.text, "moved_on"),
            "structure": hidden(confirm.text, "structure"), "action": "save"})
        assert save.status_code == 302
        shown = member_client.get(save.headers["Location"])
        assert "2026年12月20日の転居日に新しい所在地・構造（鉄骨）に変わり" in shown.text
        assert "お手続き中・反映待ちの変更が" in member_client.get("/profile").text
        contract_page = member_client.get(f"/contracts/{home.contract_no}").text
        assert 'id="pending-move"' in contract_page and "2026年12月20日" in contract_page
        assert "〒151-0053 東京都渋谷区代々木4-5-6、建物の構造は鉄骨になります" in contract_page
    db_session.expire_all()
    assert member.street == "代々木4-5-6"  # the member's own address changes at once…
    assert home.property_address == "東京都千代田区千代田1-1" and home.property_structure == "wooden"  # …not the property
    assert home.needs_rerating is False and _rerating(db_session, member) == []
    [request] = requests_of(db_session, member, "address_change")
    assert json.loads(request.detail)["move_pending"] is True
    assert "転居日の2026年12月20日に変わります" in outbox_for(db_session, member)[-1].body

    runner = app.test_cli_runner()
    with time_machine.travel(datetime(2026, 12, 19, 23, 59, tzinfo=TOKYO), tick=False):
        assert runner.invoke(args=["apply-property-moves"]).output.strip() == "apply-property-moves: 0 move(s)"
    db_session.expire_all()
    assert home.property_structure == "wooden"
    with time_machine.travel(datetime(2026, 12, 20, 0, 5, tzinfo=TOKYO), tick=False):
        result = runner.invoke(args=["apply-property-moves"])
        assert result.exit_code == 0 and "1 move(s)" in result.output, result.output
        again = runner.invoke(args=["apply-property-moves"])
        assert "0 move(s)" in again.output  # done once
    db_session.expire_all()
    assert home.property_address == "東京都渋谷区代々木4-5-6" and home.property_postal_code == "1510053"
    assert home.property_structure == "steel" and home.needs_rerating is True
    with time_machine.travel(datetime(2026, 12, 20, 9, 0, tzinfo=TOKYO), tick=False):
        sign_in_member_directly(member_client, db_session, member)
        assert 'id="pending-move"' not in member_client.get(f"/contracts/{home.contract_no}").text
    [rerating] = _rerating(db_session, member)
    assert rerating.effective_date == date(2026, 12, 20) and rerating.status == "received"
    assert json.loads(rerating.detail)["structure_before"] == "wooden"
    assert json.loads(request.detail)["move_pending"] is False
    assert "所在地と建物の構造（鉄骨）を変更しました" in request.events[-1].note
    assert "所在地と建物の構造（鉄骨）を変更しました" in outbox_for(db_session, member)[-1].body
    [row] = audit_rows(db_session, "profile.property_move_applied")
    assert json.loads(row.detail)["contracts"] == [home.contract_no] and row.actor_type == "system"


def test_a_move_on_or_before_today_moves_the_property_at_once(member_client, db_session, home):
    member = member_client.member
    with time_machine.travel(NOW, tick=False):
        sign_in_member_directly(member_client, db_session, member)
        _page_, form = _page(member_client)
        save = member_client.post("/profile/address", data={**form, **NEW, **_moving("２８", "１１", structure="mansion"),
                                                             "action": "save"})
        assert save.status_code == 302
    db_session.expire_all()
    assert home.property_address == "東京都渋谷区代々木4-5-6" and home.property_structure == "mansion"
    [rerating] = _rerating(db_session, member)
    assert rerating.effective_date == date(2026, 11, 28)  # the moving date, not the day of the request


def test_the_office_rerates_from_the_moving_date_with_the_members_structure(app, member_client, db_session, home,
                                                                             make_staff):
    from portal.backoffice import services as office
    from portal.contracts import office as contracts_office, rerating
    from portal.workqueue import kinds

    member = member_client.member
    with time_machine.travel(NOW, tick=False):
        sign_in_member_directly(member_client, db_session, member)
        _page_, form = _page(member_client)
        member_client.post("/profile/address", data={**form, **NEW, **_moving("１", "１１", structure="steel"),
                                                     "action": "save"})
    [request] = _rerating(db_session, member)
    # The form starts from what the member said; the premium was rated wooden with ベーシック.
    assert kinds.get("property_rerating").actions[0].initial(db_session, request) == {"structure": "steel",
                                                                                      "plan": "basic"}
    facts = contracts_office._rerating_facts(db_session, request)
    assert facts["plan"] == "basic" and facts["quotes"][0].effective_from == date(2026, 11, 1)
    staff = make_staff("office")
    with time_machine.travel(NOW, tick=False), app.test_request_context():
        office.claim(db_session, request, staff)
        office.act(db_session, request, "rerate", staff, {"structure": "steel", "plan": "basic"})
    db_session.expire_all()
    # 1 Nov 2026 to the anniversary (1 Sep 2027): 10 months. 260 → 165 円 per 口 a year, 300 口.
    assert rerating.months_left(home, date(2026, 11, 1)) == 10
    assert home.premium_yen == 165 * 300 and home.premium_changes[-1].effective_from == date(2026, 11, 1)
    from portal.contracts.models import PremiumAdjustment
    adjustment = db_session.scalar(select(PremiumAdjustment).where(PremiumAdjustment.contract_id == home.id))
    assert adjustment.amount_yen == -((78_000 - 49_500) * 10 // 12) == -23_750


def test_keeping_the_property_asks_no_moving_date(member_client, db_session, home):
    _page_, form = _page(member_client)
    save = member_client.post("/profile/address", data={**form, **NEW, "property_moved": "no", "action": "save"})
    assert save.status_code == 302
    db_session.expire_all()
    assert home.property_address == "東京都千代田区千代田1-1" and _rerating(db_session, member_client.member) == []


def test_run_jobs_runs_the_moves_by_default():
    from portal.ops.jobs import DEFAULT_JOBS

    assert "apply-property-moves" in DEFAULT_JOBS
