"""portal.gateways.payments against a real localstripe server (fixtures from tests/shop)."""
from __future__ import annotations

import time

import pytest

from portal.gateways import GatewayError
from portal.gateways.payments import (CardDeclined, DisabledPayments, NotFoundAtProvider, PaymentsUnavailable,
                                      StripePayments, WebhookSignatureError, build, decline_message)
from tests.shop.stripe_fixtures import (DECLINED_AT_CHARGE, DECLINED_AT_SETUP, GOOD_CARD, SECRET_KEY,  # noqa: F401
                                        WEBHOOK_SECRET, _free_port, card, event_payload, localstripe_url, sign,
                                        stripe_api)


@pytest.fixture
def gateway(localstripe_url) -> StripePayments:
    return StripePayments(SECRET_KEY, publishable_key="pk_test_x", webhook_secret=WEBHOOK_SECRET,
                          api_base=localstripe_url, timeout=5)


def test_without_a_secret_key_every_call_says_payments_are_unavailable():
    gateway = build({"STRIPE_SECRET_KEY": None})
    assert isinstance(gateway, DisabledPayments) and gateway.available is False
    with pytest.raises(PaymentsUnavailable) as caught:
        gateway.create_payment_intent(100, metadata={}, idempotency_key="k")
    assert "現在オンライン決済をご利用いただけません" in caught.value.message
    assert isinstance(caught.value, GatewayError)


def test_build_points_at_the_configured_api_base(localstripe_url):
    gateway = build({"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": localstripe_url})
    assert gateway.available and gateway.is_local
    assert gateway.js_url == f"{localstripe_url}/js.stripe.com/v3/"
    assert build({"STRIPE_SECRET_KEY": "sk_live_x"}).js_url == "https://js.stripe.com/v3/"


def test_payment_intent_create_confirm_and_retrieve(gateway, card):
    intent = gateway.create_payment_intent(6688, metadata={"order_no": "S1"}, idempotency_key="order-S1-1")
    assert (intent.status, intent.amount, intent.currency, intent.metadata) == (
        "requires_payment_method", 6688, "jpy", {"order_no": "S1"})
    paid = gateway.confirm_payment_intent(intent.id, card(GOOD_CARD), idempotency_key="order-S1-1-confirm")
    assert paid.succeeded and gateway.retrieve_payment_intent(intent.id).succeeded


def test_a_declined_charge_raises_card_declined_in_japanese(gateway, card):
    intent = gateway.create_payment_intent(6688, metadata={}, idempotency_key="order-S2-1")
    with pytest.raises(CardDeclined) as caught:
        gateway.confirm_payment_intent(intent.id, card(DECLINED_AT_CHARGE), idempotency_key="order-S2-1-confirm")
    assert caught.value.code == "card_declined" and "カードが承認されませんでした" in caught.value.message
    after = gateway.retrieve_payment_intent(intent.id)
    assert after.status == "requires_payment_method" and after.error_code == "card_declined"
    assert "承認されませんでした" in after.error_message


def test_decline_reasons_are_specific_when_stripe_says_why():
    assert "不足" in decline_message("card_declined", "insufficient_funds")
    assert "有効期限" in decline_message("expired_card")
    assert "セキュリティコード" in decline_message("incorrect_cvc")
    assert "承認されませんでした" in decline_message("something_new")


def test_unknown_object_and_unreachable_server(gateway):
    with pytest.raises(NotFoundAtProvider):
        gateway.retrieve_payment_intent("pi_doesnotexist")
    down = StripePayments(SECRET_KEY, api_base=f"http://127.0.0.1:{_free_port()}", timeout=2)
    with pytest.raises(PaymentsUnavailable) as caught:
        down.create_payment_intent(100, metadata={}, idempotency_key="k")
    assert "接続できませんでした" in caught.value.message


def test_saved_card_and_six_monthly_subscription(gateway, card):
    customer = gateway.create_customer(name="山田 太郎", email=None, metadata={"member_no": "1"},
                                       idempotency_key="cust-1")
    setup = gateway.create_setup_intent(customer=customer, usage="off_session")
    assert setup.client_secret.startswith(setup.id + "_secret_")
    saved = gateway.save_payment_method(customer, card(GOOD_CARD))
    assert (saved.customer, saved.last4) == (customer, "4242")
    price = gateway.recurring_price("test-kc-5060-6m", name="健康チェッカー", amount_yen=5060, interval_count=6)
    assert price[0] == "plan"  # localstripe has no Prices API
    assert gateway.recurring_price("test-kc-5060-6m", name="x", amount_yen=5060) == price
    info = gateway.create_subscription(customer=customer, price=price, metadata={"ref": "1"},
                                       idempotency_key="sub-1")
    assert info.status == "active" and info.latest_invoice
    months = (info.current_period_end.year - info.current_period_start.year) * 12 + \
        info.current_period_end.month - info.current_period_start.month
    assert months == 6
    invoice = gateway.retrieve_invoice(info.latest_invoice)
    assert (invoice.status, invoice.amount_paid, invoice.subscription) == ("paid", 5060, info.id)
    later = gateway.postpone_next_charge(info.id, info.current_period_end.replace(year=info.current_period_end.year + 1))
    assert later.next_charge_at == info.current_period_end.replace(year=info.current_period_end.year + 1)
    ending = gateway.cancel_at_period_end(info.id)
    assert ending.cancel_at_period_end and ending.status == "active"


def test_saving_a_declined_card_raises(gateway, card):
    customer = gateway.create_customer(name="x", email=None, metadata={}, idempotency_key="cust-2")
    with pytest.raises(CardDeclined):
        gateway.save_payment_method(customer, card(DECLINED_AT_SETUP))


def test_webhook_signature_valid_invalid_stale(gateway):
    payload = event_payload("evt_1", "payment_intent.succeeded", {"id": "pi_1"})
    event = gateway.verify_webhook(payload, sign(payload))
    assert event["id"] == "evt_1" and event["data"]["object"]["id"] == "pi_1"
    with pytest.raises(WebhookSignatureError):
        gateway.verify_webhook(payload, sign(payload, secret="whsec_other"))
    with pytest.raises(WebhookSignatureError):
        gateway.verify_webhook(payload, sign(payload, timestamp=int(time.time()) - 301))
    with pytest.raises(WebhookSignatureError):
        gateway.verify_webhook(payload, None)
    unsigned = StripePayments(SECRET_KEY, webhook_secret=None)
    with pytest.raises(WebhookSignatureError):
        unsigned.verify_webhook(payload, sign(payload))


def test_payments_accessor_is_built_lazily_once(app):
    from portal.gateways.payments import payments

    with app.app_context():
        app.extensions.pop("payments_gateway", None)
        first = payments()
        assert payments() is first and app.extensions["payments_gateway"] is first
        app.extensions.pop("payments_gateway", None)
