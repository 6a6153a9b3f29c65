"""Two staff start payment runs at the same moment on PostgreSQL: no claim is paid twice.

Real connections and real commits (the per-test rollback cannot show a race), in a
schema of its own that is dropped afterwards.
"""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.conftest import PG_URL

SCHEMA = "claims_race"


def _setup(engine, count: int) -> list[int]:
    from portal.claims.models import Claim
    from portal.members.models import InsuredPerson, Member
    from portal.procedures.services import start

    with Session(engine) as s:
        member = Member(member_no="4000000099", name="並行 花子", name_kana="ヘイコウ ハナコ",
                        birth_date=date(1980, 1, 1), sex="female", postal_code="1000001", prefecture="東京都",
                        city="千代田区", street="1-1", phone="09011113333", status="active")
        s.add(member)
        s.flush()
        person = InsuredPerson(member_id=member.id, relation="self", name=member.name, name_kana=member.name_kana,
                               birth_date=member.birth_date, sex="female")
        s.add(person)
        s.flush()
        ids = []
        for n in range(count):
            procedure = start(s, member, "claim", f"入院 {n}", status="awaiting_payment", notify=False)
            claim = Claim(procedure_id=procedure.id, member_id=member.id, kind="claim", insured_person_id=person.id,
                          first_day=date(2026, 10, 1), estimated_yen=10_000 * (n + 1), approved_yen=10_000 * (n + 1),
                          payee_bank_code="0001", payee_bank_name="みずほ銀行", payee_branch_code="001",
                          payee_branch_name="東京営業部", payee_account_type=1, payee_account_number="1234567",
                          payee_holder_name="ﾍｲｺｳ ﾊﾅｺ")
            s.add(claim)
            s.flush()
            ids.append(claim.id)
        s.commit()
        return ids


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL race: CI sets PORTAL_TEST_DATABASE_URL")
def test_two_runs_at_once_pay_each_claim_once(app, tmp_path):
    from portal.claims import services
    from portal.claims.models import PaymentRunItem
    from portal.db import make_engine
    from portal.gateways.storage import LocalStorage
    from portal.jp.dates import add_business_days
    from portal.models import metadata

    admin = make_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={SCHEMA}"})
    try:
        metadata.create_all(engine)
        ids = _setup(engine, 6)
        store = LocalStorage(tmp_path)
        day = add_business_days(date.today(), 2)
        barrier = threading.Barrier(2)
        results: list[object] = []
        errors: list[BaseException] = []

        def make_run() -> None:
            try:
                with app.app_context(), Session(engine) as session:
                    barrier.wait()
                    try:
                        run = services.create_run(session, day, store=store,
                                                  requester=services.requester_from({}), staff_id=None)
                    except services.ClaimError as error:
                        session.rollback()
                        results.append(error.message)
                        return
                    # Hold the lock a moment, as a slow file write would.
                    session.execute(text("SELECT pg_sleep(0.3)"))
                    session.commit()
                    results.append((run.total_count, run.total_yen))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=make_run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        runs = [r for r in results if isinstance(r, tuple)]
        assert runs, results
        assert sum(count for count, _ in runs) == 6
        assert sum(total for _, total in runs) == sum(10_000 * (n + 1) for n in range(6))
        with Session(engine) as s:
            paid = list(s.scalars(select(PaymentRunItem.claim_id)))
            assert sorted(paid) == sorted(ids)  # each claim in exactly one run
            assert s.scalar(select(func.count()).select_from(PaymentRunItem)) == 6
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()


def test_unique_item_refuses_a_claim_in_a_second_run(db_session, make_member, tmp_path):
    """Even without row locks (SQLite, or a run built from a stale list) the database
    refuses a second item for the same claim."""
    from sqlalchemy.exc import IntegrityError

    from portal.claims.models import Claim, PaymentRun, PaymentRunItem
    from portal.procedures.services import start

    member = make_member()
    procedure = start(db_session, member, "claim", "入院", status="awaiting_payment", notify=False)
    claim = Claim(procedure_id=procedure.id, member_id=member.id, kind="claim", first_day=date(2026, 10, 1),
                  approved_yen=5_000)
    first, second = PaymentRun(transfer_date=date(2026, 12, 4)), PaymentRun(transfer_date=date(2026, 12, 4))
    db_session.add_all([claim, first, second])
    db_session.flush()
    db_session.add(PaymentRunItem(run_id=first.id, claim_id=claim.id, amount_yen=5_000))
    db_session.flush()
    with pytest.raises(IntegrityError):
        with db_session.begin_nested():
            db_session.add(PaymentRunItem(run_id=second.id, claim_id=claim.id, amount_yen=5_000))
            db_session.flush()
