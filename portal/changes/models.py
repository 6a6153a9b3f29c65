"""Contract changes that outlive their procedure: who receives the death benefit,
who may claim for the member, and which cover-end notices went out."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, sql_in

DESIGNATION_STATUSES = ("pending", "active", "replaced", "withdrawn")

BENEFICIARY_RELATIONS = {
    "spouse": "配偶者", "child": "子", "parent": "父母", "grandchild": "孫", "grandparent": "祖父母",
    "sibling": "兄弟姉妹", "other_relative": "その他の親族",
}
# Proxy claimant (指定代理請求人): spouse, lineal relatives, siblings, or a relative
# within 3 degrees who lives with or is supported by the member.
PROXY_RELATIONS = {
    "spouse": "配偶者", "child": "子", "parent": "父母", "grandchild": "孫", "grandparent": "祖父母",
    "sibling": "兄弟姉妹", "relative3": "3親等内の親族（同居または生計を一にする方）",
}


def _designation_rules(table: str, owner: str, relations: dict[str, str]) -> tuple:
    """A designation's status and relation are from their lists, and an owner has at most
    one active designation at a time."""
    return (
        CheckConstraint(f"status IN {sql_in(DESIGNATION_STATUSES)}", name="status"),
        CheckConstraint(f"relation IN {sql_in(tuple(relations))}", name="relation"),
        Index(f"uq_{table}_active", owner, unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )


class BeneficiaryDesignation(Base):
    """A named death-benefit beneficiary of one contract; without an active row
    the order in the terms applies."""

    __tablename__ = "beneficiary_designations"
    __table_args__ = _designation_rules(__tablename__, "contract_id", BENEFICIARY_RELATIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    procedure_request_id: Mapped[int] = mapped_column(ForeignKey("procedure_requests.id", ondelete="CASCADE"),
                                                      unique=True)
    name: Mapped[str] = mapped_column(String(60))
    name_kana: Mapped[str] = mapped_column(String(120))
    relation: Mapped[str] = mapped_column(String(20))
    # The insured person's consent: their name as they typed it, and when.
    consent_name: Mapped[str] = mapped_column(String(60))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def relation_label(self) -> str:
        return BENEFICIARY_RELATIONS[self.relation]


class ProxyClaimant(Base):
    __tablename__ = "proxy_claimants"
    __table_args__ = _designation_rules(__tablename__, "member_id", PROXY_RELATIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    procedure_request_id: Mapped[int] = mapped_column(ForeignKey("procedure_requests.id", ondelete="CASCADE"),
                                                      unique=True)
    name: Mapped[str] = mapped_column(String(60))
    name_kana: Mapped[str] = mapped_column(String(120))
    relation: Mapped[str] = mapped_column(String(20))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def relation_label(self) -> str:
        return PROXY_RELATIONS[self.relation]


class CoverEndNotice(Base):
    """One notice per contract before its cover ends at the product's cover age."""

    __tablename__ = "cover_end_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), unique=True)
    cover_ends_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
