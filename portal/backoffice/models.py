"""Who is working on a procedure right now (one person at a time)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime
from portal.staff.models import StaffUser


class WorkHold(Base):
    """A staff user holding a procedure. The primary key on the procedure makes a
    second holder impossible even when two claims race past the service's check."""

    __tablename__ = "work_holds"

    procedure_request_id: Mapped[int] = mapped_column(
        ForeignKey("procedure_requests.id", ondelete="CASCADE"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[StaffUser] = relationship(lazy="joined")
