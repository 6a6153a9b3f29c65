"""Claims (共済金請求) and 住まいる共済 damage reports, their lines, files, assessor
visits and payment runs.

A claim is also a procedure (ProcedureRequest of kind `claim` or `damage_report`):
its status, timeline and notices live there, so /requests shows it with nothing
new. The rows here hold what the procedure cannot: the event, the estimate and
assessment per benefit line, the payee account and the money out.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, sql_in
from portal.jp.masking import mask_account
from portal.members.models import ACCOUNT_TYPES
from portal.procedures.models import ProcedureRequest

CLAIM_KINDS = ("claim", "damage_report")
BENEFITS = ("hospital", "surgery", "outpatient", "fracture", "advanced_care")
BENEFIT_LABELS = {"hospital": "入院", "surgery": "手術", "outpatient": "通院", "fracture": "骨折",
                  "advanced_care": "先進医療"}
CAUSES = ("traffic", "accident", "illness")
CAUSE_LABELS = {"traffic": "交通事故", "accident": "不慮の事故", "illness": "病気"}
DAMAGE_CAUSES = ("fire", "lightning", "storm", "flood", "earthquake", "snow", "theft", "other")
DAMAGE_CAUSE_LABELS = {"fire": "火災", "lightning": "落雷", "storm": "風災・台風", "flood": "水害",
                       "earthquake": "地震", "snow": "雪害", "theft": "盗難", "other": "その他"}
# What a line pays: the claim benefits, a second daily amount of こども保障, and damage cover.
LINE_KINDS = BENEFITS + ("support", "fire_building", "fire_goods", "natural_disaster")
LINE_LABELS = {**BENEFIT_LABELS, "support": "入院サポート", "fire_building": "火災（建物）",
               "fire_goods": "火災（家財）", "natural_disaster": "自然災害"}
FILE_ROLES = ("member", "staff")
VISIT_STATUSES = ("proposed", "accepted", "declined")
RUN_STATUSES = ("draft", "sent", "cancelled")
RUN_STATUS_LABELS = {"draft": "未送信", "sent": "送信済み", "cancelled": "取消"}


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(CLAIM_KINDS)}", name="kind"),
        CheckConstraint(f"cause IS NULL OR cause IN {sql_in(CAUSES)}", name="cause"),
        CheckConstraint(f"damage_cause IS NULL OR damage_cause IN {sql_in(DAMAGE_CAUSES)}", name="damage_cause"),
        CheckConstraint("estimated_yen >= 0", name="estimated_non_negative"),
        CheckConstraint("approved_yen IS NULL OR approved_yen >= 0", name="approved_non_negative"),
        CheckConstraint("payee_account_type IS NULL OR payee_account_type IN (1, 2, 4)", name="payee_account_type"),
        Index("ix_claims_member_created", "member_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedure_requests.id", ondelete="CASCADE"), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(14))
    insured_person_id: Mapped[int | None] = mapped_column(ForeignKey("insured_persons.id"))
    # Medical claims: what happened and when (one event: one person, one cause, one first day).
    benefits: Mapped[str] = mapped_column(String(80), default="")  # comma-separated BENEFITS
    cause: Mapped[str | None] = mapped_column(String(10))
    first_day: Mapped[date] = mapped_column(Date)
    hospital_from: Mapped[date | None] = mapped_column(Date)
    hospital_to: Mapped[date | None] = mapped_column(Date)
    outpatient_dates: Mapped[str] = mapped_column(Text, default="")  # comma-separated ISO dates
    surgery_date: Mapped[date | None] = mapped_column(Date)
    surgery_name: Mapped[str | None] = mapped_column(String(100))
    is_surgery_in_hospital: Mapped[bool] = mapped_column(default=True)
    advanced_care_fee_yen: Mapped[int | None] = mapped_column(Integer)
    hospital_name: Mapped[str | None] = mapped_column(String(100))
    # 住まいる共済 damage reports.
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    damage_cause: Mapped[str | None] = mapped_column(String(12))
    description: Mapped[str | None] = mapped_column(Text)
    # Money.
    estimated_yen: Mapped[int] = mapped_column(Integer, default=0)
    approved_yen: Mapped[int | None] = mapped_column(Integer)
    needs_certificate: Mapped[bool] = mapped_column(default=False)
    documents_complete_on: Mapped[date | None] = mapped_column(Date)
    documents_message: Mapped[str | None] = mapped_column(String(500))
    first_approver_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    second_approver_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    paid_on: Mapped[date | None] = mapped_column(Date)
    # The payee, copied when the claim is made: later debit-account changes do not
    # move money already on its way. Shown masked; the full number only goes into
    # the transfer file.
    payee_bank_code: Mapped[str | None] = mapped_column(String(4))
    payee_bank_name: Mapped[str | None] = mapped_column(String(60))
    payee_branch_code: Mapped[str | None] = mapped_column(String(3))
    payee_branch_name: Mapped[str | None] = mapped_column(String(60))
    payee_account_type: Mapped[int | None] = mapped_column(Integer)
    payee_account_number: Mapped[str | None] = mapped_column(String(7))
    payee_holder_name: Mapped[str | None] = mapped_column(String(60))
    is_payee_debit_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    procedure: Mapped[ProcedureRequest] = relationship()
    lines: Mapped[list[ClaimLine]] = relationship(back_populates="claim", order_by="ClaimLine.id",
                                                  cascade="all, delete-orphan")
    files: Mapped[list[ClaimFile]] = relationship(back_populates="claim", order_by="ClaimFile.id",
                                                  cascade="all, delete-orphan")
    visits: Mapped[list[AssessorVisit]] = relationship(back_populates="claim", order_by="AssessorVisit.id",
                                                       cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def receipt_no(self) -> str:
        return self.procedure.receipt_no

    @property
    def status(self) -> str:
        return self.procedure.status

    @property
    def benefit_list(self) -> list[str]:
        return [b for b in self.benefits.split(",") if b]

    @property
    def outpatient_day_list(self) -> list[date]:
        return [date.fromisoformat(d) for d in self.outpatient_dates.split(",") if d]

    @property
    def payee_masked(self) -> str:
        if not self.payee_account_number:
            return "未登録"
        return mask_account(self.payee_bank_name or "", self.payee_branch_name or "",
                            ACCOUNT_TYPES.get(self.payee_account_type or 1, ""), self.payee_account_number)

    @property
    def total_yen(self) -> int:
        """What the claim pays as assessed so far (the estimate where not assessed)."""
        return sum(line.amount_yen for line in self.lines)


class ClaimLine(Base):
    """One benefit of one contract: days × daily amount, or a fixed sum, with limits."""

    __tablename__ = "claim_lines"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(LINE_KINDS)}", name="kind"),
        CheckConstraint("estimated_yen >= 0", name="estimated_non_negative"),
        CheckConstraint("assessed_yen IS NULL OR assessed_yen >= 0", name="assessed_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    kind: Mapped[str] = mapped_column(String(20))
    days: Mapped[int | None] = mapped_column(Integer)
    unit_yen: Mapped[int] = mapped_column(Integer, default=0)
    limit_yen: Mapped[int | None] = mapped_column(Integer)
    estimated_yen: Mapped[int] = mapped_column(Integer, default=0)
    assessed_yen: Mapped[int | None] = mapped_column(Integer)
    assess_reason: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(200))

    claim: Mapped[Claim] = relationship(back_populates="lines")

    @property
    def label(self) -> str:
        return LINE_LABELS[self.kind]

    @property
    def amount_yen(self) -> int:
        return self.estimated_yen if self.assessed_yen is None else self.assessed_yen


class ClaimFile(Base):
    """A document photo or PDF in private storage; the key is new, never the upload's name."""

    __tablename__ = "claim_files"
    __table_args__ = (CheckConstraint(f"uploaded_by IN {sql_in(FILE_ROLES)}", name="uploaded_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(100))
    uploaded_by: Mapped[str] = mapped_column(String(6), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="files")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class AssessorVisit(Base):
    """A 立会い調査 slot staff proposed for a damage report, and the member's answer."""

    __tablename__ = "assessor_visits"
    __table_args__ = (CheckConstraint(f"status IN {sql_in(VISIT_STATUSES)}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    member_note: Mapped[str | None] = mapped_column(String(300))
    proposed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="visits")


class PaymentRun(Base):
    """One 全銀協 総合振込 file of approved claims."""

    __tablename__ = "claim_payment_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(RUN_STATUSES)}", name="status"),
        CheckConstraint("total_count >= 0 AND total_yen >= 0", name="totals_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    storage_key: Mapped[str | None] = mapped_column(String(200))
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    total_yen: Mapped[int] = mapped_column(Integer, default=0)
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list[PaymentRunItem]] = relationship(back_populates="run", order_by="PaymentRunItem.id",
                                                       cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return RUN_STATUS_LABELS[self.status]


class PaymentRunItem(Base):
    """A claim in a run. The unique claim_id is what keeps a claim from being paid
    twice, even when two staff start runs at the same moment; a cancelled run
    deletes its items so the claims can go into the next one."""

    __tablename__ = "claim_payment_run_items"
    __table_args__ = (CheckConstraint("amount_yen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("claim_payment_runs.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), unique=True)
    amount_yen: Mapped[int] = mapped_column(Integer)

    run: Mapped[PaymentRun] = relationship(back_populates="items")
    claim: Mapped[Claim] = relationship()
