"""Issued premium certificates (共済掛金証明書): one row per PDF generated."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import Base, UTCDateTime


class CertificateIssue(Base):
    __tablename__ = "certificate_issues"
    __table_args__ = (
        CheckConstraint("year >= 2000", name="year"),
        CheckConstraint("certified_total_yen >= 0 AND expected_total_yen >= certified_total_yen", name="totals"),
        Index("ix_certificate_issues_member_year", "member_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(ForeignKey("procedure_requests.id", ondelete="CASCADE"),
                                            unique=True)
    year: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    # Printed on the certificate so the co-op can confirm a copy is genuine.
    verification_no: Mapped[str] = mapped_column(String(20), unique=True)
    storage_key: Mapped[str] = mapped_column(String(200))
    certified_total_yen: Mapped[int] = mapped_column(Integer)
    expected_total_yen: Mapped[int] = mapped_column(Integer)
    lines_json: Mapped[str] = mapped_column(Text)  # what was printed, line by line
    made_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
