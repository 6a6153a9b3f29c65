"""The shop's rules: who may buy at member prices, orders, payments, the regular
course, webhook events and reminders.

Functions take a Session and plain values, only flush, and raise ShopError with
a Japanese message. Payments go through portal.gateways.payments. The portal's
own rows are the guard against double clicks and repeated webhooks (a unique
key inserted first, in a SAVEPOINT), never Stripe's idempotency alone.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.clock import now_tokyo, to_tokyo, today, utcnow
from portal.gateways import GatewayError
from portal.gateways.payments import (CardDeclined, InvoiceInfo, NotFoundAtProvider, PaymentIntentInfo,
                                     SubscriptionInfo, payments)
from portal.idempotency import insert_once
from portal.jp.dates import add_months, age_on, format_date_jp, format_month_day_jp
from portal.jp.money import tax_amount, tax_included, yen
from portal.jp.text import honorific
from portal.members.models import InsuredPerson, Member
from portal.messaging.services import queue_notice
from portal.procedures.models import ProcedureRequest
from portal.procedures.services import change_status, start
from portal.service_errors import ServiceError
from portal.shop import catalogue
from portal.shop.catalogue import Offer
from portal.shop.models import ShopCustomer, ShopOrder, ShopReminder, ShopSubscription, StripeEvent

log = logging.getLogger(__name__)

REMINDER_DAYS = 14
SUBSCRIPTION_MONTHS = 6
DELIVERY_DAYS = 7  # a kit leaves the warehouse within a week of its payment

NOT_ELIGIBLE = ("組合員価格でのご購入は、ご契約中の組合員さまとそのご家族に限ります。"
                "マイページにログインしてください。")


CANCELLED_ORDER = "このご注文は取り消されているため、お支払いいただけません。"


class ShopError(ServiceError):
    """A rule said no (a Japanese message, and the field it belongs to)."""


# --- catalogue and eligibility -----------------------------------------------------
def can_buy(member: Member | None) -> bool:
    """Member prices and buying: only a member in good standing (for their household)."""
    return member is not None and member.is_active_member


def household(member: Member) -> list[InsuredPerson]:
    """The people a member may order for: themself first, then the household."""
    people = list(member.insured_persons)
    return sorted(people, key=lambda p: (p.relation != "self", p.id))


def get_offer(sku: str) -> Offer:
    offer = catalogue.get(sku)
    if offer is None:
        raise ShopError("この商品は取り扱っていません。")
    return offer


def ineligibility(offer: Offer, person: InsuredPerson, on: date) -> str | None:
    """Why `person` cannot take this kit on `on` (the maker's sex and age rule), or None."""
    if offer.sex and person.sex != offer.sex:
        return f"{offer.sex_label}の方向けの検査です"
    age = age_on(person.birth_date, on)
    too_young = offer.min_age is not None and age < offer.min_age
    too_old = offer.max_age is not None and age > offer.max_age
    if too_young or too_old:
        return f"{offer.eligibility_label}が対象です（{format_date_jp(on)}時点で{age}歳）"
    return None


def recipients(member: Member, offer: Offer, on: date | None = None) -> list[tuple[InsuredPerson, str | None]]:
    """The household, each with the reason they cannot take this kit (None: they can)."""
    on = on or today()
    return [(person, ineligibility(offer, person, on)) for person in household(member)]


def check_recipient(session: Session, member: Member, offer: Offer, person_id: int | None) -> InsuredPerson:
    person = session.get(InsuredPerson, person_id) if person_id else None
    if person is None or person.member_id != member.id:
        raise ShopError("検査を受ける方を、ご家族の中から選んでください。", field="person_id")
    reason = ineligibility(offer, person, today())
    if reason:
        raise ShopError(f"{honorific(person.name)}は、この検査をお申し込みいただけません。{offer.name}は{reason}。",
                        field="person_id")
    return person


def new_order_no() -> str:
    """e.g. S2611-7KQ3ZP2A: month of the order, then random, unguessable characters."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return f"S{now_tokyo():%y%m}-" + "".join(secrets.choice(alphabet) for _ in range(8))


def _check_token(token: str | None) -> str:
    token = (token or "").strip()
    if not 16 <= len(token) <= 64:
        raise ShopError("お手数ですが、画面を読み込み直してからもう一度お申し込みください。")
    return token


def _touch(row: Any) -> None:
    row.updated_at = utcnow()


def _procedure(session: Session, procedure_id: int | None) -> ProcedureRequest | None:
    return session.get(ProcedureRequest, procedure_id) if procedure_id else None


# --- one-time orders -----------------------------------------------------------------
def place_order(session: Session, member: Member, sku: str, person_id: int | None, *,
                token: str | None, staff_id: int | None = None) -> ShopOrder:
    """An order row first (one per form token), then its PaymentIntent.

    A Stripe outage keeps the order (支払待ち) with `last_error` set; paying later
    creates the intent then.
    """
    offer = get_offer(sku)
    if offer.is_subscription:
        raise ShopError("定期コースは「定期コースを申し込む」からお申し込みください。")
    if not can_buy(member):
        raise ShopError(NOT_ELIGIBLE)
    token = _check_token(token)
    person = check_recipient(session, member, offer, person_id)
    order = ShopOrder(
        order_no=new_order_no(), member_id=member.id, idempotency_key=token, sku=offer.sku,
        product_name=offer.name, insured_person_id=person.id, recipient_name=person.name, quantity=1,
        unit_price_yen=offer.member_price_yen, tax_yen=tax_amount(offer.member_price_yen),
        total_yen=tax_included(offer.member_price_yen), status="awaiting_payment", made_by_staff_id=staff_id,
    )
    order, created = insert_once(session, order)
    if order.member_id != member.id:
        raise ShopError("このお申し込みはすでに処理されています。")
    if created:
        procedure = start(session, member, "shop_order",
                          f"{order.product_name}（{honorific(order.recipient_name)}）{yen(order.total_yen)}（税込）",
                          status="awaiting_payment", detail={"order_no": order.order_no, "sku": order.sku},
                          idempotency_key=f"shop-order:{token}"[:64], staff_id=staff_id)
        order.procedure_id = procedure.id
        audit.record("shop.order", target_type="shop_order", target_id=order.order_no,
                     detail={"sku": order.sku, "total_yen": order.total_yen, "for": person.relation},
                     member_id=member.id)
        ensure_payment_intent(session, order)
    session.flush()
    return order


def ensure_payment_intent(session: Session, order: ShopOrder) -> PaymentIntentInfo | None:
    """The order's current PaymentIntent, created (key derived from the order) if missing.

    None when the provider is unavailable; the order keeps the reason in last_error.
    """
    if order.status != "awaiting_payment":
        return None
    gateway = payments()
    try:
        if order.payment_intent_id:
            return gateway.retrieve_payment_intent(order.payment_intent_id)
        intent = gateway.create_payment_intent(
            order.total_yen, metadata={"order_no": order.order_no}, description=order.product_name,
            idempotency_key=f"shop-order-{order.order_no}-{order.payment_attempt}")
    except GatewayError as exc:
        log.warning("payment intent for order %s unavailable: %s", order.order_no, exc)
        order.last_error = exc.message
        session.flush()
        return None
    order.payment_intent_id = intent.id
    order.last_error = None
    _touch(order)
    session.flush()
    return intent


def card_setup_for_order(session: Session, order: ShopOrder) -> str:
    """A client secret for Stripe.js to collect a card for this order (SetupIntent)."""
    if order.status == "cancelled":
        raise ShopError(CANCELLED_ORDER)
    if order.status != "awaiting_payment":
        raise ShopError("このご注文はお支払い済みです。")
    try:
        return payments().create_setup_intent(usage="on_session", metadata={"order_no": order.order_no}).client_secret
    except GatewayError as exc:
        raise ShopError(exc.message) from exc


@dataclass
class PaymentResult:
    order: ShopOrder
    action_client_secret: str | None = None  # 3-D Secure still to be done in the browser


def _check_payment_method(payment_method_id: str) -> None:
    if not payment_method_id.startswith("pm_") or len(payment_method_id) > 64:
        raise ShopError("カード情報を確認できませんでした。もう一度入力してください。", field="card")


@contextmanager
def _card_refusals(session: Session, row: ShopOrder | ShopSubscription) -> Iterator[None]:
    """A declined card or a payment-service failure is kept on the order or course
    (`last_error`, shown again on its page) and told to the member as a ShopError."""
    try:
        yield
    except CardDeclined as exc:
        row.last_error = exc.message
        _touch(row)
        session.flush()
        raise ShopError(exc.message, field="card") from exc
    except GatewayError as exc:
        row.last_error = exc.message
        session.flush()
        raise ShopError(exc.message) from exc


def pay_order(session: Session, order: ShopOrder, payment_method_id: str) -> PaymentResult:
    """Charge the card Stripe.js collected (a PaymentMethod id; the portal never sees the number).

    A decline raises ShopError with the reason and leaves the order open for
    another card; a second submit of a paid order changes nothing; a cancelled
    order is never charged.
    """
    if order.status == "cancelled":
        raise ShopError(CANCELLED_ORDER)
    if order.status != "awaiting_payment":
        return PaymentResult(order)
    _check_payment_method(payment_method_id)
    intent = ensure_payment_intent(session, order)
    if intent is None:
        raise ShopError(order.last_error or "現在オンライン決済をご利用いただけません。")
    if intent.succeeded:
        apply_payment_intent(session, order, intent)
        return PaymentResult(order)
    gateway = payments()
    with _card_refusals(session, order):
        if intent.status in ("requires_payment_method", "requires_confirmation") and not intent.error_code:
            intent = gateway.confirm_payment_intent(
                intent.id, payment_method_id,
                idempotency_key=f"shop-order-{order.order_no}-{order.payment_attempt}-confirm")
        else:
            # An earlier card was declined (or the intent is stale): a fresh attempt.
            if intent.status not in ("canceled", "succeeded", "processing"):
                try:
                    gateway.cancel_payment_intent(intent.id)
                except GatewayError:
                    log.info("could not cancel payment intent %s", intent.id)
            order.payment_attempt += 1
            session.flush()
            intent = gateway.create_payment_intent(
                order.total_yen, metadata={"order_no": order.order_no}, description=order.product_name,
                payment_method=payment_method_id, confirm=True,
                idempotency_key=f"shop-order-{order.order_no}-{order.payment_attempt}")
            order.payment_intent_id = intent.id
    apply_payment_intent(session, order, intent)
    if intent.needs_action:
        return PaymentResult(order, action_client_secret=intent.client_secret)
    if order.status == "awaiting_payment" and order.last_error:
        raise ShopError(order.last_error, field="card")
    return PaymentResult(order)


def refresh_order(session: Session, order: ShopOrder) -> ShopOrder:
    """Re-read the order's payment from Stripe (after 3-D Secure, or to check)."""
    if order.status == "awaiting_payment" and order.payment_intent_id:
        try:
            apply_payment_intent(session, order, payments().retrieve_payment_intent(order.payment_intent_id))
        except GatewayError as exc:
            raise ShopError(exc.message) from exc
    return order


def apply_payment_intent(session: Session, order: ShopOrder, intent: PaymentIntentInfo) -> None:
    if intent.succeeded:
        if order.payment_intent_id != intent.id:
            order.payment_intent_id = intent.id
        if not mark_paid(session, order) and order.status == "cancelled":
            try:
                refund_late_payment(session, order, intent)
            except GatewayError as exc:
                # Stripe's own event for this payment comes to the webhook, which refunds then.
                log.warning("refund for cancelled order %s not made yet: %s", order.order_no, exc)
    elif intent.status == "requires_payment_method" and intent.error_message:
        order.last_error = intent.error_message
        _touch(order)
        session.flush()


def mark_paid(session: Session, order: ShopOrder) -> bool:
    """支払待ち → 支払済, once: a conditional UPDATE, so a webhook and the browser racing
    each other move it (and notify the member) only once."""
    now = utcnow()
    result = session.execute(
        update(ShopOrder).where(ShopOrder.id == order.id, ShopOrder.status == "awaiting_payment")
        .values(status="paid", paid_at=now, updated_at=now, last_error=None,
                payment_intent_id=order.payment_intent_id)
        .execution_options(synchronize_session=False))
    session.refresh(order)
    if result.rowcount != 1:
        return False
    procedure = _procedure(session, order.procedure_id)
    if procedure is not None and procedure.status == "awaiting_payment":
        change_status(session, procedure, "paid", note="お支払いを確認しました。発送の準備をいたします。")
    return True


class OrderPaidMeanwhile(ShopError):
    """The payment went through before the cancellation: the order is paid now (keep that)."""


def ensure_cancellable(order: ShopOrder) -> None:
    if order.status == "cancelled":
        raise ShopError("このご注文はすでに取り消されています。")
    if not order.can_be_cancelled:
        raise ShopError("お支払い済みのご注文は、マイページでは取り消せません。"
                        "サービスセンター（0120-00-0000）へお問い合わせください。")


def cancel_order(session: Session, member: Member, order: ShopOrder) -> ShopOrder:
    """The member withdraws an order not paid yet: its PaymentIntent is cancelled at
    Stripe, so nothing can be charged for it afterwards.

    Stripe is asked first: a payment that has just gone through makes the order
    paid (OrderPaidMeanwhile, to be committed), not cancelled. The cancellation is
    claimed with a conditional UPDATE, so a double submit cancels once and a
    payment racing it cannot mark the order paid.
    """
    if order.status == "cancelled":
        return order  # the first submit did it
    ensure_cancellable(order)
    gateway = payments()
    intent = None
    if order.payment_intent_id:
        try:
            intent = gateway.retrieve_payment_intent(order.payment_intent_id)
        except NotFoundAtProvider:
            intent = None  # Stripe has no such payment: nothing to cancel there
        except GatewayError as exc:
            raise ShopError(exc.message) from exc
    if intent is not None and (intent.succeeded or intent.status == "processing"):
        apply_payment_intent(session, order, intent)
        raise OrderPaidMeanwhile("お支払いが完了しているため、このご注文は取り消せません。")
    now = utcnow()
    claimed = session.execute(
        update(ShopOrder).where(ShopOrder.id == order.id, ShopOrder.status == "awaiting_payment")
        .values(status="cancelled", updated_at=now, last_error=None)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(order)
    if claimed != 1:
        if order.status == "cancelled":
            return order
        raise OrderPaidMeanwhile("お支払いが完了しているため、このご注文は取り消せません。")
    if intent is not None and intent.status != "canceled":
        try:
            gateway.cancel_payment_intent(intent.id)
        except GatewayError as exc:
            raise ShopError(exc.message) from exc  # rolled back: the order stays open
    procedure = _procedure(session, order.procedure_id)
    if procedure is not None:
        change_status(session, procedure, "cancelled", note="代金のご請求はありません。")
    else:
        queue_notice(session, member, "【取消】健康チェックキットのご注文",
                     f"{member.name}様 ご注文（注文番号 {order.order_no}）を取り消しました。代金のご請求はありません。")
    audit.record("shop.order_cancel", target_type="shop_order", target_id=order.order_no,
                 detail={"total_yen": order.total_yen, "payment_intent": intent.id if intent else None},
                 member_id=member.id)
    session.flush()
    return order


def refund_late_payment(session: Session, order: ShopOrder, intent: PaymentIntentInfo) -> None:
    """Money taken for an order already cancelled goes back in full; the order stays cancelled.

    The refund's key is the payment's, so the browser and the webhook meeting the
    same payment refund it once (the gateway treats "already refunded" as done).
    """
    log.warning("payment %s arrived for cancelled order %s: refunding", intent.id, order.order_no)
    refund_id = payments().refund_payment_intent(intent.id, idempotency_key=f"shop-refund-{intent.id}")
    member = session.get(Member, order.member_id)
    assert member is not None
    audit.record("shop.order_refund", target_type="shop_order", target_id=order.order_no,
                 detail={"payment_intent": intent.id, "refund": refund_id, "amount_yen": intent.amount},
                 member_id=member.id)
    queue_notice(session, member, "【ご返金】健康チェックキットのご注文",
                 f"{member.name}様 取り消されたご注文（注文番号 {order.order_no}）に{yen(intent.amount)}のお支払いが"
                 "ありましたので、全額を返金いたしました。カードのご利用明細への反映には日数がかかることがあります。")
    session.flush()


def mark_shipped(session: Session, order: ShopOrder, tracking_no: str | None = None) -> ShopOrder:
    """支払済 → 発送済 (the office's work queue, or the CLI for automation)."""
    if order.status != "paid":
        raise ShopError("お支払い済みのご注文だけを発送済みにできます。")
    order.status = "shipped"
    order.shipped_at = utcnow()
    order.tracking_no = tracking_no
    _touch(order)
    procedure = _procedure(session, order.procedure_id)
    if procedure is not None:
        note = "商品を発送しました。"
        if tracking_no:
            note += f"お届けまで2〜3営業日です（お問い合わせ番号 {tracking_no}）。"
        change_status(session, procedure, "shipped", note=note)
    session.flush()
    return order


# --- the regular course ----------------------------------------------------------------
def ensure_customer(session: Session, member: Member) -> str:
    """The member's Stripe customer, created once (the row's unique member_id decides)."""
    row = session.scalar(select(ShopCustomer).where(ShopCustomer.member_id == member.id))
    if row is not None:
        return row.stripe_customer_id
    customer_id = payments().create_customer(name=member.name, email=member.email,
                                             metadata={"member_no": member.member_no},
                                             idempotency_key=f"shop-customer-{member.member_no}")
    try:
        with session.begin_nested():
            session.add(ShopCustomer(member_id=member.id, stripe_customer_id=customer_id))
            session.flush()
    except IntegrityError:
        row = session.scalar(select(ShopCustomer).where(ShopCustomer.member_id == member.id))
        if row is None:
            raise
        return row.stripe_customer_id
    return customer_id


def subscribe(session: Session, member: Member, sku: str, person_id: int | None, *,
              token: str | None, staff_id: int | None = None) -> ShopSubscription:
    """Start a regular course (カード登録待ち); the card is saved next with start_subscription."""
    offer = get_offer(sku)
    if not offer.is_subscription:
        raise ShopError("この商品は定期コースではありません。")
    if not can_buy(member):
        raise ShopError(NOT_ELIGIBLE)
    token = _check_token(token)
    person = check_recipient(session, member, offer, person_id)
    existing = session.scalar(select(ShopSubscription).where(
        ShopSubscription.member_id == member.id, ShopSubscription.insured_person_id == person.id,
        ShopSubscription.status.in_(("active", "past_due")), ShopSubscription.idempotency_key != token))
    if existing is not None:
        raise ShopError(f"{honorific(person.name)}はすでに定期コースをご利用中です。", field="person_id")
    subscription = ShopSubscription(
        member_id=member.id, idempotency_key=token, sku=offer.sku, product_name=offer.name,
        insured_person_id=person.id, recipient_name=person.name, unit_price_yen=offer.member_price_yen,
        tax_yen=tax_amount(offer.member_price_yen), total_yen=tax_included(offer.member_price_yen),
        status="pending", made_by_staff_id=staff_id,
    )
    subscription, created = insert_once(session, subscription)
    if subscription.member_id != member.id:
        raise ShopError("このお申し込みはすでに処理されています。")
    if created:
        procedure = start(session, member, "subscription",
                          f"{subscription.product_name}（{honorific(subscription.recipient_name)}）"
                          f"{yen(subscription.total_yen)}（税込）／{SUBSCRIPTION_MONTHS}か月ごと",
                          detail={"subscription_id": subscription.id}, idempotency_key=f"shop-sub:{token}"[:64],
                          staff_id=staff_id)
        subscription.procedure_id = procedure.id
        audit.record("shop.subscribe", target_type="shop_subscription", target_id=subscription.id,
                     detail={"sku": subscription.sku, "total_yen": subscription.total_yen}, member_id=member.id)
        session.flush()
    return subscription


def card_setup_for_subscription(session: Session, member: Member, subscription: ShopSubscription) -> str:
    """A client secret for Stripe.js to save a card on the member's customer (off-session use)."""
    if subscription.status not in ("pending", "past_due"):
        raise ShopError("この定期コースにはカードを登録できません。")
    try:
        customer = ensure_customer(session, member)
        setup = payments().create_setup_intent(customer=customer, usage="off_session",
                                               metadata={"subscription_ref": str(subscription.id)})
    except GatewayError as exc:
        subscription.last_error = exc.message
        raise ShopError(exc.message) from exc
    return setup.client_secret


def start_subscription(session: Session, member: Member, subscription: ShopSubscription,
                       payment_method_id: str) -> ShopSubscription:
    """Save the card, then a Stripe subscription billed every 6 months at the member price."""
    if subscription.status != "pending":
        return subscription
    _check_payment_method(payment_method_id)
    gateway = payments()
    with _card_refusals(session, subscription):
        customer = ensure_customer(session, member)
        card = gateway.save_payment_method(customer, payment_method_id)
        price = gateway.recurring_price(
            f"{subscription.sku}-{subscription.total_yen}-{SUBSCRIPTION_MONTHS}m".lower(),
            name=subscription.product_name, amount_yen=subscription.total_yen,
            interval_count=SUBSCRIPTION_MONTHS)
        info = gateway.create_subscription(
            customer=customer, price=price,
            metadata={"subscription_ref": str(subscription.id), "member_no": member.member_no},
            idempotency_key=f"shop-sub-{subscription.id}-{subscription.payment_attempt}")
    subscription.payment_attempt += 1
    if info.status in ("incomplete", "incomplete_expired"):
        # The first charge was declined: Stripe keeps an incomplete subscription that expires by itself.
        subscription.last_error = "カードが承認されませんでした。カード会社にお問い合わせいただくか、別のカードをお使いください。"
        session.flush()
        raise ShopError(subscription.last_error, field="card")
    subscription.stripe_subscription_id = info.id
    subscription.stripe_payment_method_id = card.id
    subscription.card_brand = card.brand
    subscription.card_last4 = card.last4
    subscription.last_error = None
    sync_subscription(session, subscription, info)
    if info.latest_invoice:
        try:
            record_invoice(session, subscription, gateway.retrieve_invoice(info.latest_invoice))
        except GatewayError:
            log.warning("first invoice of subscription %s not read; the webhook will record it", info.id)
    return subscription


def sync_subscription(session: Session, subscription: ShopSubscription, info: SubscriptionInfo) -> None:
    """Copy Stripe's current state (re-read, never taken from the event) onto the row."""
    before = subscription.status
    status = {"active": "active", "trialing": "active", "past_due": "past_due", "unpaid": "past_due",
              "canceled": "cancelled", "incomplete_expired": "cancelled"}.get(info.status, before)
    if info.status == "incomplete" and before == "pending":
        status = "pending"
    subscription.status = status
    subscription.current_period_start = info.current_period_start or subscription.current_period_start
    subscription.next_charge_at = None if status == "cancelled" else info.next_charge_at
    subscription.cancel_at_period_end = info.cancel_at_period_end
    if info.cancel_at_period_end:
        subscription.ends_at = info.next_charge_at
    elif status == "cancelled":
        subscription.ends_at = subscription.ends_at or utcnow()
    else:
        subscription.ends_at = None
    _touch(subscription)
    procedure = _procedure(session, subscription.procedure_id)
    if procedure is not None and before != status:
        if status == "active" and procedure.status != "active":
            change_status(session, procedure, "active", note="定期コースを開始しました。")
        elif status == "cancelled" and procedure.status != "cancelled":
            change_status(session, procedure, "cancelled", note="定期コースを終了しました。")
    session.flush()


def record_invoice(session: Session, subscription: ShopSubscription, invoice: InvoiceInfo) -> ShopOrder | None:
    """A paid invoice of the course becomes one delivery (支払済 order), once per invoice."""
    if invoice.status != "paid":
        return None
    key = f"invoice:{invoice.id}"
    member = session.get(Member, subscription.member_id)
    assert member is not None
    if invoice.amount_paid and invoice.amount_paid != subscription.total_yen:
        log.warning("invoice %s paid %s yen, course expects %s", invoice.id, invoice.amount_paid,
                    subscription.total_yen)
    now = utcnow()
    order = ShopOrder(
        order_no=new_order_no(), member_id=member.id, idempotency_key=key, subscription_id=subscription.id,
        sku=subscription.sku, product_name=subscription.product_name,
        insured_person_id=subscription.insured_person_id, recipient_name=subscription.recipient_name,
        unit_price_yen=subscription.unit_price_yen, tax_yen=subscription.tax_yen,
        total_yen=subscription.total_yen, status="paid", stripe_invoice_id=invoice.id,
        payment_intent_id=invoice.payment_intent, card_last4=subscription.card_last4, paid_at=now,
    )
    order, created = insert_once(session, order)
    if created:
        procedure = start(session, member, "shop_order",
                          f"{order.product_name}（{honorific(order.recipient_name)}）定期お届け {yen(order.total_yen)}（税込）",
                          status="paid", detail={"order_no": order.order_no, "invoice": invoice.id},
                          idempotency_key=f"shop-invoice:{invoice.id}"[:64])
        order.procedure_id = procedure.id
        session.flush()
    return order


def get_subscription_for(session: Session, member: Member, subscription_id: int) -> ShopSubscription | None:
    subscription = session.get(ShopSubscription, subscription_id)
    if subscription is None or subscription.member_id != member.id:
        return None
    return subscription


@dataclass(frozen=True)
class SkipPreview:
    """What a skip changes, shown before the member confirms it."""
    charge_on: date  # the charge that will not be made
    delivery_on: date  # around when that delivery would have come
    next_charge_on: date  # the charge after the skip
    next_delivery_on: date
    amount_yen: int  # 税込, not charged on charge_on


@dataclass(frozen=True)
class CancelPreview:
    """What a cancellation ends, shown before the member confirms it."""
    ends_on: date  # no charge and no delivery from this date on
    amount_yen: int  # 税込, the amount of one delivery
    unpaid_yen: int  # 税込, the charge of this period still owed (0 when paid)
    coming_order: ShopOrder | None  # a paid delivery not yet shipped: it still comes


def _can_skip(subscription: ShopSubscription) -> None:
    if subscription.status != "active" or subscription.cancel_at_period_end or not subscription.next_charge_at:
        raise ShopError("この定期コースは、お届けをスキップできる状態ではありません。")
    if subscription.skipped_charge_at and subscription.skipped_charge_at > utcnow():
        raise ShopError("次回のお届けはすでにスキップしています。次のお届けのスキップは、"
                        f"{format_date_jp(subscription.skipped_on)}を過ぎてからお手続きください。")


def skip_preview(subscription: ShopSubscription) -> SkipPreview:
    _can_skip(subscription)
    charge_on = _tokyo_date(subscription.next_charge_at)
    next_charge_on = _tokyo_date(add_months(subscription.next_charge_at, SUBSCRIPTION_MONTHS))
    return SkipPreview(charge_on, charge_on + timedelta(days=DELIVERY_DAYS), next_charge_on,
                       next_charge_on + timedelta(days=DELIVERY_DAYS), subscription.total_yen)


def skip_next_delivery(session: Session, member: Member, subscription: ShopSubscription,
                       charge_on: date) -> ShopSubscription:
    """No charge and no delivery at the next date: the charge after it comes 6 months later.

    `charge_on` is the charge date the member saw on the confirmation page. The
    skip is claimed with a conditional UPDATE first, so a double submit (or two
    tabs) skips once: the second finds that date already skipped and changes
    nothing. A page showing another date than the current one is refused.
    """
    if subscription.skipped_on == charge_on:
        return subscription  # the first submit did it
    _can_skip(subscription)
    skipped = subscription.next_charge_at
    assert skipped is not None
    if _tokyo_date(skipped) != charge_on:
        raise ShopError("次回のご請求日が変わっています。内容をご確認のうえ、もう一度お手続きください。")
    claimed = session.execute(
        update(ShopSubscription).where(ShopSubscription.id == subscription.id,
                                       ShopSubscription.next_charge_at == skipped,
                                       ShopSubscription.cancel_at_period_end.is_(False))
        .values(skipped_charge_at=skipped, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(subscription)
    if claimed != 1:
        if subscription.skipped_on == charge_on:
            return subscription
        raise ShopError("この定期コースは、お届けをスキップできる状態ではありません。")
    _change_course(session, subscription,
                   lambda: payments().postpone_next_charge(subscription.stripe_subscription_id,
                                                           add_months(skipped, SUBSCRIPTION_MONTHS)),
                   lambda: f"{format_date_jp(skipped)}ご請求分のお届けをスキップしました。次回のご請求は"
                           f"{format_date_jp(subscription.next_charge_at)}です。")
    audit.record("shop.subscription_skip", target_type="shop_subscription", target_id=subscription.id,
                 detail={"skipped": charge_on.isoformat()}, member_id=member.id)
    session.flush()
    return subscription


def _change_course(session: Session, subscription: ShopSubscription, call, note) -> None:
    """Ask Stripe for a change (`call()`), take its answer onto the course, and write
    `note()` (worded from the course as it now is) on the course's procedure."""
    try:
        info = call()
    except GatewayError as exc:
        raise ShopError(exc.message) from exc
    sync_subscription(session, subscription, info)
    procedure = _procedure(session, subscription.procedure_id)
    if procedure is not None:
        change_status(session, procedure, procedure.status, note=note())


def _can_cancel(subscription: ShopSubscription) -> None:
    if subscription.status not in ("active", "past_due") or subscription.cancel_at_period_end \
            or not subscription.next_charge_at:
        raise ShopError("この定期コースは解約の手続きができる状態ではありません。")


def cancel_preview(session: Session, subscription: ShopSubscription) -> CancelPreview:
    _can_cancel(subscription)
    coming = session.scalar(select(ShopOrder).where(ShopOrder.subscription_id == subscription.id,
                                                    ShopOrder.status == "paid")
                            .order_by(ShopOrder.paid_at.desc(), ShopOrder.id.desc()).limit(1))
    unpaid = subscription.total_yen if subscription.status == "past_due" else 0
    return CancelPreview(_tokyo_date(subscription.next_charge_at), subscription.total_yen, unpaid, coming)


def cancel_subscription(session: Session, member: Member, subscription: ShopSubscription) -> ShopSubscription:
    """Cancel at the end of the paid period (the delivery already paid for still comes).

    Claimed with a conditional UPDATE first: a double submit cancels once and the
    second finds it done.
    """
    if subscription.cancel_at_period_end:
        return subscription  # the first submit did it
    _can_cancel(subscription)
    claimed = session.execute(
        update(ShopSubscription).where(ShopSubscription.id == subscription.id,
                                       ShopSubscription.cancel_at_period_end.is_(False),
                                       ShopSubscription.status.in_(("active", "past_due")))
        .values(cancel_at_period_end=True, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(subscription)
    if claimed != 1:
        if subscription.cancel_at_period_end:
            return subscription
        raise ShopError("この定期コースは解約の手続きができる状態ではありません。")
    _change_course(session, subscription,
                   lambda: payments().cancel_at_period_end(subscription.stripe_subscription_id),
                   lambda: f"解約を受け付けました。{format_date_jp(subscription.ends_at)}で終了し、以降のご請求はありません。")
    audit.record("shop.subscription_cancel", target_type="shop_subscription", target_id=subscription.id,
                 detail={"ends": _tokyo_date(subscription.ends_at).isoformat() if subscription.ends_at else None},
                 member_id=member.id)
    session.flush()
    return subscription


def next_delivery_date(subscription: ShopSubscription) -> date | None:
    if subscription.status != "active" or subscription.cancel_at_period_end or not subscription.next_charge_at:
        return None
    return _tokyo_date(subscription.next_charge_at) + timedelta(days=DELIVERY_DAYS)


def _tokyo_date(instant: datetime | None) -> date:
    assert instant is not None
    return to_tokyo(instant).date()


# --- reminders -----------------------------------------------------------------------
def send_due_reminders(session: Session) -> int:
    """Queue the reminder for every course charged within the next 14 days, once per charge date.

    Safe to run from cron any number of times a day (one ShopReminder row per period).
    """
    today_ = today()
    sent = 0
    courses = session.scalars(select(ShopSubscription).where(
        ShopSubscription.status == "active", ShopSubscription.cancel_at_period_end.is_(False),
        ShopSubscription.next_charge_at.is_not(None)).order_by(ShopSubscription.id)).all()
    for course in courses:
        charge_date = _tokyo_date(course.next_charge_at)
        days_left = (charge_date - today_).days
        if not 0 < days_left <= REMINDER_DAYS:
            continue
        try:
            with session.begin_nested():
                session.add(ShopReminder(subscription_id=course.id, charge_date=charge_date))
                session.flush()
        except IntegrityError:
            continue  # already reminded for this charge
        member = session.get(Member, course.member_id)
        assert member is not None
        last_day = charge_date - timedelta(days=1)
        card = f"（末尾{course.card_last4}）" if course.card_last4 else ""
        queue_notice(session, member, "【ご案内】健康チェッカー 定期コースの次回お届け",
                     f"{member.name}様 {format_month_day_jp(charge_date)}に{course.product_name}"
                     f"（{course.recipient_name}様）の代金{yen(course.total_yen)}（税込）をご登録のカード{card}で"
                     f"お支払いいただき、お届けします。スキップ・解約は{format_month_day_jp(last_day)}までに"
                     "マイページの「ご注文履歴」からお手続きください。")
        sent += 1
    session.flush()
    return sent


# --- webhooks ---------------------------------------------------------------------------
def handle_event(session: Session, event: dict[str, Any]) -> str:
    """Handle one verified Stripe event once; returns what was done.

    The event id is inserted first in a SAVEPOINT: a repeated or concurrent
    delivery of the same event fails that INSERT and is acknowledged without
    effect. The objects are re-read from Stripe, so events arriving out of order
    cannot move anything backwards. A GatewayError propagates: the caller rolls
    back (the event row too) and answers 5xx so that Stripe retries.
    """
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    if not event_id:
        return "ignored"
    row = StripeEvent(event_id=event_id, type=event_type[:80])
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        log.info("stripe event %s already handled", event_id)
        return "duplicate"
    obj = ((event.get("data") or {}).get("object") or {})
    if not isinstance(obj, dict):
        obj = {}
    try:
        if event_type.startswith("payment_intent."):
            outcome = _on_payment_intent(session, obj)
        elif event_type in ("invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"):
            outcome = _on_invoice(session, obj, failed=event_type == "invoice.payment_failed")
        elif event_type in ("customer.subscription.updated", "customer.subscription.deleted",
                            "customer.subscription.created"):
            outcome = _on_subscription(session, obj)
        else:
            outcome = "ignored"
    except NotFoundAtProvider:
        # Stripe itself does not know the object (every handler reads before it writes):
        # acknowledged and recorded, since a retry would never find it either.
        log.warning("stripe event %s names an object Stripe does not know", event_id)
        outcome = "not_found_at_stripe"
    row.outcome = outcome
    session.flush()
    return outcome


def _on_payment_intent(session: Session, obj: dict[str, Any]) -> str:
    intent_id = obj.get("id")
    order_no = (obj.get("metadata") or {}).get("order_no")
    order = None
    if intent_id:
        order = session.scalar(select(ShopOrder).where(ShopOrder.payment_intent_id == intent_id))
    if order is None and order_no:
        order = session.scalar(select(ShopOrder).where(ShopOrder.order_no == order_no))
    if order is None:
        if obj.get("invoice"):
            return "ignored_invoice_payment"  # the course's payments are handled through invoice events
        log.warning("stripe payment_intent %s for an unknown order (%s)", intent_id, order_no)
        return "unknown_order"
    intent = payments().retrieve_payment_intent(intent_id)
    if order.status == "cancelled" and intent.succeeded:
        # A cancelled order is never revived by a late payment: the money goes back.
        refund_late_payment(session, order, intent)
        return "cancelled_order_refunded"
    if order.status != "awaiting_payment":
        return "order_unchanged"
    apply_payment_intent(session, order, intent)
    if order.status == "paid":
        return "order_paid"
    return "order_failed" if intent.error_message else "order_unchanged"


def _on_invoice(session: Session, obj: dict[str, Any], *, failed: bool) -> str:
    gateway = payments()
    # The signed event names the subscription: an invoice of no course of ours is acknowledged
    # without asking Stripe, which may not know it either (a 404 there would make Stripe retry
    # for days).
    named = obj.get("subscription") if isinstance(obj.get("subscription"), str) else None
    known = session.scalar(select(ShopSubscription.id).where(
        ShopSubscription.stripe_subscription_id == named)) if named else None
    if not obj.get("id") or (named and known is None):
        log.warning("stripe invoice %s for an unknown subscription (%s)", obj.get("id"), named)
        return "unknown_subscription"
    invoice = gateway.retrieve_invoice(obj["id"])
    subscription = session.scalar(select(ShopSubscription).where(
        ShopSubscription.stripe_subscription_id == invoice.subscription)) if invoice.subscription else None
    if subscription is None:
        log.warning("stripe invoice %s for an unknown subscription (%s)", invoice.id, invoice.subscription)
        return "unknown_subscription"
    sync_subscription(session, subscription, gateway.retrieve_subscription(subscription.stripe_subscription_id))
    if invoice.status == "paid":
        subscription.last_error = None
        order = record_invoice(session, subscription, invoice)
        return "delivery_recorded" if order is not None else "ignored"
    if failed:
        subscription.last_error = "定期コースのお支払いができませんでした。カードをご確認ください。"
        member = session.get(Member, subscription.member_id)
        assert member is not None
        queue_notice(session, member, "【重要】健康チェッカー 定期コースのお支払い",
                     f"{member.name}様 定期コースの代金{yen(subscription.total_yen)}（税込）をご登録のカードで"
                     "お支払いいただけませんでした。マイページの「ご注文履歴」からカードをご確認ください。")
        session.flush()
        return "payment_failed"
    return "ignored"


def _on_subscription(session: Session, obj: dict[str, Any]) -> str:
    subscription = session.scalar(select(ShopSubscription).where(
        ShopSubscription.stripe_subscription_id == obj.get("id")))
    if subscription is None:
        log.warning("stripe subscription %s unknown", obj.get("id"))
        return "unknown_subscription"
    sync_subscription(session, subscription, payments().retrieve_subscription(subscription.stripe_subscription_id))
    return "subscription_synced"


# --- reading -----------------------------------------------------------------------------
def orders_for(session: Session, member: Member) -> list[ShopOrder]:
    return list(session.scalars(select(ShopOrder).where(ShopOrder.member_id == member.id)
                                .order_by(ShopOrder.created_at.desc(), ShopOrder.id.desc())))


def subscriptions_for(session: Session, member: Member) -> list[ShopSubscription]:
    return list(session.scalars(select(ShopSubscription).where(ShopSubscription.member_id == member.id)
                                .order_by(ShopSubscription.created_at.desc(), ShopSubscription.id.desc())))


def get_order_for(session: Session, member: Member, order_no: str) -> ShopOrder | None:
    order = session.scalar(select(ShopOrder).where(ShopOrder.order_no == order_no))
    if order is None or order.member_id != member.id:
        return None
    return order


def order_for_procedure(session: Session, procedure: ProcedureRequest) -> ShopOrder | None:
    return session.scalar(select(ShopOrder).where(ShopOrder.procedure_id == procedure.id))


def orders_to_ship(session: Session) -> list[ShopOrder]:
    """Paid and not yet shipped, oldest first: what the fulfilment partner is asked to send."""
    return list(session.scalars(select(ShopOrder).where(ShopOrder.status == "paid")
                                .order_by(ShopOrder.paid_at, ShopOrder.id)))


def get_order_by_no(session: Session, order_no: str) -> ShopOrder | None:
    return session.scalar(select(ShopOrder).where(ShopOrder.order_no == order_no))
