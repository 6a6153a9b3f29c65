"""Help: the FAQ cs staff maintain, and inquiry threads answered in the portal."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, sql_in

INQUIRY_TOPICS = {
    "contract": "ご契約・保障について", "claim": "共済金のご請求について", "procedure": "お手続きについて",
    "payment": "掛金のお支払いについて", "mypage": "マイページの使い方", "other": "その他",
}


class FaqEntry(Base):
    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(200))
    answer_markdown: Mapped[str] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    is_published: Mapped[bool] = mapped_column(default=True)
    updated_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Inquiry(Base):
    """One question from a member; its status is its procedure's (kind inquiry)."""

    __tablename__ = "inquiries"
    __table_args__ = (CheckConstraint(f"topic IN {sql_in(tuple(INQUIRY_TOPICS))}", name="topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    procedure_request_id: Mapped[int] = mapped_column(ForeignKey("procedure_requests.id", ondelete="CASCADE"),
                                                      unique=True)
    topic: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(100))
    response_due_on: Mapped[date] = mapped_column(Date)
    is_waiting_for_staff: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    messages: Mapped[list[InquiryMessage]] = relationship(
        back_populates="inquiry", order_by="InquiryMessage.id", cascade="all, delete-orphan")

    @property
    def topic_label(self) -> str:
        return INQUIRY_TOPICS[self.topic]


class InquiryMessage(Base):
    __tablename__ = "inquiry_messages"
    __table_args__ = (CheckConstraint("(author_staff_id IS NULL) <> (author_member_id IS NULL)", name="one_author"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    author_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    body: Mapped[str] = mapped_column(Text)
    # A one-time form token: a double click posts one message.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inquiry: Mapped[Inquiry] = relationship(back_populates="messages")

    @property
    def is_from_staff(self) -> bool:
        return self.author_staff_id is not None
