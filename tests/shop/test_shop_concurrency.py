"""Double submits that really overlap: two threads, real commits (a SQLite file, and a
PostgreSQL schema of its own when CI gives one). Cancelling an unpaid order twice
at once cancels it once; skipping the same delivery twice at once skips it once."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from flask import g
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal.audit.models import AuditLog
from portal.clock import to_tokyo
from portal.db import make_engine
from portal.members.models import InsuredPerson, Member
from portal.models import metadata
from portal.procedures.models import ProcedureEvent
from portal.shop import services
from portal.shop.models import ShopOrder, ShopSubscription
from tests.conftest import PG_URL
from tests.support.pg import own_schema

@contextmanager
def _engine(backend: str, tmp_path) -> Iterator[Engine]:
    if backend == "postgresql":
        with own_schema(PG_URL, "shop_concurrency") as engine:
            yield engine
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'concurrent.db'}")
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def _member(engine: Engine) -> tuple[int, int]:
    with Session(engine) as s:
        member = Member(member_no="4000000002", name="並行 花子", name_kana="ヘイコウ ハナコ",
                        birth_date=date(1980, 1, 1), sex="female", postal_code="1000001", prefecture="東京都",
                        city="千代田区", street="1-1", phone="09011113333", status="active")
        s.add(member)
        s.flush()
        person = InsuredPerson(member_id=member.id, relation="self", name=member.name,
                               name_kana=member.name_kana, birth_date=member.birth_date, sex="female")
        s.add(person)
        s.commit()
        return member.id, person.id


def _twice(app, engine: Engine, action: Callable[[Session, Member], object]) -> None:
    """Run `action` in two threads at once, each in its own session and transaction."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(30)  # before any statement: SQLite's first one takes the write lock
            with app.app_context(), Session(engine) as session:
                g.db_session = session  # audit rows go with the action's own transaction
                member = session.scalar(select(Member))
                try:
                    action(session, member)
                    session.commit()
                except services.ShopError as error:
                    session.rollback()
                    errors.append(error)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_two_cancels_of_one_order_at_once_cancel_it_once(backend, app, stripe_app, tmp_path, stripe_api):
    with _engine(backend, tmp_path) as engine:
        member_id, person_id = _member(engine)
        with app.app_context(), Session(engine) as s:
            g.db_session = s
            order = services.place_order(s, s.get(Member, member_id), "ABC", person_id, token="t" * 24)
            s.commit()
            order_id, procedure_id, intent_id = order.id, order.procedure_id, order.payment_intent_id

        _twice(app, engine, lambda session, member: services.cancel_order(
            session, member, session.get(ShopOrder, order_id)))

        with Session(engine) as s:
            assert s.get(ShopOrder, order_id).status == "cancelled"
            assert s.scalar(select(func.count()).select_from(AuditLog)
                            .where(AuditLog.action == "shop.order_cancel")) == 1
            assert s.scalar(select(func.count()).select_from(ProcedureEvent).where(
                ProcedureEvent.request_id == procedure_id, ProcedureEvent.status == "cancelled")) == 1
        assert stripe_api.v1.payment_intents.retrieve(intent_id).status == "canceled"


def test_two_skips_of_one_delivery_at_once_skip_it_once(backend, app, stripe_app, tmp_path, card):
    with _engine(backend, tmp_path) as engine:
        member_id, person_id = _member(engine)
        with app.app_context(), Session(engine) as s:
            g.db_session = s
            member = s.get(Member, member_id)
            course = services.subscribe(s, member, "KC-REGULAR", person_id, token="s" * 24)
            services.start_subscription(s, member, course, card())
            s.commit()
            course_id, charge_at = course.id, course.next_charge_at
        charge_on = to_tokyo(charge_at).date()

        _twice(app, engine, lambda session, member: services.skip_next_delivery(
            session, member, session.get(ShopSubscription, course_id), charge_on))

        with Session(engine) as s:
            course = s.get(ShopSubscription, course_id)
            assert to_tokyo(course.skipped_charge_at).date() == charge_on
            assert to_tokyo(course.next_charge_at).date() > charge_on
            assert s.scalar(select(func.count()).select_from(AuditLog)
                            .where(AuditLog.action == "shop.subscription_skip")) == 1
