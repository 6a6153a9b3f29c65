"""Member search (support): by number, phone, contract, or kana in any width."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.staff import search
from portal.staff.accounts import StaffError
from portal.audit.models import AuditLog


@pytest.fixture
def kyoko(make_member):
    return make_member(name="山田 京子", name_kana="ヤマダ キョウコ", phone="09055512345", member_no="1234567890")


@pytest.mark.parametrize("query", ["ﾔﾏﾀﾞ", "やまだ", "ヤマダ", "やまだ きょうこ", "ﾔﾏﾀﾞｷｮｳｺ", "ヤマダキヨウコ", "きょうこ", "ｷｮｳｺ"])
def test_kana_in_every_width_finds_the_member(db_session, kyoko, make_member, query):
    make_member(name="佐藤 一郎", name_kana="サトウ イチロウ")
    result = search.search_members(db_session, query)
    assert [h.member_no for h in result.hits] == ["1234567890"], query
    assert result.kind == "kana"


@pytest.mark.parametrize("query", ["1234567890", "１２３４５６７８９０", "090-5551-2345", "０９０－５５５１－２３４５",
                                   "09055512345"])
def test_member_number_and_phone(db_session, kyoko, query):
    result = search.search_members(db_session, query)
    assert [h.id for h in result.hits] == [kyoko.id] and result.kind == "number"


def test_contract_number(db_session, kyoko, make_contract):
    contract = make_contract(kyoko)
    assert [h.id for h in search.search_members(db_session, contract.contract_no).hits] == [kyoko.id]
    wide = contract.contract_no.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert [h.id for h in search.search_members(db_session, wide).hits] == [kyoko.id]


def test_partial_numbers_do_not_match(db_session, kyoko):
    assert search.search_members(db_session, "12345").hits == []


def test_kanji_and_empty_queries_are_explained(db_session):
    with pytest.raises(StaffError) as error:
        search.search_members(db_session, "山田")
    assert "フリガナ" in error.value.message
    with pytest.raises(StaffError):
        search.search_members(db_session, "  ")


def test_wildcards_in_the_query_do_not_widen_it(db_session, kyoko):
    with pytest.raises(StaffError):
        search.search_members(db_session, "%")


def test_paginated(db_session, make_member):
    for n in range(23):
        make_member(name=f"鈴木 {n}", name_kana=f"スズキ テスト", member_no=f"70000{n:05d}")
    first = search.search_members(db_session, "すずき", per_page=10)
    third = search.search_members(db_session, "すずき", page=3, per_page=10)
    assert first.total == 23 and first.pages == 3 and len(first.hits) == 10 and len(third.hits) == 3
    assert {h.member_no for h in first.hits}.isdisjoint({h.member_no for h in third.hits})


def test_results_page_is_masked_and_opening_is_audited(support, kyoko, db_session):
    page = support.get("/staff/members?q=ﾔﾏﾀﾞ")
    assert page.status_code == 200
    assert "1234567890" in page.text and "山田 ＊＊" in page.text and "090-****-2345" in page.text
    assert "山田 京子" not in page.text and "09055512345" not in page.text and "千代田1-1" not in page.text
    assert f'href="/staff/members/{kyoko.id}"' in page.text
    searches = db_session.scalars(select(AuditLog).where(AuditLog.action == "staff.member_search")).all()
    assert len(searches) == 1 and "ﾔﾏﾀﾞ" not in (searches[0].detail or "")
    assert db_session.scalars(select(AuditLog).where(AuditLog.action == "staff.member_open")).all() == []

    opened = support.get(f"/staff/members/{kyoko.id}")
    assert opened.status_code == 200
    assert "山田 京子" in opened.text and "09055512345" in opened.text and "千代田1-1" in opened.text
    rows = db_session.scalars(select(AuditLog).where(AuditLog.action == "staff.member_open")).all()
    assert len(rows) == 1
    assert rows[0].actor_staff_id == support.staff.id and rows[0].acting_as_member_id == kyoko.id


def test_member_page_shows_contracts_read_only(support, kyoko, make_contract):
    contract = make_contract(kyoko)
    page = support.get(f"/staff/members/{kyoko.id}")
    assert contract.contract_no in page.text and "こくみん共済" in page.text
    # The only form on the page is the one that starts acting.
    assert page.text.count('method="post"') == page.text.count('action="/staff/') + 1  # + header text-size form


def test_unknown_member_is_404(support):
    assert support.get("/staff/members/999999").status_code == 404


def test_search_form_errors_show_next_to_the_field(support):
    page = support.get("/staff/members?q=山田")
    assert page.status_code == 200 and 'class="error"' in page.text and "フリガナ" in page.text
