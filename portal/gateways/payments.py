"""Card payments through Stripe. The only module of the portal that imports stripe.

`build(config)` gives a `StripePayments` when a secret key is configured, else a
`DisabledPayments` whose every call raises `PaymentsUnavailable`, so the shop can
show 「現在オンライン決済をご利用いただけません」 instead of crashing.

Everything returned is a plain dataclass (never a stripe object), with instants
as timezone-aware UTC datetimes. Every create call passes the idempotency key the
caller derived from its own row; the portal does not rely on Stripe honouring it
(localstripe ignores it), the order row with its unique key is the real guard.

Development and tests talk to localstripe (`PORTAL_STRIPE_API_BASE`). Where it
differs from Stripe the differences are handled here, in one place:
- it has no Prices API: a recurring price falls back to a Plan with the same
  interval (a Plan id is accepted wherever Stripe takes a price);
- it ignores `interval_count` when computing a subscription's period: the period
  end is recomputed from the start and the plan's interval_count;
- its subscription update rejects `proration_behavior`: that parameter is only
  sent to the real Stripe API.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import stripe
from flask import current_app

from portal.clock import utcnow
from portal.gateways import GatewayError
from portal.jp.dates import add_months

log = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = "現在オンライン決済をご利用いただけません。しばらくしてからもう一度お試しください。"
OUTAGE_MESSAGE = ("決済サービスに接続できませんでした。ご注文は保存されています。"
                  "しばらくしてから、もう一度お支払いの手続きをしてください。")
REQUEST_ERROR_MESSAGE = "お支払いの処理でエラーが発生しました。お手数ですがサービスセンターへお問い合わせください。"

# Decline reasons a member can act on (Stripe decline_code or error code → Japanese).
DECLINE_MESSAGES = {
    "insufficient_funds": "ご利用可能額が不足しているため、カードが承認されませんでした。",
    "expired_card": "カードの有効期限が切れています。別のカードをお使いください。",
    "incorrect_cvc": "セキュリティコードが正しくありません。",
    "invalid_cvc": "セキュリティコードが正しくありません。",
    "incorrect_number": "カード番号が正しくありません。",
    "invalid_number": "カード番号が正しくありません。",
    "invalid_expiry_year": "カードの有効期限が正しくありません。",
    "invalid_expiry_month": "カードの有効期限が正しくありません。",
    "lost_card": "このカードはご利用いただけません。カード会社にお問い合わせください。",
    "stolen_card": "このカードはご利用いただけません。カード会社にお問い合わせください。",
    "processing_error": "カードの処理中にエラーが発生しました。もう一度お試しください。",
    "authentication_required": "カードの本人認証（3Dセキュア）が必要です。もう一度お試しください。",
    "payment_intent_authentication_failure": "カードの本人認証（3Dセキュア）が完了しませんでした。",
    "do_not_honor": "カードが承認されませんでした。カード会社にお問い合わせください。",
    "card_declined": "カードが承認されませんでした。カード会社にお問い合わせいただくか、別のカードをお使いください。",
}
GENERIC_DECLINE = DECLINE_MESSAGES["card_declined"]


def decline_message(code: str | None, decline_code: str | None = None) -> str:
    return DECLINE_MESSAGES.get(decline_code or "", None) or DECLINE_MESSAGES.get(code or "", GENERIC_DECLINE)


class PaymentsUnavailable(GatewayError):
    """No payment provider is configured or it cannot be reached."""

    def __init__(self, message: str = UNAVAILABLE_MESSAGE, *, detail: str = "") -> None:
        super().__init__(message, detail=detail)


class CardDeclined(GatewayError):
    """The card was refused; `message` says why, in Japanese."""

    def __init__(self, message: str = GENERIC_DECLINE, *, code: str | None = None,
                 decline_code: str | None = None, detail: str = "") -> None:
        super().__init__(message, detail=detail or f"card declined: {code} {decline_code}")
        self.code = code
        self.decline_code = decline_code


class NotFoundAtProvider(GatewayError):
    """The object does not exist at Stripe (unknown id)."""


class WebhookSignatureError(GatewayError):
    """The webhook's signature is missing, wrong or too old."""


# --- plain results ----------------------------------------------------------------
def _instant(value: Any) -> datetime | None:
    if value in (None, "", 0):
        return None
    return datetime.fromtimestamp(int(value), tz=timezone.utc)


def _id_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get("id")
    return str(value)


@dataclass
class PaymentIntentInfo:
    id: str
    status: str
    amount: int
    currency: str
    client_secret: str | None
    payment_method: str | None
    error_code: str | None = None
    error_message: str | None = None  # Japanese, for the member
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def needs_action(self) -> bool:
        return self.status == "requires_action"

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> PaymentIntentInfo:
        error = data.get("last_payment_error") or None
        return cls(
            id=data["id"], status=data["status"], amount=int(data["amount"]), currency=data["currency"],
            client_secret=data.get("client_secret"), payment_method=_id_of(data.get("payment_method")),
            error_code=(error or {}).get("decline_code") or (error or {}).get("code"),
            error_message=decline_message((error or {}).get("code"), (error or {}).get("decline_code"))
            if error else None,
            metadata=dict(data.get("metadata") or {}),
        )


@dataclass
class SubscriptionInfo:
    id: str
    status: str
    customer: str | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    trial_end: datetime | None
    latest_invoice: str | None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def next_charge_at(self) -> datetime | None:
        """When the card is next charged: the end of a skip (trial), else the period end."""
        if self.trial_end and (self.current_period_end is None or self.trial_end > self.current_period_end):
            return self.trial_end
        return self.current_period_end


@dataclass
class InvoiceInfo:
    id: str
    status: str
    subscription: str | None
    customer: str | None
    amount_paid: int
    amount_due: int
    payment_intent: str | None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class SetupInfo:
    id: str
    client_secret: str


@dataclass
class CardInfo:
    id: str
    customer: str | None
    brand: str | None
    last4: str | None


# --- gateways --------------------------------------------------------------------
class DisabledPayments:
    """No secret key configured: the shop says so and sells nothing online."""

    available = False
    publishable_key = None
    js_url = None

    def __getattr__(self, name: str):
        def unavailable(*_args: Any, **_kwargs: Any):
            raise PaymentsUnavailable(detail=f"payments disabled ({name})")
        return unavailable


class StripePayments:
    available = True

    def __init__(self, secret_key: str, *, publishable_key: str | None = None, webhook_secret: str | None = None,
                 api_base: str | None = None, timeout: float = 10.0) -> None:
        base = (api_base or "https://api.stripe.com").rstrip("/")
        self.api_base = base
        self.is_local = not base.startswith("https://api.stripe.com")
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        # localstripe serves a stand-in Stripe.js at /js.stripe.com/v3/.
        self.js_url = f"{base}/js.stripe.com/v3/" if self.is_local else "https://js.stripe.com/v3/"
        self._client = stripe.StripeClient(
            secret_key, base_addresses={"api": base}, max_network_retries=0 if self.is_local else 2,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self._prices: dict[str, tuple[str, str]] = {}

    # -- error mapping --
    def _call(self, what: str, func, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            result = func(*args, **kwargs)
        except stripe.CardError as exc:
            code = getattr(exc, "code", None)
            error = getattr(exc, "error", None)
            decline_code = getattr(error, "decline_code", None) if error is not None else None
            raise CardDeclined(decline_message(code, decline_code), code=code, decline_code=decline_code,
                               detail=f"{what}: {exc.user_message or exc}") from exc
        except stripe.StripeError as exc:
            if exc.http_status == 404:  # an unknown id, or an endpoint the API does not have
                raise NotFoundAtProvider(REQUEST_ERROR_MESSAGE, detail=f"{what}: not found") from exc
            self._raise_mapped(what, exc)
        return result.to_dict() if hasattr(result, "to_dict") else result

    @staticmethod
    def _raise_mapped(what: str, exc: stripe.StripeError) -> None:
        outage = (stripe.APIConnectionError, stripe.RateLimitError, stripe.AuthenticationError,
                  stripe.PermissionError, stripe.APIError)
        if isinstance(exc, outage):
            raise PaymentsUnavailable(OUTAGE_MESSAGE, detail=f"{what}: {type(exc).__name__}: {exc}") from exc
        raise GatewayError(REQUEST_ERROR_MESSAGE, detail=f"{what}: {exc}") from exc

    @staticmethod
    def _options(idempotency_key: str | None) -> dict[str, Any]:
        return {"idempotency_key": idempotency_key} if idempotency_key else {}

    # -- one-time payments --
    def create_payment_intent(self, amount_yen: int, *, metadata: dict[str, str], idempotency_key: str,
                              payment_method: str | None = None, confirm: bool = False,
                              description: str | None = None) -> PaymentIntentInfo:
        params: dict[str, Any] = {"amount": amount_yen, "currency": "jpy", "metadata": metadata}
        if not self.is_local:
            params["payment_method_types"] = ["card"]
            if description:
                params["description"] = description
        if payment_method:
            params["payment_method"] = payment_method
        if confirm:
            params["confirm"] = True
        data = self._call("create payment intent", self._client.v1.payment_intents.create,
                          params=params, options=self._options(idempotency_key))
        return PaymentIntentInfo.from_stripe(data)

    def retrieve_payment_intent(self, intent_id: str) -> PaymentIntentInfo:
        data = self._call("retrieve payment intent", self._client.v1.payment_intents.retrieve, intent_id)
        return PaymentIntentInfo.from_stripe(data)

    def confirm_payment_intent(self, intent_id: str, payment_method: str, *,
                               idempotency_key: str) -> PaymentIntentInfo:
        """Attach the card the browser collected and charge it (server-side confirmation).

        A decline raises CardDeclined; the intent stays open for another card.
        """
        self._call("set payment method", self._client.v1.payment_intents.update, intent_id,
                   params={"payment_method": payment_method})
        data = self._call("confirm payment intent", self._client.v1.payment_intents.confirm, intent_id,
                          options=self._options(idempotency_key))
        return PaymentIntentInfo.from_stripe(data)

    def cancel_payment_intent(self, intent_id: str) -> PaymentIntentInfo:
        data = self._call("cancel payment intent", self._client.v1.payment_intents.cancel, intent_id)
        return PaymentIntentInfo.from_stripe(data)

    def refund_payment_intent(self, intent_id: str, *, idempotency_key: str) -> str | None:
        """Give back the whole amount of a succeeded payment; the refund's id.

        A payment already refunded counts as done (None), so a retried caller
        never fails on its own earlier success.
        """
        def create(**kwargs: Any) -> Any:
            try:
                return self._client.v1.refunds.create(**kwargs)
            except stripe.InvalidRequestError as exc:
                if getattr(exc, "code", None) == "charge_already_refunded":
                    return {"id": None}
                raise
        data = self._call("refund payment intent", create, params={"payment_intent": intent_id},
                          options=self._options(idempotency_key))
        return data.get("id")

    # -- cards and customers --
    def create_setup_intent(self, *, customer: str | None = None, usage: str = "on_session",
                            metadata: dict[str, str] | None = None) -> SetupInfo:
        """A SetupIntent whose client secret lets Stripe.js collect a card in the browser."""
        params: dict[str, Any] = {"usage": usage, "metadata": metadata or {}}
        if customer:
            params["customer"] = customer
        data = self._call("create setup intent", self._client.v1.setup_intents.create, params=params)
        return SetupInfo(id=data["id"], client_secret=data["client_secret"])

    def create_customer(self, *, name: str, email: str | None, metadata: dict[str, str],
                        idempotency_key: str) -> str:
        params: dict[str, Any] = {"name": name, "metadata": metadata}
        if email:
            params["email"] = email
        data = self._call("create customer", self._client.v1.customers.create, params=params,
                          options=self._options(idempotency_key))
        return data["id"]

    def retrieve_payment_method(self, payment_method: str) -> CardInfo:
        data = self._call("retrieve payment method", self._client.v1.payment_methods.retrieve, payment_method)
        card = data.get("card") or {}
        return CardInfo(id=data["id"], customer=_id_of(data.get("customer")), brand=card.get("brand"),
                        last4=card.get("last4"))

    def save_payment_method(self, customer: str, payment_method: str) -> CardInfo:
        """Attach the card to the customer (if Stripe has not yet) and make it the default."""
        card = self.retrieve_payment_method(payment_method)
        if card.customer != customer:
            self._call("attach payment method", self._client.v1.payment_methods.attach, payment_method,
                       params={"customer": customer})
        self._call("set default payment method", self._client.v1.customers.update, customer,
                   params={"invoice_settings": {"default_payment_method": payment_method}})
        card.customer = customer
        return card

    # -- subscriptions --
    def recurring_price(self, key: str, *, name: str, amount_yen: int, interval_count: int = 6) -> tuple[str, str]:
        """('price', id) for `amount_yen` every `interval_count` months, created once per key.

        Falls back to ('plan', id) when the API has no Prices endpoint (localstripe).
        """
        if key in self._prices:
            return self._prices[key]
        try:
            found = self._call("list prices", self._client.v1.prices.list,
                               params={"lookup_keys": [key], "active": True, "limit": 1})
            if found.get("data"):
                ref = ("price", found["data"][0]["id"])
            else:
                data = self._call("create price", self._client.v1.prices.create, params={
                    "currency": "jpy", "unit_amount": amount_yen, "lookup_key": key,
                    "recurring": {"interval": "month", "interval_count": interval_count},
                    "product_data": {"name": name},
                }, options=self._options(f"price-{key}"))
                ref = ("price", data["id"])
        except NotFoundAtProvider:
            ref = ("plan", self._ensure_plan(key, name=name, amount_yen=amount_yen, interval_count=interval_count))
        self._prices[key] = ref
        return ref

    def _ensure_plan(self, key: str, *, name: str, amount_yen: int, interval_count: int) -> str:
        try:
            return self._call("retrieve plan", self._client.v1.plans.retrieve, key)["id"]
        except NotFoundAtProvider:
            product = self._call("create product", self._client.v1.products.create, params={"name": name})
            return self._call("create plan", self._client.v1.plans.create, params={
                "id": key, "currency": "jpy", "amount": amount_yen, "interval": "month",
                "interval_count": interval_count, "product": product["id"],
            })["id"]

    def create_subscription(self, *, customer: str, price: tuple[str, str], metadata: dict[str, str],
                            idempotency_key: str) -> SubscriptionInfo:
        kind, price_id = price
        data = self._call("create subscription", self._client.v1.subscriptions.create, params={
            "customer": customer, "items": [{kind: price_id}], "metadata": metadata,
        }, options=self._options(idempotency_key))
        return self._subscription(data)

    def retrieve_subscription(self, subscription_id: str) -> SubscriptionInfo:
        data = self._call("retrieve subscription", self._client.v1.subscriptions.retrieve, subscription_id)
        return self._subscription(data)

    def postpone_next_charge(self, subscription_id: str, until: datetime) -> SubscriptionInfo:
        """Skip a delivery: no charge until `until` (Stripe's trial_end), no proration."""
        params: dict[str, Any] = {"trial_end": int(until.timestamp())}
        if not self.is_local:
            params["proration_behavior"] = "none"
        data = self._call("postpone subscription", self._client.v1.subscriptions.update, subscription_id,
                          params=params)
        return self._subscription(data)

    def cancel_at_period_end(self, subscription_id: str) -> SubscriptionInfo:
        data = self._call("cancel subscription", self._client.v1.subscriptions.update, subscription_id,
                          params={"cancel_at_period_end": True})
        return self._subscription(data)

    def _subscription(self, data: dict[str, Any]) -> SubscriptionInfo:
        items = ((data.get("items") or {}).get("data") or [{}])
        item = items[0] if items else {}
        start = _instant(data.get("current_period_start") or item.get("current_period_start"))
        end = _instant(data.get("current_period_end") or item.get("current_period_end"))
        recurring = (item.get("price") or {}).get("recurring") or {}
        plan = item.get("plan") or data.get("plan") or {}
        interval = recurring.get("interval") or plan.get("interval")
        interval_count = int(recurring.get("interval_count") or plan.get("interval_count") or 1)
        if self.is_local and start and end and interval == "month" and interval_count > 1:
            # localstripe ignores interval_count; Stripe does not.
            end = add_months(start, interval_count)
        return SubscriptionInfo(
            id=data["id"], status=data["status"], customer=_id_of(data.get("customer")),
            current_period_start=start, current_period_end=end,
            cancel_at_period_end=bool(data.get("cancel_at_period_end")),
            trial_end=_instant(data.get("trial_end")), latest_invoice=_id_of(data.get("latest_invoice")),
            metadata=dict(data.get("metadata") or {}),
        )

    def retrieve_invoice(self, invoice_id: str) -> InvoiceInfo:
        data = self._call("retrieve invoice", self._client.v1.invoices.retrieve, invoice_id)
        subscription = data.get("subscription")
        if subscription is None:  # newer API versions nest it under parent
            subscription = ((data.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        payment_intent = data.get("payment_intent")
        return InvoiceInfo(
            id=data["id"], status=data.get("status") or "", subscription=_id_of(subscription),
            customer=_id_of(data.get("customer")), amount_paid=int(data.get("amount_paid") or 0),
            amount_due=int(data.get("amount_due") or 0), payment_intent=_id_of(payment_intent),
            metadata=dict(data.get("metadata") or {}),
        )

    # -- webhooks --
    def verify_webhook(self, payload: bytes, signature: str | None, *, tolerance: int = 300) -> dict[str, Any]:
        """The event as a dict once the Stripe-Signature header checks out; else WebhookSignatureError."""
        if not self.webhook_secret:
            raise WebhookSignatureError(detail="no webhook secret configured")
        # Stripe's library refuses a timestamp older than the tolerance but takes any future one;
        # a signature made for later would stay replayable until then.
        signed_at = _signature_timestamp(signature)
        if signed_at is not None and signed_at > utcnow().timestamp() + tolerance:
            raise WebhookSignatureError(detail="signature timestamp too far in the future")
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret, tolerance=tolerance)
        except stripe.SignatureVerificationError as exc:
            raise WebhookSignatureError(detail=f"bad signature: {exc}") from exc
        except ValueError as exc:
            raise WebhookSignatureError(detail=f"bad payload: {exc}") from exc
        return event.to_dict()


def _signature_timestamp(header: str | None) -> int | None:
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            return int(value)
    return None


def build(config: dict[str, Any]) -> StripePayments | DisabledPayments:
    secret_key = config.get("STRIPE_SECRET_KEY")
    if not secret_key:
        return DisabledPayments()
    return StripePayments(secret_key, publishable_key=config.get("STRIPE_PUBLISHABLE_KEY"),
                          webhook_secret=config.get("STRIPE_WEBHOOK_SECRET"),
                          api_base=config.get("STRIPE_API_BASE"),
                          timeout=float(config.get("STRIPE_TIMEOUT_SECONDS", 10)))


def payments() -> StripePayments | DisabledPayments:
    """The app's payment gateway, built on first use from its config."""
    gateway = current_app.extensions.get("payments_gateway")
    if gateway is None:
        gateway = current_app.extensions.setdefault("payments_gateway", build(current_app.config))
    return gateway
