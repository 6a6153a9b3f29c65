"""An unpaid kit order cancelled by the member, against localstripe: a confirmation
page first, the PaymentIntent cancelled, a notice and an audit row, once; a
cancelled order is never paid, and a payment that still arrives for it is
refunded instead of reviving it."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.audit.models import AuditLog
from portal.backoffice.services import work_queue
from portal.gateways.payments import payments
from portal.messaging.models import OutboxMessage
from portal.procedures.models import ProcedureEvent, ProcedureRequest
from portal.shop import services
from portal.shop.models import ShopOrder
from tests.shop.stripe_fixtures import GOOD_CARD
from tests.shop.test_webhook import _pay_at_stripe

TOKEN = "cxl-" + "a" * 28


def _place(shopper, db_session, token=TOKEN) -> ShopOrder:
    shopper.post("/shop/KC-SINGLE/order", data={"person_id": shopper.me.id, "token": token})
    db_session.expire_all()
    return db_session.scalar(select(ShopOrder).where(ShopOrder.idempotency_key == token))


def _reload(db_session, order) -> ShopOrder:
    db_session.expire_all()
    return db_session.get(ShopOrder, order.id)


def _count(db_session, model, *where) -> int:
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_an_unpaid_order_is_cancelled_after_a_confirmation_page_once(shopper, stripe_app, db_session, stripe_api):
    order = _place(shopper, db_session)
    cancel_url = f"/shop/orders/{order.order_no}/cancel"
    assert f'href="{cancel_url}"' in shopper.get("/shop/orders").text
    assert f'href="{cancel_url}"' in shopper.get(f"/shop/orders/{order.order_no}").text
    confirm = shopper.get(cancel_url)
    assert confirm.status_code == 200 and "元に戻せません" in confirm.text
    assert order.order_no in confirm.text and "6,688円（税込）" in confirm.text
    assert _reload(db_session, order).status == "awaiting_payment"  # looking changed nothing

    done = shopper.post(cancel_url, follow_redirects=True)
    assert "ご注文を取り消しました" in done.text and 'id="order-cancelled"' in done.text
    assert 'id="card-element"' not in done.text
    again = shopper.post(cancel_url, follow_redirects=True)  # a double submit
    assert "ご注文を取り消しました" in again.text

    order = _reload(db_session, order)
    assert order.status == "cancelled"
    assert stripe_api.v1.payment_intents.retrieve(order.payment_intent_id).status == "canceled"
    procedure = db_session.get(ProcedureRequest, order.procedure_id)
    assert procedure.status == "cancelled" and not procedure.is_open
    assert _count(db_session, ProcedureEvent, ProcedureEvent.request_id == procedure.id,
                  ProcedureEvent.status == "cancelled") == 1
    assert _count(db_session, AuditLog, AuditLog.action == "shop.order_cancel",
                  AuditLog.target_id == order.order_no) == 1
    notices = list(db_session.scalars(select(OutboxMessage.body).where(
        OutboxMessage.member_id == shopper.member.id, OutboxMessage.body.contains("取り消しました"))))
    assert len(notices) == 1 and "代金のご請求はありません" in notices[0]
    assert order not in services.orders_to_ship(db_session)
    assert all(item.request.id != procedure.id for item in work_queue(db_session).items)
    assert f'href="{cancel_url}"' not in shopper.get("/shop/orders").text
    assert "すでに取り消されています" in shopper.get(cancel_url, follow_redirects=True).text


def test_a_cancelled_order_cannot_be_paid(shopper, stripe_app, db_session, stripe_api, card):
    order = _place(shopper, db_session)
    shopper.post(f"/shop/orders/{order.order_no}/cancel")
    paid = shopper.post(f"/shop/orders/{order.order_no}/pay", data={"payment_method_id": card(GOOD_CARD)},
                        follow_redirects=True)
    assert "取り消されているため、お支払いいただけません" in paid.text
    setup = shopper.post(f"/shop/orders/{order.order_no}/card-setup")
    assert setup.status_code == 503 and "取り消されている" in setup.json["error"]
    order = _reload(db_session, order)
    assert order.status == "cancelled" and order.paid_at is None
    intents = [pi for pi in stripe_api.v1.payment_intents.list(params={"limit": 100}).data
               if pi.to_dict().get("metadata", {}).get("order_no") == order.order_no]
    assert [pi.status for pi in intents] == ["canceled"]


def test_a_late_payment_event_does_not_revive_a_cancelled_order_and_is_refunded(shopper, stripe_app, db_session,
                                                                                stripe_api, card, post_event):
    order = _place(shopper, db_session)
    # The payment went through at Stripe just as the order was cancelled here.
    _pay_at_stripe(stripe_api, order.payment_intent_id, card(GOOD_CARD))
    order.status = "cancelled"
    db_session.flush()
    event = {"id": order.payment_intent_id, "object": "payment_intent", "metadata": {"order_no": order.order_no}}
    response = post_event("evt_late_1", "payment_intent.succeeded", event)
    assert response.status_code == 200 and response.json["outcome"] == "cancelled_order_refunded"
    order = _reload(db_session, order)
    assert order.status == "cancelled" and order.paid_at is None and not order.has_receipt
    refunds = [r for r in stripe_api.v1.refunds.list(params={"limit": 100}).data
               if r.to_dict().get("payment_intent") == order.payment_intent_id]
    assert len(refunds) == 1 and refunds[0].amount == 6688
    assert _count(db_session, AuditLog, AuditLog.action == "shop.order_refund",
                  AuditLog.target_id == order.order_no) == 1
    notice = db_session.scalar(select(OutboxMessage.body).where(OutboxMessage.body.contains("返金")))
    assert order.order_no in notice and "6,688円" in notice
    assert post_event("evt_late_1", "payment_intent.succeeded", event).json["outcome"] == "duplicate"
    assert shopper.get(f"/shop/orders/{order.order_no}/receipt").status_code == 404


def test_a_payment_racing_the_cancellation_is_refunded_not_recorded(shopper, stripe_app, db_session, stripe_api,
                                                                     card, ctx):
    order = _place(shopper, db_session)
    _pay_at_stripe(stripe_api, order.payment_intent_id, card(GOOD_CARD))
    order.status = "cancelled"  # the cancellation committed first
    db_session.flush()
    intent = payments().retrieve_payment_intent(order.payment_intent_id)
    services.apply_payment_intent(db_session, order, intent)  # the payment's own request arrives second
    assert _reload(db_session, order).status == "cancelled"
    assert stripe_api.v1.payment_intents.retrieve(order.payment_intent_id).status == "succeeded"
    refunds = [r for r in stripe_api.v1.refunds.list(params={"limit": 100}).data
               if r.to_dict().get("payment_intent") == order.payment_intent_id]
    assert len(refunds) == 1 and refunds[0].amount == 6688
    assert _count(db_session, AuditLog, AuditLog.action == "shop.order_refund") == 1


def test_an_order_paid_before_the_cancel_reached_us_stays_paid(shopper, stripe_app, db_session, stripe_api, card):
    order = _place(shopper, db_session)
    confirm = shopper.get(f"/shop/orders/{order.order_no}/cancel")
    assert confirm.status_code == 200
    _pay_at_stripe(stripe_api, order.payment_intent_id, card(GOOD_CARD))  # paid in another tab
    response = shopper.post(f"/shop/orders/{order.order_no}/cancel", follow_redirects=True)
    assert "お支払いが完了しているため、このご注文は取り消せません" in response.text
    order = _reload(db_session, order)
    assert order.status == "paid" and order.paid_at is not None
    assert stripe_api.v1.payment_intents.retrieve(order.payment_intent_id).status == "succeeded"
    refused = shopper.get(f"/shop/orders/{order.order_no}/cancel", follow_redirects=True)
    assert "お支払い済みのご注文は、マイページでは取り消せません" in refused.text
    assert f'/shop/orders/{order.order_no}/cancel"' not in shopper.get("/shop/orders").text


def test_cancel_waits_for_stripe_when_it_cannot_be_reached(shopper, stripe_app, db_session, app):
    order = _place(shopper, db_session)
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    app.extensions.pop("payments_gateway", None)
    response = shopper.post(f"/shop/orders/{order.order_no}/cancel", follow_redirects=True)
    assert re.search(r"決済|時間をおいて|しばらく", response.text)
    assert _reload(db_session, order).status == "awaiting_payment"
    assert _count(db_session, AuditLog, AuditLog.action == "shop.order_cancel") == 0


def test_cancel_is_the_members_own(shopper, stripe_app, db_session, client, auth, make_member, staff_client):
    order = _place(shopper, db_session)
    auth.logout()
    auth.login_member(make_member())
    assert client.get(f"/shop/orders/{order.order_no}/cancel").status_code == 404
    assert client.post(f"/shop/orders/{order.order_no}/cancel").status_code == 404
    support = staff_client("support")
    support.post(f"/staff/members/{order.member_id}/act",
                 data={"reason_code": "phone_inquiry", "reason_text": "注文のご相談"})
    refused = support.post(f"/shop/orders/{order.order_no}/cancel", follow_redirects=True)
    assert "代理操作中は注文の取り消しができません" in refused.text
    assert _reload(db_session, order).status == "awaiting_payment"
