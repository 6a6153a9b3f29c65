"""Lifestyle tips (暮らしのお役立ち情報): articles, their categories and revisions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, sql_in

TIP_STATUSES = ("draft", "scheduled", "published", "archived")
STATUS_LABELS = {"draft": "下書き", "scheduled": "公開予約", "published": "公開中", "archived": "アーカイブ"}
AUDIENCES = ("everyone", "children", "senior", "sumairu")
AUDIENCE_LABELS = {
    "everyone": "すべての組合員",
    "children": "18歳未満のお子さまがいるご家庭",
    "senior": "60歳以上の組合員",
    "sumairu": "住まいる共済にご加入の方",
}


class TipCategory(Base):
    __tablename__ = "tip_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    # ASCII code used in URLs (/tips?category=health); the name is what members read.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(30), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tip(Base):
    __tablename__ = "tips"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(TIP_STATUSES)}", name="status"),
        CheckConstraint(f"audience IN {sql_in(AUDIENCES)}", name="audience"),
        CheckConstraint("status <> 'scheduled' OR publish_at IS NOT NULL", name="scheduled_has_time"),
        Index("ix_tips_status_published_at", "status", "published_at"),
        Index("ix_tips_status_publish_at", "status", "publish_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    category_id: Mapped[int] = mapped_column(ForeignKey("tip_categories.id"), index=True)
    summary: Mapped[str] = mapped_column(String(300))
    body_md: Mapped[str] = mapped_column(Text)
    cover_key: Mapped[str | None] = mapped_column(String(120))
    cover_content_type: Mapped[str | None] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(10), default="everyone")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when scheduled
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    updated_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: two editors saving the same article cannot silently overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1)

    category: Mapped[TipCategory] = relationship(lazy="selectin")
    revisions: Mapped[list[TipRevision]] = relationship(
        back_populates="tip", order_by="TipRevision.number.desc()", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def audience_label(self) -> str:
        return AUDIENCE_LABELS[self.audience]

    @property
    def is_live(self) -> bool:
        return self.status == "published"


class TipRevision(Base):
    """A copy of the article as saved; any of them can be restored."""

    __tablename__ = "tip_revisions"
    __table_args__ = (UniqueConstraint("tip_id", "number", name="uq_tip_revisions_tip_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80))
    category_id: Mapped[int] = mapped_column(ForeignKey("tip_categories.id"))
    summary: Mapped[str] = mapped_column(String(300))
    body_md: Mapped[str] = mapped_column(Text)
    cover_key: Mapped[str | None] = mapped_column(String(120))
    cover_content_type: Mapped[str | None] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(String(100))
    saved_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tip: Mapped[Tip] = relationship(back_populates="revisions")
    category: Mapped[TipCategory] = relationship(lazy="selectin")
