"""insert_once and procedures.start: one row per key, also when two requests race."""
from __future__ import annotations

import secrets
import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal import idempotency
from portal.db import make_engine
from portal.members.models import Member
from portal.messaging.models import OutboxMessage
from portal.models import metadata
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest
from tests.conftest import PG_URL


def _count(session, key: str) -> int:
    return session.scalar(select(func.count()).select_from(ProcedureRequest)
                          .where(ProcedureRequest.idempotency_key == key))


def test_a_repeated_key_returns_the_first_procedure_and_one_notice(db_session, make_member):
    member = make_member()
    first = procedures.start(db_session, member, "other", "お問い合わせ", idempotency_key="k-repeat")
    again = procedures.start(db_session, member, "other", "お問い合わせ", idempotency_key="k-repeat")
    assert again.id == first.id and _count(db_session, "k-repeat") == 1
    notices = db_session.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.member_id == member.id))
    assert notices == 1


def test_another_members_key_is_refused(db_session, make_member):
    owner, other = make_member(), make_member()
    procedures.start(db_session, owner, "other", "お問い合わせ", idempotency_key="k-owner")
    with pytest.raises(procedures.ProcedureError):
        procedures.start(db_session, other, "other", "お問い合わせ", idempotency_key="k-owner")


def test_the_loser_of_a_race_gets_the_winners_row(db_session, make_member, monkeypatch):
    """The look-up misses (the winner has not committed yet), the INSERT meets the
    unique key: the SAVEPOINT is rolled back and the winner's row comes back."""
    member = make_member()
    winner = procedures.start(db_session, member, "other", "お問い合わせ", idempotency_key="k-race")
    real_find = idempotency.find_by_key
    calls = []

    def first_miss(session, model, key, **kw):
        calls.append(key)
        return None if len(calls) == 1 else real_find(session, model, key, **kw)

    monkeypatch.setattr(idempotency, "find_by_key", first_miss)
    row, created = idempotency.insert_once(db_session, ProcedureRequest(
        receipt_no=procedures.new_receipt_no(), member_id=member.id, kind="other", status="received",
        summary="二度目", idempotency_key="k-race"))
    assert (row.id, created) == (winner.id, False)
    assert len(calls) == 2 and _count(db_session, "k-race") == 1
    # the session is still usable after the refused INSERT
    assert procedures.start(db_session, member, "other", "次", idempotency_key="k-next").id != winner.id


def test_without_a_key_every_call_inserts(db_session, make_member):
    member = make_member()
    a = procedures.start(db_session, member, "other", "一", notify=False)
    b = procedures.start(db_session, member, "other", "二", notify=False)
    assert a.id != b.id


@pytest.mark.skipif(not PG_URL, reason="PORTAL_TEST_DATABASE_URL not set (CI sets it)")
def test_procedures_start_under_a_real_race_on_postgresql():
    """Two sessions with real commits in a schema of their own: the second INSERT
    waits on the first transaction's unique key, then fails; start() hands back the
    first procedure instead of leaking IntegrityError, and only one notice is queued."""
    schema = f"race_{secrets.token_hex(4)}"
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        metadata.create_all(engine)
        with Session(engine) as s:
            member = Member(member_no="4000000002", name="競合 花子", name_kana="キョウゴウ ハナコ",
                            birth_date=date(1985, 1, 1), sex="female", postal_code="1000001", prefecture="東京都",
                            city="千代田区", street="1-1", phone="09011113333", status="active")
            s.add(member)
            s.commit()
            member_id = member.id
        inserted = threading.Event()
        results: dict[str, str] = {}
        errors: list[BaseException] = []

        def first() -> None:
            try:
                with Session(engine) as session:
                    request = procedures.start(session, session.get(Member, member_id), "other", "一回目",
                                               idempotency_key="race-key")
                    inserted.set()
                    threading.Event().wait(0.5)  # hold the uncommitted row while the other one inserts
                    results["first"] = request.receipt_no
                    session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                inserted.set()
                errors.append(exc)

        def second() -> None:
            try:
                inserted.wait(10)
                with Session(engine) as session:
                    request = procedures.start(session, session.get(Member, member_id), "other", "二回目",
                                               idempotency_key="race-key")
                    results["second"] = request.receipt_no
                    session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors, errors
        assert results["first"] == results["second"]
        with Session(engine) as s:
            assert _count(s, "race-key") == 1
            assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
