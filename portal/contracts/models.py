"""Products, contracts, coverages, premium history and payments."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, sql_in
from portal.jp.masking import mask_digits
from portal.members.models import DebitAccount, InsuredPerson, Member

PRODUCT_KINDS = ("kokumin_sogo", "kokumin_iryo", "kokumin_kodomo", "sumairu", "mycar", "nenkin")
DEDUCTION_CATEGORIES = ("general_life", "medical_care", "pension", "earthquake", "none")
DEDUCTION_LABELS = {
    "general_life": "一般生命保険料",
    "medical_care": "介護医療保険料",
    "pension": "個人年金保険料",
    "earthquake": "地震保険料",
    "none": "対象外",
}
PREMIUM_PERIODS = ("monthly", "yearly")
CONTRACT_STATUSES = ("in_force", "pending", "lapsed", "ended")
CONTRACT_STATUS_LABELS = {"in_force": "有効", "pending": "開始前", "lapsed": "失効", "ended": "満了・解約"}
PAYMENT_METHODS = ("debit", "card", "transfer")
PAYMENT_METHOD_LABELS = {"debit": "口座振替", "card": "クレジットカード", "transfer": "払込票"}
CERTIFICATE_STATUSES = ("preparing", "shipped")
STRUCTURES = ("wooden", "steel", "mansion")
STRUCTURE_LABELS = {"wooden": "木造", "steel": "鉄骨", "mansion": "マンション"}

COVERAGE_KINDS = (
    "death_traffic", "death_accident", "death_illness",
    "hospital_traffic", "hospital_accident", "hospital_illness",
    "outpatient", "surgery", "advanced_care", "fracture", "support_per_day",
    "fire_building", "fire_goods", "natural_disaster",
    "bodily_injury_liability", "property_damage_liability", "personal_injury", "vehicle",
    "pension_yearly",
)
COVERAGE_LABELS = {
    "death_traffic": "死亡（交通事故）",
    "death_accident": "死亡（不慮の事故）",
    "death_illness": "死亡（病気）",
    "hospital_traffic": "入院日額（交通事故）",
    "hospital_accident": "入院日額（不慮の事故）",
    "hospital_illness": "入院日額（病気）",
    "outpatient": "通院日額",
    "surgery": "手術",
    "advanced_care": "先進医療",
    "fracture": "骨折",
    "support_per_day": "入院サポート日額",
    "fire_building": "火災（建物）",
    "fire_goods": "火災（家財）",
    "natural_disaster": "自然災害",
    "bodily_injury_liability": "対人賠償",
    "property_damage_liability": "対物賠償",
    "personal_injury": "人身傷害",
    "vehicle": "車両",
    "pension_yearly": "年金年額",
}
UNLIMITED_YEN = 0  # liability cover 無制限 is stored as 0 with is_unlimited


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(PRODUCT_KINDS)}", name="kind"),
        CheckConstraint(f"deduction_category IN {sql_in(DEDUCTION_CATEGORIES)}", name="deduction_category"),
        CheckConstraint("deduction_system IN ('new', 'old')", name="deduction_system"),
        CheckConstraint(f"premium_period IN {sql_in(PREMIUM_PERIODS)}", name="premium_period"),
        CheckConstraint("min_entry_age >= 0 AND max_entry_age >= min_entry_age", name="entry_ages"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    deduction_category: Mapped[str] = mapped_column(String(20))
    deduction_system: Mapped[str] = mapped_column(String(3), default="new")
    premium_period: Mapped[str] = mapped_column(String(7))
    min_entry_age: Mapped[int] = mapped_column(Integer, default=0)
    max_entry_age: Mapped[int] = mapped_column(Integer, default=120)
    max_cover_age: Mapped[int] = mapped_column(Integer, default=120)
    description: Mapped[str] = mapped_column(Text, default="")

    @property
    def deduction_label(self) -> str:
        return DEDUCTION_LABELS[self.deduction_category]


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(CONTRACT_STATUSES)}", name="status"),
        CheckConstraint(f"premium_period IN {sql_in(PREMIUM_PERIODS)}", name="premium_period"),
        CheckConstraint(f"payment_method IN {sql_in(PAYMENT_METHODS)}", name="payment_method"),
        CheckConstraint(f"certificate_status IN {sql_in(CERTIFICATE_STATUSES)}", name="certificate_status"),
        CheckConstraint("premium_yen >= 0 AND deductible_premium_yen >= 0", name="premium_non_negative"),
        CheckConstraint("deductible_premium_yen <= premium_yen", name="deductible_within_premium"),
        CheckConstraint("units > 0", name="units_positive"),
        CheckConstraint(f"property_structure IS NULL OR property_structure IN {sql_in(STRUCTURES)}",
                        name="property_structure"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(12), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    insured_person_id: Mapped[int] = mapped_column(ForeignKey("insured_persons.id"), index=True)
    units: Mapped[int] = mapped_column(Integer, default=1)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="in_force")
    premium_yen: Mapped[int] = mapped_column(Integer)
    # The part of the premium that counts for the product's deduction category:
    # all of it for life products, only the earthquake part for 住まいる共済.
    deductible_premium_yen: Mapped[int] = mapped_column(Integer, default=0)
    premium_period: Mapped[str] = mapped_column(String(7))
    payment_method: Mapped[str] = mapped_column(String(10), default="debit")
    debit_account_id: Mapped[int | None] = mapped_column(ForeignKey("debit_accounts.id"))
    property_postal_code: Mapped[str | None] = mapped_column(String(7))
    property_address: Mapped[str | None] = mapped_column(String(250))
    property_structure: Mapped[str | None] = mapped_column(String(8))
    certificate_status: Mapped[str] = mapped_column(String(10), default="shipped")
    certificate_shipped_on: Mapped[date | None] = mapped_column(Date)
    certificate_tracking_no: Mapped[str | None] = mapped_column(String(40))
    needs_rerating: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    product: Mapped[Product] = relationship()
    member: Mapped[Member] = relationship()
    insured_person: Mapped[InsuredPerson] = relationship()
    debit_account: Mapped[DebitAccount | None] = relationship()
    coverages: Mapped[list[Coverage]] = relationship(
        back_populates="contract", order_by="Coverage.id", cascade="all, delete-orphan"
    )
    premium_changes: Mapped[list[PremiumChange]] = relationship(
        back_populates="contract", order_by="PremiumChange.effective_from", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def masked_no(self) -> str:
        return mask_digits(self.contract_no)

    @property
    def status_label(self) -> str:
        return CONTRACT_STATUS_LABELS[self.status]

    @property
    def payment_method_label(self) -> str:
        return PAYMENT_METHOD_LABELS[self.payment_method]

    @property
    def certificate_arrival_on(self) -> date | None:
        """Expected arrival of a shipped certificate: 2 business days after shipping."""
        from portal.jp.dates import add_business_days

        if self.certificate_status != "shipped" or self.certificate_shipped_on is None:
            return None
        return add_business_days(self.certificate_shipped_on, 2)

    def is_in_force_on(self, day: date) -> bool:
        if self.status in ("lapsed", "ended"):
            return self.end_date is not None and self.start_date <= day < self.end_date
        return self.start_date <= day and (self.end_date is None or day < self.end_date)


class Coverage(Base):
    """One line of a contract's coverage table, for one band of the insured's age."""

    __tablename__ = "coverages"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(COVERAGE_KINDS)}", name="kind"),
        CheckConstraint("amount_yen >= 0", name="amount_non_negative"),
        CheckConstraint("age_from <= age_to", name="age_band"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    amount_yen: Mapped[int] = mapped_column(Integer)
    is_unlimited: Mapped[bool] = mapped_column(default=False)
    age_from: Mapped[int] = mapped_column(Integer, default=0)
    age_to: Mapped[int] = mapped_column(Integer, default=120)

    contract: Mapped[Contract] = relationship(back_populates="coverages")

    @property
    def label(self) -> str:
        return COVERAGE_LABELS[self.kind]


class PremiumChange(Base):
    """Premium history: each amount, from when, and why (the seed: tell me why it rose)."""

    __tablename__ = "premium_changes"
    __table_args__ = (CheckConstraint("premium_yen >= 0", name="premium_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    premium_yen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))

    contract: Mapped[Contract] = relationship(back_populates="premium_changes")


class PremiumAdjustment(Base):
    """A one-off refund (negative) or extra charge (positive) for the rest of a
    premium period, e.g. after re-rating a property; one per procedure."""

    __tablename__ = "premium_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    procedure_request_id: Mapped[int] = mapped_column(ForeignKey("procedure_requests.id"), unique=True)
    amount_yen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PremiumPayment(Base):
    __tablename__ = "premium_payments"
    __table_args__ = (
        CheckConstraint("amount_yen >= 0 AND deductible_yen >= 0", name="amount_non_negative"),
        CheckConstraint("status IN ('paid', 'unpaid')", name="status"),
        UniqueConstraint("contract_id", "period", name="uq_premium_payments_contract_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    period: Mapped[date] = mapped_column(Date)  # first day of the month (or year) paid for
    amount_yen: Mapped[int] = mapped_column(Integer)
    deductible_yen: Mapped[int] = mapped_column(Integer, default=0)
    paid_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(6), default="paid")
