"""Stored kana search keys: set with the フリガナ, filled in by the migration for
members already there, and used through an index on PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from portal.members.models import Member, kana_keys
from portal.staff import search
from tests.foundation.test_migrations import empty_database  # noqa: F401  (fixture)


def test_keys_follow_the_kana(db_session, make_member):
    member = make_member(name="山田 京子", name_kana="ヤマダ キョウコ")
    assert (member.name_kana_key, member.given_kana_key) == ("ヤマダキヨウコ", "キヨウコ")
    member.name_kana = "サトウ\u3000キョウコ"
    db_session.flush()
    assert (member.name_kana_key, member.given_kana_key) == ("サトウキヨウコ", "キヨウコ")
    assert [h.id for h in search.search_members(db_session, "さとう").hits] == [member.id]
    assert search.search_members(db_session, "やまだ").hits == []
    assert kana_keys("ヤマダ") == ("ヤマダ", None)


def test_the_middle_of_a_name_is_not_a_match(db_session, make_member):
    make_member(name="山田 京子", name_kana="ヤマダ キョウコ")
    assert search.search_members(db_session, "マダ").hits == []
    assert search.search_members(db_session, "ョウコ").hits == []


def test_migration_fills_the_keys_of_existing_members(empty_database):  # noqa: F811
    from alembic import command

    from portal.cli import alembic_config
    from portal.db import make_engine

    config = alembic_config(empty_database)
    command.upgrade(config, "81600a694e25")
    engine = make_engine(empty_database)
    with engine.begin() as c:
        c.execute(text(
            "INSERT INTO members (id, member_no, name, name_kana, birth_date, sex, postal_code, prefecture, city, "
            "street, phone, status, shares, created_at, version) VALUES "
            "(1, '1000000009', '山田 京子', 'ヤマダ キョウコ', '1980-01-01', 'female', '1000001', '東京都', '千代田区', "
            "'1-1', '09012340009', 'active', 10, '2026-01-01 00:00:00+00:00', 1), "
            "(2, '1000000010', 'ジョン', 'ジョン', '1980-01-01', 'male', '1000001', '東京都', '千代田区', "
            "'1-1', '09012340010', 'active', 10, '2026-01-01 00:00:00+00:00', 1)"))
    command.upgrade(config, "head")
    with engine.connect() as c:
        rows = c.execute(text("SELECT name_kana_key, given_kana_key FROM members ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("ヤマダキヨウコ", "キヨウコ"), ("ジヨン", None)]


def test_postgresql_answers_from_the_indexes(db_session, make_member):
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's: SQLite's LIKE does not use these indexes")
    make_member(name="山田 京子", name_kana="ヤマダ キョウコ")
    db_session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: ask whether an index CAN serve
    plan = "\n".join(db_session.execute(text(
        "EXPLAIN SELECT id FROM members WHERE name_kana_key LIKE 'ヤマダ%' OR given_kana_key LIKE 'ヤマダ%'"
    )).scalars())
    assert "ix_members_name_kana_key" in plan and "ix_members_given_kana_key" in plan, plan


def test_large_results_are_counted_up_to_the_cap(db_session, make_member, monkeypatch, staff_client):
    monkeypatch.setattr(search, "TOTAL_CAP", 5)
    for n in range(7):
        make_member(name=f"鈴木 {n}", name_kana="スズキ テスト", member_no=f"71000{n:05d}")
    result = search.search_members(db_session, "すずき", per_page=2)
    assert result.is_capped and result.pages == 3 and len(result.hits) == 2
    last = search.search_members(db_session, "すずき", page=9, per_page=2)
    assert last.page == 3 and len(last.hits) == 2  # a page past the end shows the last one
    page = staff_client("support").get("/staff/members?q=すずき")
    assert "1,000件以上" in page.text


def test_numbers_are_looked_up_by_index(db_session, make_member, make_contract):
    member = make_member(phone="09055500001", member_no="7200000001")
    contract = make_contract(member)
    for query in ("7200000001", "090-5550-0001", contract.contract_no):
        assert [h.id for h in search.search_members(db_session, query).hits] == [member.id], query
