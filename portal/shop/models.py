"""Orders, regular-course subscriptions, Stripe customers, webhook events, reminders."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import to_tokyo, utcnow
from portal.db import Base, UTCDateTime, sql_in

ORDER_STATUSES = ("awaiting_payment", "paid", "shipped", "cancelled")
ORDER_STATUS_LABELS = {"awaiting_payment": "支払待ち", "paid": "支払済", "shipped": "発送済", "cancelled": "取消"}
SUBSCRIPTION_STATUSES = ("pending", "active", "past_due", "cancelled")
SUBSCRIPTION_STATUS_LABELS = {"pending": "カード登録待ち", "active": "継続中", "past_due": "お支払い未完了",
                              "cancelled": "解約済"}


class ShopCustomer(Base):
    """The member's customer at Stripe (one per member)."""

    __tablename__ = "shop_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), unique=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShopSubscription(Base):
    """健康チェッカー regular course: billed and delivered every 6 months."""

    __tablename__ = "shop_subscriptions"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(SUBSCRIPTION_STATUSES)}", name="status"),
        CheckConstraint("unit_price_yen > 0", name="unit_price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedure_requests.id"))
    # The form's one-time token: a double click finds this row instead of making a second.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    sku: Mapped[str] = mapped_column(String(20))
    product_name: Mapped[str] = mapped_column(String(100))
    insured_person_id: Mapped[int | None] = mapped_column(ForeignKey("insured_persons.id", ondelete="SET NULL"))
    recipient_name: Mapped[str] = mapped_column(String(60))
    unit_price_yen: Mapped[int] = mapped_column(Integer)  # 税抜, per delivery
    tax_yen: Mapped[int] = mapped_column(Integer)
    total_yen: Mapped[int] = mapped_column(Integer)  # 税込, charged per delivery
    status: Mapped[str] = mapped_column(String(12), default="pending")
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    stripe_payment_method_id: Mapped[str | None] = mapped_column(String(64))
    payment_attempt: Mapped[int] = mapped_column(Integer, default=1)
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    current_period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_charge_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The charge date the member chose to skip (the delivery that will not come).
    skipped_charge_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    made_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def status_label(self) -> str:
        if self.status == "active" and self.cancel_at_period_end:
            return "解約予定"
        return SUBSCRIPTION_STATUS_LABELS[self.status]

    @property
    def next_charge_date(self) -> date | None:
        return to_tokyo(self.next_charge_at).date() if self.next_charge_at else None

    @property
    def ends_on(self) -> date | None:
        return to_tokyo(self.ends_at).date() if self.ends_at else None

    @property
    def skipped_on(self) -> date | None:
        return to_tokyo(self.skipped_charge_at).date() if self.skipped_charge_at else None

    @property
    def badge(self) -> str:
        return {"pending": "awaiting_payment", "past_due": "failed", "cancelled": "cancelled"}.get(
            self.status, "active")


class ShopOrder(Base):
    """One delivery of one kit: a one-time purchase or one paid period of a regular course."""

    __tablename__ = "shop_orders"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(ORDER_STATUSES)}", name="status"),
        CheckConstraint("total_yen = unit_price_yen + tax_yen", name="total_is_price_plus_tax"),
        Index("ix_shop_orders_member_created", "member_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(16), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedure_requests.id"))
    # One-time orders: the form's token. Regular-course deliveries: "invoice:<stripe invoice id>".
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("shop_subscriptions.id"), index=True)
    sku: Mapped[str] = mapped_column(String(20))
    product_name: Mapped[str] = mapped_column(String(100))
    insured_person_id: Mapped[int | None] = mapped_column(ForeignKey("insured_persons.id", ondelete="SET NULL"))
    recipient_name: Mapped[str] = mapped_column(String(60))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price_yen: Mapped[int] = mapped_column(Integer)  # 税抜 (× quantity: one line)
    tax_yen: Mapped[int] = mapped_column(Integer)
    total_yen: Mapped[int] = mapped_column(Integer)  # 税込
    status: Mapped[str] = mapped_column(String(20), default="awaiting_payment")
    payment_intent_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    payment_attempt: Mapped[int] = mapped_column(Integer, default=1)
    last_error: Mapped[str | None] = mapped_column(String(300))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tracking_no: Mapped[str | None] = mapped_column(String(40))
    made_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def status_label(self) -> str:
        return ORDER_STATUS_LABELS[self.status]

    @property
    def can_be_cancelled(self) -> bool:
        """Only a one-time order not paid yet (nothing charged, nothing shipped)."""
        return self.status == "awaiting_payment" and self.subscription_id is None

    @property
    def has_receipt(self) -> bool:
        return self.status in ("paid", "shipped") and self.paid_at is not None


class StripeEvent(Base):
    """Every webhook event handled once: the event id is unique."""

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(80), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShopReminder(Base):
    """A reminder sent 14 days before a regular-course charge: one per charge date."""

    __tablename__ = "shop_reminders"
    __table_args__ = (UniqueConstraint("subscription_id", "charge_date", name="uq_shop_reminders_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("shop_subscriptions.id", ondelete="CASCADE"))
    charge_date: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
