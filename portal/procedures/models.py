"""Procedures (手続き): everything a member starts, with a visible status."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ColumnElement, Date, ForeignKey, Index, Integer, String, Text, and_, not_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, in_constants, sql_in
from portal.procedures.wording import STATUS_LABELS, status_label

PROCEDURE_KINDS = (
    "address_change", "phone_change", "email_change", "bank_account_change",
    "certificate_mail", "certificate_pdf", "enrollment", "shop_order", "subscription",
    "notification_settings",
    # Claims, back office, contract changes and requests taken by staff.
    "claim", "damage_report", "paper_forms", "contract_certificate", "property_rerating",
    "name_change", "cancellation", "cooling_off", "withdrawal", "beneficiary_change",
    "proxy_claimant", "contract_change", "inquiry", "other",
)
KIND_LABELS = {
    "address_change": "住所変更",
    "phone_change": "電話番号変更",
    "email_change": "メールアドレス変更",
    "bank_account_change": "振替口座変更",
    "certificate_mail": "共済掛金証明書の再発行（郵送）",
    "certificate_pdf": "共済掛金証明書の再発行（PDF）",
    "enrollment": "こくみん共済 加入申込",
    "shop_order": "健康チェックキットのご注文",
    "subscription": "健康チェッカー定期コース",
    "notification_settings": "お知らせ方法の変更",
    "claim": "共済金のご請求",
    "damage_report": "住まいる共済 損害のご報告",
    "paper_forms": "請求書類（書面）のご請求",
    "contract_certificate": "共済契約証書の発行",
    "property_rerating": "住まいる共済 掛金改定",
    "name_change": "氏名変更",
    "cancellation": "解約",
    "cooling_off": "クーリング・オフ",
    "withdrawal": "脱退",
    "beneficiary_change": "死亡共済金受取人の変更",
    "proxy_claimant": "指定代理請求人の指定",
    "contract_change": "ご契約内容の変更",
    "inquiry": "お問い合わせ",
    "other": "その他のお手続き",
}
# Status codes are stored; members see the Japanese label (portal/procedures/wording.py).
STATUSES = tuple(STATUS_LABELS)
OPEN_STATUSES = ("received", "reviewing", "under_review", "awaiting_payment", "paid", "active",
                 "checking_documents", "awaiting_documents", "preparing_shipment", "visit_proposed",
                 "visit_scheduled")
# Statuses that end a procedure of one kind although they leave others open: a paid
# kit order still waits for shipping, a paid claim is finished.
FINAL_FOR_KIND = {"claim": ("paid",)}


def is_open_status(kind: str, status: str) -> bool:
    return status in OPEN_STATUSES and status not in FINAL_FOR_KIND.get(kind, ())


class ProcedureRequest(Base):
    __tablename__ = "procedure_requests"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(PROCEDURE_KINDS)}", name="kind"),
        CheckConstraint(f"status IN {sql_in(STATUSES)}", name="status"),
        Index("ix_procedure_requests_member_created", "member_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(16), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="received")
    summary: Mapped[str] = mapped_column(String(300))
    effective_date: Mapped[date | None] = mapped_column(Date)
    # A form's one-time token: a double click or a resent form finds the first row.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Staff acting for the member, when it was them who started it.
    made_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON the owning feature reads; masked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    events: Mapped[list[ProcedureEvent]] = relationship(
        back_populates="request", order_by="ProcedureEvent.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        return status_label(self.kind, self.status)

    @hybrid_property
    def is_open(self) -> bool:
        return is_open_status(self.kind, self.status)

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> ColumnElement[bool]:
        # Constant lists (in_constants): My Page and the queues run this on every request.
        return and_(in_constants(cls.status, OPEN_STATUSES),
                    *(not_(and_(cls.kind == kind, in_constants(cls.status, final)))
                      for kind, final in FINAL_FOR_KIND.items()))


class ProcedureEvent(Base):
    __tablename__ = "procedure_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("procedure_requests.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[ProcedureRequest] = relationship(back_populates="events")

    @property
    def status_label(self) -> str:
        return status_label(self.request.kind, self.status)
