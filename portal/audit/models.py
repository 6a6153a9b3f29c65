"""The append-only audit log: who, as whom, did what, to what, when, from where."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.clock import utcnow
from portal.db import Base, UTCDateTime


class AuditLog(Base):
    """Who, as whom, did what, to what, when, from where. Never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint("actor_type IN ('member', 'staff', 'system', 'anonymous')", name="actor_type"),
        Index("ix_audit_log_staff_time", "actor_staff_id", "occurred_at"),
        Index("ix_audit_log_member_time", "acting_as_member_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(10))
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The member whose data is touched: the member themself, or the one a staff user acts for.
    acting_as_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON, already masked
    ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(32))


# --- append-only audit log ------------------------------------------------------
# The application may only add audit rows. Mapper events stop an ORM update or
# delete of a loaded row; the session event stops bulk UPDATE/DELETE statements
# aimed at the table through the ORM (session.execute(update(AuditLog)...)).
class AuditLogImmutableError(RuntimeError):
    """Raised when code tries to change or remove an audit row."""


@event.listens_for(AuditLog, "before_update")
def _refuse_audit_update(_mapper, _connection, target: AuditLog) -> None:
    raise AuditLogImmutableError(f"audit log rows are append-only (row {target.id})")


@event.listens_for(AuditLog, "before_delete")
def _refuse_audit_delete(_mapper, _connection, target: AuditLog) -> None:
    raise AuditLogImmutableError(f"audit log rows are append-only (row {target.id})")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_arguments.get("mapper")
    table = getattr(state.statement, "table", None)
    if (mapper is not None and mapper.class_ is AuditLog) or getattr(table, "name", None) == "audit_log":
        raise AuditLogImmutableError("audit log rows are append-only (bulk update/delete refused)")
