"""/stripe/webhook: signature (valid, invalid, stale), each event once (also under two
concurrent deliveries), state re-read from Stripe, unknown orders acknowledged."""
from __future__ import annotations

import threading
import time
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.db import make_engine
from portal.members.models import InsuredPerson, Member
from portal.models import metadata
from portal.procedures.models import ProcedureEvent, ProcedureRequest
from portal.shop import services
from portal.shop.models import ShopOrder, ShopSubscription, StripeEvent
from tests.shop.stripe_fixtures import DECLINED_AT_CHARGE, GOOD_CARD, event_payload, sign

TOKEN = "web-" + "a" * 28


def _placed_order(shopper, db_session) -> ShopOrder:
    shopper.post("/shop/KC-SINGLE/order", data={"person_id": shopper.me.id, "token": TOKEN})
    db_session.expire_all()
    return db_session.scalar(select(ShopOrder))


def _pay_at_stripe(stripe_api, intent_id: str, pm: str):
    """What Stripe.js does in the browser: the intent is paid without the portal knowing yet."""
    stripe_api.v1.payment_intents.update(intent_id, params={"payment_method": pm})
    try:
        return stripe_api.v1.payment_intents.confirm(intent_id)
    except Exception:  # a declined card: the intent stays open
        return stripe_api.v1.payment_intents.retrieve(intent_id)


def _paid_events(db_session, order) -> int:
    return db_session.scalar(select(func.count()).select_from(ProcedureEvent).where(
        ProcedureEvent.request_id == order.procedure_id, ProcedureEvent.status == "paid"))


def test_valid_signature_marks_the_order_paid(shopper, stripe_app, db_session, stripe_api, card, post_event):
    order = _placed_order(shopper, db_session)
    _pay_at_stripe(stripe_api, order.payment_intent_id, card(GOOD_CARD))
    response = post_event("evt_ok_1", "payment_intent.succeeded",
                          {"id": order.payment_intent_id, "object": "payment_intent",
                           "metadata": {"order_no": order.order_no}})
    assert response.status_code == 200 and response.json["outcome"] == "order_paid"
    db_session.expire_all()
    assert db_session.get(ShopOrder, order.id).status == "paid"
    assert db_session.get(ProcedureRequest, order.procedure_id).status == "paid"


def test_bad_missing_or_stale_signature_is_400_and_changes_nothing(shopper, stripe_app, db_session, stripe_api,
                                                                   card, post_event, client):
    order = _placed_order(shopper, db_session)
    _pay_at_stripe(stripe_api, order.payment_intent_id, card(GOOD_CARD))
    obj = {"id": order.payment_intent_id, "object": "payment_intent"}
    assert post_event("evt_bad_1", "payment_intent.succeeded", obj, secret="whsec_wrong").status_code == 400
    assert post_event("evt_bad_2", "payment_intent.succeeded", obj, signature="t=1,v1=deadbeef").status_code == 400
    assert post_event("evt_bad_3", "payment_intent.succeeded", obj,
                      timestamp=int(time.time()) - 301).status_code == 400
    missing = client.post("/stripe/webhook", data=event_payload("evt_bad_4", "payment_intent.succeeded", obj),
                          content_type="application/json")
    assert missing.status_code == 400
    # a body changed after signing fails too
    payload = event_payload("evt_bad_5", "payment_intent.succeeded", obj)
    header = sign(payload)
    tampered = client.post("/stripe/webhook", data=payload.replace(b"evt_bad_5", b"evt_bad_6"),
                           content_type="application/json", headers={"Stripe-Signature": header})
    assert tampered.status_code == 400
    db_session.expire_all()
    assert db_session.get(ShopOrder, order.id).status == "awaiting_payment"
    assert db_session.scalar(select(func.count()).select_from(StripeEvent)) == 0
    # within the 300 s tolerance it is accepted
    assert post_event("evt_ok_2", "payment_intent.succeeded", obj,
                      timestamp=int(time.time()) - 290).status_code == 200


def test_a_repeated_event_is_handled_once(shopper, stripe_app, db_session, stripe_api, card, post_event):
    order = _placed_order(shopper, db_session)
    _pay_at_stripe(stripe_api, order.payment_intent_id, card(GOOD_CARD))
    obj = {"id": order.payment_intent_id, "object": "payment_intent"}
    assert post_event("evt_dup", "payment_intent.succeeded", obj).json["outcome"] == "order_paid"
    second = post_event("evt_dup", "payment_intent.succeeded", obj)
    assert second.status_code == 200 and second.json["outcome"] == "duplicate"
    db_session.expire_all()
    assert _paid_events(db_session, order) == 1
    assert db_session.scalar(select(func.count()).select_from(StripeEvent)) == 1


def test_event_order_is_not_trusted_state_is_re_read(shopper, stripe_app, db_session, stripe_api, card,
                                                     post_event):
    order = _placed_order(shopper, db_session)
    _pay_at_stripe(stripe_api, order.payment_intent_id, card(GOOD_CARD))
    # a late "payment_failed" (from an earlier attempt) arrives first: Stripe says succeeded
    stale = post_event("evt_old_fail", "payment_intent.payment_failed",
                       {"id": order.payment_intent_id, "object": "payment_intent", "status": "requires_payment_method"})
    assert stale.json["outcome"] == "order_paid"
    assert post_event("evt_new_ok", "payment_intent.succeeded",
                      {"id": order.payment_intent_id}).json["outcome"] == "order_unchanged"
    db_session.expire_all()
    assert db_session.get(ShopOrder, order.id).status == "paid" and _paid_events(db_session, order) == 1


def test_payment_failed_records_the_reason_and_keeps_the_order_open(shopper, stripe_app, db_session, stripe_api,
                                                                   card, post_event):
    order = _placed_order(shopper, db_session)
    _pay_at_stripe(stripe_api, order.payment_intent_id, card(DECLINED_AT_CHARGE))
    response = post_event("evt_fail", "payment_intent.payment_failed", {"id": order.payment_intent_id})
    assert response.json["outcome"] == "order_failed"
    db_session.expire_all()
    order = db_session.get(ShopOrder, order.id)
    assert order.status == "awaiting_payment" and "承認されませんでした" in order.last_error


def test_unknown_order_is_logged_and_acknowledged(stripe_app, post_event, caplog, db_session):
    response = post_event("evt_unknown", "payment_intent.succeeded",
                          {"id": "pi_notours", "metadata": {"order_no": "S0000-NOPE"}})
    assert response.status_code == 200 and response.json["outcome"] == "unknown_order"
    assert "unknown order" in caplog.text
    assert post_event("evt_other", "charge.refunded", {"id": "ch_1"}).json["outcome"] == "ignored"


def test_invoice_paid_records_a_delivery_once_and_deleted_ends_the_course(shopper, stripe_app, db_session,
                                                                         stripe_api, card, post_event):
    shopper.post("/shop/KC-REGULAR/order", data={"person_id": shopper.me.id, "token": TOKEN})
    db_session.expire_all()
    course = db_session.scalar(select(ShopSubscription))
    shopper.post(f"/shop/subscriptions/{course.id}/start", data={"payment_method_id": card(GOOD_CARD)})
    db_session.expire_all()
    course = db_session.get(ShopSubscription, course.id)
    first_invoice = stripe_api.v1.subscriptions.retrieve(course.stripe_subscription_id).latest_invoice
    # the first invoice's event after the portal already recorded it: no second delivery
    assert post_event("evt_inv_1", "invoice.paid", {"id": first_invoice}).json["outcome"] == "delivery_recorded"
    # a renewal: Stripe bills the next period
    renewal = stripe_api.v1.invoices.create(params={"customer": course_customer(stripe_api, course),
                                                    "subscription": course.stripe_subscription_id})
    stripe_api.v1.invoices.pay(renewal.id)
    assert post_event("evt_inv_2", "invoice.paid", {"id": renewal.id}).json["outcome"] == "delivery_recorded"
    assert post_event("evt_inv_2", "invoice.paid", {"id": renewal.id}).json["outcome"] == "duplicate"
    db_session.expire_all()
    deliveries = db_session.scalars(select(ShopOrder).where(ShopOrder.subscription_id == course.id)).all()
    assert sorted(d.stripe_invoice_id for d in deliveries) == sorted([first_invoice, renewal.id])
    assert all(d.status == "paid" and d.total_yen == 5060 for d in deliveries)
    # Stripe ends the subscription
    stripe_api.v1.subscriptions.cancel(course.stripe_subscription_id)
    assert post_event("evt_sub_del", "customer.subscription.deleted",
                      {"id": course.stripe_subscription_id}).json["outcome"] == "subscription_synced"
    db_session.expire_all()
    course = db_session.get(ShopSubscription, course.id)
    assert course.status == "cancelled" and course.next_charge_at is None
    assert db_session.get(ProcedureRequest, course.procedure_id).status == "cancelled"


def course_customer(stripe_api, course) -> str:
    return stripe_api.v1.subscriptions.retrieve(course.stripe_subscription_id).customer


def test_invoice_payment_failed_notifies_the_member(shopper, stripe_app, db_session, stripe_api, card, post_event):
    from portal.messaging.models import OutboxMessage

    shopper.post("/shop/KC-REGULAR/order", data={"person_id": shopper.me.id, "token": TOKEN})
    db_session.expire_all()
    course = db_session.scalar(select(ShopSubscription))
    shopper.post(f"/shop/subscriptions/{course.id}/start", data={"payment_method_id": card(GOOD_CARD)})
    db_session.expire_all()
    course = db_session.get(ShopSubscription, course.id)
    customer = course_customer(stripe_api, course)
    failing = stripe_api.v1.payment_methods.create(params={"type": "card", "card": {
        "number": DECLINED_AT_CHARGE, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    stripe_api.v1.payment_methods.attach(failing.id, params={"customer": customer})
    stripe_api.v1.customers.update(customer, params={"invoice_settings": {"default_payment_method": failing.id}})
    renewal = stripe_api.v1.invoices.create(params={"customer": customer,
                                                    "subscription": course.stripe_subscription_id})
    try:
        stripe_api.v1.invoices.pay(renewal.id)
    except Exception:
        pass
    response = post_event("evt_inv_fail", "invoice.payment_failed", {"id": renewal.id})
    assert response.json["outcome"] == "payment_failed"
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.member_id == shopper.member.id, OutboxMessage.body.contains("お支払いいただけませんでした"))) == 1


def test_two_concurrent_deliveries_of_one_event_are_handled_once(app, stripe_app, tmp_path, stripe_api, card):
    """Real commits on a separate SQLite file, two threads delivering the same event at once."""
    from portal.procedures.services import start

    engine = make_engine(f"sqlite:///{tmp_path / 'concurrent.db'}")
    metadata.create_all(engine)
    with Session(engine) as s:
        member = Member(member_no="4000000001", name="並行 太郎", name_kana="ヘイコウ タロウ",
                        birth_date=date(1980, 1, 1), sex="male", postal_code="1000001", prefecture="東京都",
                        city="千代田区", street="1-1", phone="09011112222", status="active")
        s.add(member)
        s.flush()
        person = InsuredPerson(member_id=member.id, relation="self", name=member.name, name_kana=member.name_kana,
                               birth_date=member.birth_date, sex="male")
        s.add(person)
        s.flush()
        intent = stripe_api.v1.payment_intents.create(params={"amount": 6688, "currency": "jpy"})
        procedure = start(s, member, "shop_order", "健康チェッカー", status="awaiting_payment", notify=False)
        order = ShopOrder(order_no="S2611-CONCURR1", member_id=member.id, idempotency_key="c" * 24,
                          procedure_id=procedure.id, sku="KC-SINGLE", product_name="健康チェッカー",
                          insured_person_id=person.id, recipient_name=member.name, unit_price_yen=6080,
                          tax_yen=608, total_yen=6688, payment_intent_id=intent.id)
        s.add(order)
        s.commit()
        order_id, procedure_id = order.id, procedure.id
    _pay_at_stripe(stripe_api, intent.id, card(GOOD_CARD))

    event = {"id": "evt_concurrent", "type": "payment_intent.succeeded", "data": {"object": {"id": intent.id}}}
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            with app.app_context(), Session(engine) as session:
                barrier.wait()
                outcomes.append(services.handle_event(session, event))
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(outcomes) == ["duplicate", "order_paid"]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(StripeEvent)) == 1
        assert s.get(ShopOrder, order_id).status == "paid"
        assert s.scalar(select(func.count()).select_from(ProcedureEvent).where(
            ProcedureEvent.request_id == procedure_id, ProcedureEvent.status == "paid")) == 1
    engine.dispose()
