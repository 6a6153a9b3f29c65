"""Online applications for こくみん共済 (the member's own, or a child's こども保障)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, sql_in
from portal.members.models import InsuredPerson

APPLICATION_STATUSES = ("received", "under_review", "approved", "declined", "withdrawn")
PAYMENT_METHODS = ("debit", "transfer")
PAYMENT_METHOD_LABELS = {"debit": "口座振替", "transfer": "払込票"}
PENDING_STATUSES = ("received", "under_review")


class Application(Base):
    __tablename__ = "enrollment_applications"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(APPLICATION_STATUSES)}", name="status"),
        CheckConstraint("monthly_premium_yen >= 0", name="premium_non_negative"),
        CheckConstraint("units > 0", name="units_positive"),
        CheckConstraint(f"payment_method IN {sql_in(PAYMENT_METHODS)}", name="payment_method"),
        # The same plan for the same person cannot be pending twice, even when two
        # requests race past the service's own check.
        Index("uq_enrollment_applications_pending_plan", "insured_person_id", "product_code", unique=True,
              sqlite_where=text("status IN ('received', 'under_review')"),
              postgresql_where=text("status IN ('received', 'under_review')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    procedure_request_id: Mapped[int] = mapped_column(ForeignKey("procedure_requests.id"), unique=True)
    insured_person_id: Mapped[int] = mapped_column(ForeignKey("insured_persons.id"))
    product_code: Mapped[str] = mapped_column(String(20))
    units: Mapped[int] = mapped_column(Integer)
    monthly_premium_yen: Mapped[int] = mapped_column(Integer)
    debit_account_id: Mapped[int | None] = mapped_column(ForeignKey("debit_accounts.id"))
    payment_method: Mapped[str] = mapped_column(String(10), default="debit", server_default="debit")
    # 告知 answers as JSON ({"q1": "no", ...}): 要配慮個人情報, shown only to the
    # office and each viewing audited.
    declaration: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="received")
    decline_reason: Mapped[str | None] = mapped_column(String(300))
    start_date: Mapped[date | None] = mapped_column(Date)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    decided_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    insured_person: Mapped[InsuredPerson] = relationship()

    @property
    def payment_method_label(self) -> str:
        return PAYMENT_METHOD_LABELS[self.payment_method]


class OnlineRouteDeclined(Base):
    """The only trace a health declaration with a 'yes' leaves: that the online
    route was declined (no answers are kept)."""

    __tablename__ = "enrollment_online_declined"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    product_code: Mapped[str] = mapped_column(String(20))
    declined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
